#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""What sales users and the nightly job feel: latency of the module.

Usage (from the repository root, Odoo 18 importable, on a database filled by
``bench/generate.py``)::

    python3 bench/user_latency.py --db ct_bench_large --runs 3
    python3 bench/user_latency.py --db ct_bench_large --runs 3 --only c,confirm

Sibling of ``bench/benchmark.py``, with the same discipline: every run works
in one transaction that is rolled back at its end, on a vacuumed database
(``bench/_common.vacuum``), from cold ORM caches; figures are the medians of
``--runs`` runs; ratios are taken within one run; each figure is printed
with its target and PASS or MISS. Exit status 0 whatever the figures.

Measurements (one function each, ``MEASUREMENTS`` lists them with their
targets, in the order they run; ``--only`` picks some):

(e)  ``cron``: the scheduled recompute in its batches, as
     ``_cron_recompute`` calls it (``program._engine().run(batch_size=...)``
     until nothing remains): the next day's evaluation over the profiles of
     a full evaluation (untimed, in batches too) of the day before; after
     each call the ORM caches are emptied, as the cron runner's commit
     empties them (untimed). Total
     and per call (first call, median and slowest of the later calls),
     queries, the growth of the peak RSS of this process during the calls,
     and the peak RSS of the calls themselves (``VmHWM`` reset before them:
     what the process held before them counts, not what it peaked at).
(c)  ``refresh``: the refresh of one customer
     (``program._engine().refresh_partners([customer])``) after an order of
     the customer is confirmed (not timed): time and SQL queries, for a
     random customer and for the customer with the most orders.
(confirm) ``confirm``: ``sale.order.action_confirm()`` of the same draft
     order of a customer with a profile, with the module's hooks and without
     them, each in a savepoint rolled back after it. The switch: the
     module's order hook ``sale.order._refresh_customer_tiers`` (what
     ``action_confirm`` and ``_action_cancel`` add) is replaced by a no-op for
     the "without" measure; the rest of Odoo's confirmation is the same.
     One confirmation with the hooks first, untimed (what a process loads
     once), then the two measures, in an order that alternates between
     runs. Printed: both
     times, both query counts, the delta (time and queries).

Before the measurements of each run but (e), a full evaluation of the
evaluation date (untimed) writes every profile, then the profile and history
tables are analysed, as on a live database.

Adding a measurement: write a method ``measure_<name>(self, ctx)`` on
:class:`LatencyBench` that returns ``{key: value}`` (seconds, queries...),
add its row(s) to ``MEASUREMENTS`` and its targets to ``TARGETS``.
"""

import gc
import random
import statistics
import sys
import time
from contextlib import contextmanager, suppress
from datetime import date, timedelta

from _common import new_parser, setup_odoo
from benchmark import Bench, Measure, current_rss_mb, peak_rss_mb


def reset_peak_rss():
    """Reset the RSS high-water mark of this process (Linux), so that
    :func:`calls_peak_rss_mb` gives the peak of what runs after."""
    with suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def calls_peak_rss_mb():
    """The RSS high-water mark (``VmHWM``) since :func:`reset_peak_rss`."""
    with suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


# Target of each figure: (comparison, bound, text). A figure is a key of the
# per-run results (medians are compared).
TARGETS = {
    "c": ("<", 0.050, "< 50 ms"),
    "c_big": ("<", 0.050, "< 50 ms"),
    "confirm_delta": ("<=", 0.020, "<= +20 ms"),
    "e_call_max": ("<=", None, "later calls bounded (report)"),
}
# Measurements in the order they run: (name, method, needs a full run first)
MEASUREMENTS = (
    ("cron", "measure_cron", False),
    ("c", "measure_refresh", True),
    ("confirm", "measure_confirm", True),
)


def parse_args(argv):
    parser = new_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--eval-date",
        type=date.fromisoformat,
        help="evaluation date (default: today in the user's timezone)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated measurements to run among "
        + ",".join(name for name, _m, _f in MEASUREMENTS),
    )
    return parser.parse_args(argv)


@contextmanager
def without_tier_hooks(env):
    """The module's order hook off: ``sale.order._refresh_customer_tiers``
    does nothing (the switch of the "without the module" confirmation)."""
    cls = type(env["sale.order"])
    saved = cls.__dict__.get("_refresh_customer_tiers")
    cls._refresh_customer_tiers = lambda self: None
    try:
        yield
    finally:
        if saved is None:
            del cls._refresh_customer_tiers
        else:
            cls._refresh_customer_tiers = saved


class LatencyBench(Bench):
    def __init__(self, registry, args):
        args.skip = "r,b2,e"  # (Bench's own parts: none of them here)
        super().__init__(registry, args)
        only = {s.strip() for s in args.only.split(",") if s.strip()}
        self.measurements = [m for m in MEASUREMENTS if not only or m[0] in only]

    # ------------------------------------------------------------------
    def add(self, values):
        for key, value in values.items():
            self.results[key].append(value)

    def evaluated(self, env, program, eval_date, batch_size=None):
        """A full evaluation (untimed; in batches of ``batch_size``, to the
        end), then the planner statistics as after a committed run."""
        while program._engine().run(eval_date=eval_date, batch_size=batch_size)[
            "remaining"
        ]:
            self.committed(env)
        env.flush_all()
        env.cr.execute("ANALYZE customer_tier_profile, customer_tier_history")
        self.cold(env)
        return self.program(env)[0]

    @staticmethod
    def committed(env):
        """What the cron runner's commit after each call does to the ORM
        (its caches emptied), the transaction going on."""
        env.flush_all()
        env.transaction.clear()

    # ------------------------------------------------------------------
    def measure_cron(self, ctx):
        """(e): the next day's scheduled recompute, batch by batch."""
        env, program, eval_date = ctx["env"], ctx["program"], ctx["eval_date"]
        # (the day before in batches as well: the process then holds what a
        # cron worker holds before the calls, not what one unbatched
        # evaluation of a large company left allocated)
        program = self.evaluated(
            env, program, eval_date - timedelta(days=1), program.batch_size
        )
        gc.collect()
        calls = []
        queries = 0
        rss_before = peak_rss_mb()
        reset_peak_rss()
        current_before = current_rss_mb()
        current_peak = current_before
        with Measure(env) as total:
            while True:
                with Measure(env) as call:
                    result = program._engine().run(
                        eval_date=eval_date, batch_size=program.batch_size
                    )
                    env.flush_all()
                calls.append(call.seconds)
                queries += call.queries
                current_peak = max(current_peak, current_rss_mb())
                self.committed(env)
                if not result["remaining"]:
                    break
        later = calls[1:] or calls
        self.notes["e_calls"] = len(calls)
        self.notes["e_batch"] = program.batch_size
        return {
            "e": total.seconds,
            "e_cpu": total.cpu,
            "e_queries": queries,
            "e_first": calls[0],
            "e_call_median": statistics.median(later),
            "e_call_max": max(later),
            "e_peak_rss": peak_rss_mb(),
            "e_peak_rss_growth": peak_rss_mb() - rss_before,
            "e_current_growth": current_peak - current_before,
            "e_calls_peak_rss": calls_peak_rss_mb(),
        }

    def measure_refresh(self, ctx):
        """(c): one customer's refresh, a random one and the largest."""
        env, program, eval_date = ctx["env"], ctx["program"], ctx["eval_date"]
        rng = ctx["rng"]
        small = self.refresh(env, program, eval_date, rng)
        big = self.refresh(env, program, eval_date, rng, largest=True)
        self.notes["c_orders"] = small.orders
        self.notes["c_big_orders"] = big.orders
        return {
            "c": small.seconds,
            "c_cpu": small.cpu,
            "c_queries": small.queries,
            "c_big": big.seconds,
            "c_big_cpu": big.cpu,
            "c_big_queries": big.queries,
        }

    def confirm_once(self, env, order, hooks):
        """Confirm ``order`` in a savepoint rolled back after it (with or
        without the module's hooks); None when the order can't be
        confirmed."""
        from odoo.exceptions import UserError

        env.invalidate_all()
        savepoint = env.cr.savepoint(flush=True)
        try:
            if hooks:
                with Measure(env) as m:
                    order.action_confirm()
                    env.flush_all()
            else:
                with without_tier_hooks(env), Measure(env) as m:
                    order.action_confirm()
                    env.flush_all()
        except UserError:
            m = None
        finally:
            savepoint.close(rollback=True)
            env.invalidate_all()
        return m

    def measure_confirm(self, ctx):
        """Confirmation with vs without the module's hooks, same order."""
        env, program, rng = ctx["env"], ctx["program"], ctx["rng"]
        first_with = ctx["index"] % 2 == 0
        for order_id, _partner, count in self.pick_draft(env, program, rng):
            order = env["sale.order"].browse(order_id)
            # (untimed: what the first confirmation of a process loads)
            if not self.confirm_once(env, order, True):
                continue
            done = {}
            for hooks in (first_with, not first_with):
                done[hooks] = self.confirm_once(env, order, hooks)
            if all(done.values()):
                on, off = done[True], done[False]
                self.notes["confirm_orders"] = count + 1
                return {
                    "confirm_with": on.seconds,
                    "confirm_with_queries": on.queries,
                    "confirm_without": off.seconds,
                    "confirm_without_queries": off.queries,
                    "confirm_delta": on.seconds - off.seconds,
                    "confirm_delta_queries": on.queries - off.queries,
                }
        raise RuntimeError("No draft order could be confirmed.")

    # ------------------------------------------------------------------
    def run(self, index):
        rng = random.Random(self.args.seed + index)
        line = []
        for name, method, needs_profiles in self.measurements:
            with self.trial() as (env, program, eval_date):
                if needs_profiles:
                    program = self.evaluated(env, program, eval_date)
                ctx = {
                    "env": env,
                    "program": program,
                    "eval_date": eval_date,
                    "rng": rng,
                    "index": index,
                }
                start = time.perf_counter()
                values = getattr(self, method)(ctx)
                self.add(values)
                line.append(f"{name} {time.perf_counter() - start:.1f} s")
        print(f"run {index + 1}: " + ", ".join(line), flush=True)

    def med(self, key):
        values = self.results.get(key)
        return statistics.median(values) if values else None

    def verdict(self, key):
        target = TARGETS.get(key)
        value = self.med(key)
        if not target or value is None or target[1] is None:
            return ""
        op, bound, text = target
        ok = value < bound if op == "<" else value <= bound
        return f"{'PASS' if ok else 'MISS'} (target {text})"

    def report(self):
        med, notes = self.med, self.notes
        print(f"\n== medians of {self.args.runs} runs ==")

        def ms(key):
            return f"{med(key) * 1000:8.1f} ms"

        if med("e") is not None:
            print(
                f"(e) scheduled recompute: {notes['e_calls']} calls of "
                f"{notes['e_batch']:,}: total {med('e'):.2f} s (cpu "
                f"{med('e_cpu'):.2f} s), {med('e_queries'):.0f} queries; first "
                f"call {med('e_first'):.2f} s, later calls median "
                f"{med('e_call_median'):.2f} s / slowest {med('e_call_max'):.2f} s"
            )
            print(
                f"    peak RSS {med('e_peak_rss'):.0f} MB (growth during the "
                f"calls: peak {med('e_peak_rss_growth'):.0f} MB, current "
                f"{med('e_current_growth'):.0f} MB); peak RSS of the calls "
                f"{med('e_calls_peak_rss'):.0f} MB"
            )
        if med("c") is not None:
            print(
                f"(c)  refresh one customer ({notes['c_orders']} orders): "
                f"{ms('c')} (cpu {ms('c_cpu').strip()}), "
                f"{med('c_queries'):.0f} queries  {self.verdict('c')}"
            )
            print(
                f"(c') refresh the largest ({notes['c_big_orders']} orders): "
                f"{ms('c_big')} (cpu {ms('c_big_cpu').strip()}), "
                f"{med('c_big_queries'):.0f} queries  {self.verdict('c_big')}"
            )
        if med("confirm_with") is not None:
            print(
                f"confirm with the module: {ms('confirm_with')}, "
                f"{med('confirm_with_queries'):.0f} queries; without its hooks: "
                f"{ms('confirm_without')}, {med('confirm_without_queries'):.0f} "
                f"queries"
            )
            print(
                f"confirm delta: {ms('confirm_delta')}, "
                f"+{med('confirm_delta_queries'):.0f} queries  "
                f"{self.verdict('confirm_delta')}"
            )
        print("\nper run:")
        for key in sorted(self.results):
            values = " ".join(f"{v:.4g}" for v in self.results[key])
            print(f"  {key:<28} {values}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    registry = setup_odoo(args)
    bench = LatencyBench(registry, args)
    bench.describe()
    bench.warm_up()
    for index in range(args.runs):
        bench.run(index)
    bench.report()


if __name__ == "__main__":
    main()
