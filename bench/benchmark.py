#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""Time the tier engine against the SQL floor and a typical ORM loop.

Usage (from the repository root, Odoo 18 importable, on a database filled by
``bench/generate.py``)::

    python3 bench/benchmark.py --db ct_bench_small --runs 3
    python3 bench/benchmark.py --db ct_bench_large --runs 3 --profile

Each run opens a new cursor and environment with all ORM caches cleared, then
times, on the main company's tier program:

(a)  the floor: the engine's own aggregate (``TierEngine.aggregate_query``, one
     SQL statement over the confirmed orders) fetched into Python, plus one
     bulk upsert (``INSERT ... SELECT unnest(...) ON CONFLICT DO UPDATE``) of
     the same rows into a scratch table;
(b)  the module's full recompute ``program._engine().run()`` from a cold cache
     (figures, tiers, profiles, history, chatter, partner tier, side effects
     of the installed features), one call without batches;
(c)  the refresh of one customer after an order confirmation: a draft order
     is confirmed with ``action_confirm()`` (not timed; it refreshes the
     customer itself), then ``program._engine().refresh_partners([customer])``
     is timed and its SQL queries counted; also on the largest customer;
(d)  the typical module: for a random sample of ``--sample`` customers, search
     the confirmed orders of each (``child_of`` the customer) through the ORM,
     read their amounts, convert by ``currency_rate``, compute the same
     figures and ``write`` them on the customer's profile; extrapolated to
     every customer (the time of the sample x customers / sample);

(b2) the next day's full recompute over the profiles (b) wrote (update path,
     grace counting; the orders are those of (b), plus the two (c) confirmed,
     and the 1,000 profiles (d) wrote by the ORM are written again);
(b3) the day after, once 1 % of the customers (with a profile) got one new
     confirmed order dated that day (untimed setup: a copy, in SQL, of each
     one's latest confirmed order and of its lines);

and, for information: (r) Odoo's ``sale.report`` grouped by customer, and (e)
the scheduled recompute (``program.batch_size`` per call, as
``_cron_recompute`` does: the first call ranks the company, the later ones
read their batch's scores from its ranking snapshot) until done.

State: every run works in one transaction that is rolled back at its end, so
all runs start from the generated data (no profile yet: (b) is the first full
evaluation, which writes every profile and its initial history row); (e) runs
after rolling back to a savepoint taken before (b). Nothing is committed.
Before each run the tables a run writes (and any table with dead rows) get a
``VACUUM (ANALYZE)``: rolled-back rows are dead rows, and without autovacuum
each run would otherwise be slower than the one before. After (b), the
profile and history tables are analysed inside the transaction so that (c),
(d) and (b2) are planned as on a database whose profiles exist. The orders
are read once, untimed, before the first run (warm PostgreSQL buffers).

Printed: per-run times and medians, wall clock and CPU (this process plus
its PostgreSQL backend, read from /proc; parallel query workers are not
counted); the ratios (b)/(a), (d)/(b), (b2)/(a), (b3)/(a), (e)/(a) against
their targets, with PASS or MISS (``TARGETS``: (b) at most 4 times (a), (b2) 2
times, (b3) 2.5 times, (e) 3 times, (d) at least 20 times (b); (c) under 50
ms, also for the largest customer; the process under 400 MB); the SQL query
counts (``odoo.sql_db.sql_counter``); and the peak RSS of the process
(``resource.getrusage``) after loading the registry, after each step of the
first run (which step raised it) and at the end. ``--profile`` then shows
where the time of (b) goes: the exclusive Python and SQL time of each engine
phase and of each engine feature's hook, the same for (c), the core engine
alone (no engine feature), a cProfile listing and the slowest statements.

Exit status: 0 whatever the figures (it measures, it does not gate).
"""

import cProfile
import io
import os
import pstats
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, timedelta

from _common import new_parser, setup_odoo, vacuum

TARGETS = {
    "b_over_a": 4.0,  # (b) within 4x of (a)
    "b2_over_a": 2.0,  # (b2), nothing changed, within 2x of (a)
    "b3_over_a": 2.5,  # (b3), 1 % of customers with a new order, within 2.5x
    "e_over_a": 3.0,  # (e) within 3x of (a)
    "d_over_b": 20.0,  # (d) at least 20x (b)
    "c_seconds": 0.050,  # (c) under 50 ms
    "rss_mb": 400.0,  # process under 400 MB
}


def parse_args(argv):
    parser = new_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--sample", type=int, default=1000, help="customers of the loop (d)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--eval-date",
        type=date.fromisoformat,
        help="evaluation date (default: today in the user's timezone)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip among r,b2,b3,e (e.g. --skip r,e)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the runs, profile one (b) with cProfile and SQL timings",
    )
    return parser.parse_args(argv)


def peak_rss_mb():
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb():
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 1024.0 / 1024.0
    except OSError:
        return float("nan")


def queries():
    from odoo import sql_db

    return sql_db.sql_counter


def backend_cpu(cr):
    """CPU seconds used so far by the PostgreSQL backend of ``cr`` (read from
    /proc: the server runs on this machine), or None when not readable."""
    try:
        pid = cr._cnx.get_backend_pid()
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, ValueError, IndexError):
        return None


class Measure:
    """Time a block (wall clock, and CPU of this process plus of its
    PostgreSQL backend) and count its SQL queries.

    The CPU time is what the block costs whatever else runs on the machine:
    on the shared 2-core machines here, wall times vary with the load of the
    other processes, CPU times much less.
    """

    def __init__(self, env):
        self.env = env

    def __enter__(self):
        self.queries = queries()
        self.server = backend_cpu(self.env.cr)
        self.client = time.process_time()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.client = time.process_time() - self.client
        server = backend_cpu(self.env.cr)
        self.server = (
            server - self.server
            if server is not None and self.server is not None
            else float("nan")
        )
        self.cpu = self.client + self.server
        self.queries = queries() - self.queries
        return False


ENGINE_PHASES = (
    "plan",
    "_figures",
    "_score_full",
    "_score_incremental",
    "_score_snapshot",
    "_score_scan",
    "_write_ranking",
    "_load_state",
    "_prospect_ids",
    "_keep_amounts",
    "computed_tier",
    "_assign",
    "write_profiles",
    "write_changes",
    "sync_partner_tiers",
)
# Hooks of the engine features (customer_tier_engine.EngineFeature).
HOOKS = ("extend_figures", "before_write", "after_write")
# Tables a run writes (vacuumed before each run, with any other dead rows).
WRITTEN_TABLES = (
    "customer_tier_profile",
    "customer_tier_history",
    "res_partner",
    "sale_order",
    "sale_order_line",
    "mail_message",
    "mail_activity",
    "mail_followers",
)


class Phases:
    """Exclusive Python and SQL time of the engine's phases and of each
    engine feature's hooks (wrappers installed temporarily)."""

    def __init__(self):
        self.stack = []
        self.stats = defaultdict(lambda: [0, 0.0, 0.0])  # calls, python, sql

    def wrap(self, name, func):
        phases = self

        def wrapper(*args, **kwargs):
            phases.stack.append([name, time.perf_counter(), 0.0, 0.0])
            try:
                return func(*args, **kwargs)
            finally:
                _name, start, nested, sql = phases.stack.pop()
                elapsed = time.perf_counter() - start
                stat = phases.stats[name]
                stat[0] += 1
                stat[1] += elapsed - nested - sql
                stat[2] += sql
                if phases.stack:
                    phases.stack[-1][2] += elapsed

        return wrapper

    @contextmanager
    def installed(self, program):
        from odoo import sql_db

        from odoo.addons.customer_tier.models import customer_tier_engine

        engine_cls = customer_tier_engine.TierEngine
        saved = []
        for name in ENGINE_PHASES:
            if name in engine_cls.__dict__:
                attr = engine_cls.__dict__[name]
                func = attr.__func__ if isinstance(attr, staticmethod) else attr
                wrapped = self.wrap(f"engine.{name}", func)
                if isinstance(attr, staticmethod):
                    wrapped = staticmethod(wrapped)
                saved.append((engine_cls, name, attr))
                setattr(engine_cls, name, wrapped)
        for cls in program._engine_features():
            for name in HOOKS:
                if name in cls.__dict__:
                    label = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
                    saved.append((cls, name, cls.__dict__[name]))
                    setattr(cls, name, self.wrap(label, cls.__dict__[name]))
        history_cls = type(program.env["customer.tier.history"])
        for cls in history_cls.__mro__:
            attr = cls.__dict__.get("_post_tier_notes")
            if attr is not None:
                saved.append((cls, "_post_tier_notes", attr))
                cls._post_tier_notes = self.wrap("history.post_messages", attr)
        original = sql_db.Cursor.execute
        phases = self

        def execute(cursor, query, params=None, log_exceptions=True):
            start = time.perf_counter()
            try:
                return original(cursor, query, params, log_exceptions)
            finally:
                if phases.stack:
                    phases.stack[-1][3] += time.perf_counter() - start

        sql_db.Cursor.execute = execute
        try:
            yield self
        finally:
            sql_db.Cursor.execute = original
            for cls, name, attr in reversed(saved):
                setattr(cls, name, attr)

    def print(self, total, label):
        accounted = sum(p + q for _c, p, q in self.stats.values())
        print(f"\n== phases of {label}: {total:.3f} s (exclusive times) ==")
        print(f"{'phase':<58} {'calls':>6} {'python':>8} {'sql':>8}")
        for name, (calls, python, sql) in sorted(
            self.stats.items(), key=lambda kv: -(kv[1][1] + kv[1][2])
        ):
            if python + sql >= 0.0005:
                print(f"{name:<58} {calls:6d} {python:8.3f} {sql:8.3f}")
        print(
            f"{'(outside the phases: run(), flush)':<58} {'':6} "
            f"{total - accounted:8.3f}"
        )


@contextmanager
def core_only(program):
    """Run the engine without its features (no feature hooks, no feature
    columns)."""
    program_cls = type(program)
    saved = program_cls.__dict__.get("_engine_features")
    program_cls._engine_features = lambda self: []
    try:
        yield
    finally:
        if saved is None:
            del program_cls._engine_features
        else:
            program_cls._engine_features = saved


class Bench:
    def __init__(self, registry, args):
        self.registry = registry
        self.args = args
        self.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
        self.results = defaultdict(list)
        self.notes = {}
        self.rss_steps = {}

    # ------------------------------------------------------------------
    def env(self, cr):
        import odoo

        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})

    def cold(self, env):
        """Empty the ORM caches: records of the transaction and ormcaches."""
        env.invalidate_all()
        env.transaction.clear()
        self.registry.clear_all_caches()

    @contextmanager
    def trial(self, cold=True):
        """One rolled-back transaction on the vacuumed database (the dead rows
        of an earlier rolled-back trial would slow this one): yields (env,
        program, eval_date), the ORM caches emptied first unless not ``cold``.
        """
        vacuum(self.args.db, WRITTEN_TABLES)
        cr = self.registry.cursor()
        try:
            env = self.env(cr)
            if cold:
                self.cold(env)
            program, eval_date = self.program(env)
            yield env, program, eval_date
        finally:
            cr.rollback()
            cr.close()

    def program(self, env):
        from odoo.fields import Date

        company = env.ref("base.main_company")
        program = env["customer.tier.program"].search(
            [("company_id", "=", company.id)], limit=1
        )
        if not program:
            sys.exit(f"No tier program for {company.name}.")
        eval_date = self.args.eval_date or Date.context_today(program)
        return program, eval_date

    def describe(self):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            program, eval_date = self.program(env)
            cr.execute(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'sale') "
                "FROM sale_order WHERE company_id = %s",
                [program.company_id.id],
            )
            orders, confirmed = cr.fetchone()
            cr.execute("SELECT COUNT(*) FROM sale_order_line")
            lines = cr.fetchone()[0]
            cr.execute(
                "SELECT COUNT(*) FROM customer_tier_profile WHERE company_id = %s",
                [program.company_id.id],
            )
            profiles = cr.fetchone()[0]
            prospects = len(program._engine()._prospect_ids())
            self.notes.update(
                orders=orders, confirmed=confirmed, lines=lines, profiles=profiles
            )
            print(
                f"Database {self.args.db}: {orders:,} orders "
                f"({confirmed:,} confirmed), "
                f"{lines:,} lines, {prospects:,} prospects without a profile, "
                f"{profiles:,} profiles before the runs"
            )
            print(
                f"Program {program.name!r} (method {program.method}, window "
                f"{program.window_months} months, batch {program.batch_size}), "
                f"evaluation date {eval_date}"
            )
            cr.rollback()

    # ------------------------------------------------------------------
    def floor(self, env, engine, eval_date):
        from odoo.tools import SQL

        cr = env.cr
        cr.execute(
            """
            CREATE TABLE bench_floor_scratch (
                partner_id int, company_id int, order_count int, revenue numeric,
                margin numeric, first_order_date date, last_order_date date,
                order_count_window int, revenue_window numeric,
                margin_window numeric, PRIMARY KEY (partner_id, company_id))
            """
        )
        query = engine.aggregate_query(eval_date)
        company_id = engine.company.id
        with Measure(env) as m:
            rows = env.execute_query(query)
            columns = list(zip(*rows, strict=True)) if rows else [()] * 9
            cr.execute(
                SQL(
                    """
                    INSERT INTO bench_floor_scratch
                    SELECT p, %s, c, r, m, f, l, cw, rw, mw
                      FROM unnest(%s::int[], %s::int[], %s::numeric[],
                                  %s::numeric[], %s::date[], %s::date[], %s::int[],
                                  %s::numeric[], %s::numeric[])
                           AS t(p, c, r, m, f, l, cw, rw, mw)
                    ON CONFLICT (partner_id, company_id) DO UPDATE SET
                        order_count = EXCLUDED.order_count,
                        revenue = EXCLUDED.revenue, margin = EXCLUDED.margin,
                        first_order_date = EXCLUDED.first_order_date,
                        last_order_date = EXCLUDED.last_order_date,
                        order_count_window = EXCLUDED.order_count_window,
                        revenue_window = EXCLUDED.revenue_window,
                        margin_window = EXCLUDED.margin_window
                    """,
                    company_id,
                    *[list(col) for col in columns],
                )
            )
        self.notes["floor_rows"] = len(rows)
        return m

    def check_figures(self, env, program):
        """The engine's figures equal the floor's (same aggregate, rounded
        to the company currency): a check of both, once per run."""
        env.cr.execute(
            """
            SELECT COUNT(*),
                   COUNT(*) FILTER (WHERE prof.id IS NULL
                       OR prof.order_count <> f.order_count
                       OR prof.order_count_window <> f.order_count_window
                       OR prof.first_order_date <> f.first_order_date
                       OR prof.last_order_date <> f.last_order_date
                       OR abs(prof.revenue_total - f.revenue) > 0.006
                       OR abs(prof.revenue_window - f.revenue_window) > 0.006
                       OR abs(prof.margin_window - f.margin_window) > 0.006)
              FROM bench_floor_scratch f
              LEFT JOIN customer_tier_profile prof
                ON prof.partner_id = f.partner_id AND prof.company_id = f.company_id
            """
        )
        total, mismatches = env.cr.fetchone()
        self.notes["figures_checked"] = total
        self.results["figure_mismatches"].append(mismatches)

    def sale_report(self, env, program):
        with Measure(env) as m:
            groups = env["sale.report"]._read_group(
                [("state", "=", "sale"), ("company_id", "=", program.company_id.id)],
                ["commercial_partner_id"],
                ["price_subtotal:sum", "margin:sum", "__count"],
            )
        self.notes["sale_report_groups"] = len(groups)
        return m

    def full(self, env, program, eval_date):
        with Measure(env) as m:
            result = program._engine().run(eval_date=eval_date)
            env.flush_all()
        return m, result

    def cron(self, env, program, eval_date):
        calls = 0
        with Measure(env) as m:
            while True:
                calls += 1
                result = program._engine().run(
                    eval_date=eval_date, batch_size=program.batch_size
                )
                env.flush_all()
                if not result["remaining"]:
                    break
        self.notes["cron_calls"] = calls
        return m

    def pick_draft(self, env, program, rng, largest=False):
        """A draft order of a customer with a profile (random, or the customer
        with the most confirmed orders)."""
        order = "n DESC, so.id" if largest else "random()"
        env.cr.execute("SELECT setseed(%s)", [rng.random()])
        env.cr.execute(
            f"""
            WITH n AS (
                SELECT p.commercial_partner_id AS cp, COUNT(*) AS n
                  FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' AND so.company_id = %s
                 GROUP BY 1
            )
            SELECT so.id, p.commercial_partner_id, n.n
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
              JOIN n ON n.cp = p.commercial_partner_id
              JOIN customer_tier_profile prof
                ON prof.partner_id = p.commercial_partner_id
               AND prof.company_id = so.company_id
             WHERE so.state = 'draft' AND so.company_id = %s
             ORDER BY {order} LIMIT 20
            """,
            [program.company_id.id, program.company_id.id],
        )
        return env.cr.fetchall()

    def new_orders(self, env, program, day, rng, share=0.01):
        """``share`` of the customers with a profile get one new confirmed
        order dated ``day`` (untimed setup of (b3)): a copy, in SQL, of each
        one's latest confirmed order and of its lines, written now. Returns
        the customers."""
        cr = env.cr
        company_id = program.company_id.id
        cr.execute("SELECT setseed(%s)", [rng.random()])
        cr.execute(
            """
            SELECT DISTINCT ON (p.commercial_partner_id) so.id
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state = 'sale' AND so.company_id = %s
               AND p.commercial_partner_id IN (
                   SELECT partner_id FROM customer_tier_profile
                    WHERE company_id = %s AND NOT is_prospect
                    ORDER BY random()
                    LIMIT (SELECT CEIL(COUNT(*) * %s) FROM customer_tier_profile
                            WHERE company_id = %s AND NOT is_prospect))
             ORDER BY p.commercial_partner_id, so.date_order DESC, so.id DESC
            """,
            [company_id, company_id, share, company_id],
        )
        sources = [row[0] for row in cr.fetchall()]

        def columns(table, replaced):
            cr.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND column_name <> 'id' ORDER BY column_name",
                [table],
            )
            names = [row[0] for row in cr.fetchall()]
            return ", ".join(names), ", ".join(replaced.get(n, n) for n in names)

        order_cols, order_values = columns(
            "sale_order",
            {
                "name": "name || '/B3'",
                "date_order": "%(day)s::timestamp + interval '10 hours'",
                "state": "'sale'",
                "create_date": "now() at time zone 'UTC'",
                "write_date": "now() at time zone 'UTC'",
            },
        )
        line_cols, line_values = columns(
            "sale_order_line",
            {
                "order_id": "%(order)s",
                "create_date": "now() at time zone 'UTC'",
                "write_date": "now() at time zone 'UTC'",
            },
        )
        for source in sources:
            cr.execute(
                f"INSERT INTO sale_order ({order_cols}) SELECT {order_values} "
                "FROM sale_order WHERE id = %(source)s RETURNING id",
                {"day": day, "source": source},
            )
            order = cr.fetchone()[0]
            cr.execute(
                f"INSERT INTO sale_order_line ({line_cols}) SELECT {line_values} "
                "FROM sale_order_line WHERE order_id = %(source)s",
                {"order": order, "source": source},
            )
        env.invalidate_all()
        self.notes["b3_customers"] = len(sources)
        return sources

    def refresh(self, env, program, eval_date, rng, largest=False):
        from odoo.exceptions import UserError

        for order_id, partner_id, count in self.pick_draft(env, program, rng, largest):
            order = env["sale.order"].browse(order_id)
            try:
                with env.cr.savepoint():
                    with Measure(env) as confirm:
                        order.action_confirm()
                        env.flush_all()
            except UserError:
                continue
            with Measure(env) as m:
                program._engine().refresh_partners([partner_id], eval_date=eval_date)
                env.flush_all()
            m.confirm = confirm
            m.orders = count + 1
            return m
        raise RuntimeError("No draft order could be confirmed.")

    def typical(self, env, program, eval_date, rng):
        """What a typical module does: one customer at a time, through the ORM."""
        from dateutil.relativedelta import relativedelta

        company = program.company_id
        env.cr.execute(
            "SELECT partner_id FROM customer_tier_profile WHERE company_id = %s "
            "ORDER BY partner_id",
            [company.id],
        )
        customers = [row[0] for row in env.cr.fetchall()]
        sample = rng.sample(customers, min(self.args.sample, len(customers)))
        window_start = eval_date - relativedelta(months=program.window_months)
        end = eval_date + timedelta(days=1)
        years = program.window_months / 12.0
        Order = env["sale.order"]
        Profile = env["customer.tier.profile"]
        env.invalidate_all()
        with Measure(env) as m:
            for partner_id in sample:
                orders = Order.search(
                    [
                        ("partner_id", "child_of", partner_id),
                        ("company_id", "=", company.id),
                        ("state", "=", "sale"),
                        ("date_order", "<", end),
                    ]
                )
                revenue = margin = revenue_w = margin_w = 0.0
                count_w = 0
                dates = []
                for data in orders.read(
                    ["date_order", "amount_untaxed", "margin", "currency_rate"]
                ):
                    rate = data["currency_rate"] or 1.0
                    day = data["date_order"].date()
                    dates.append(day)
                    revenue += data["amount_untaxed"] / rate
                    margin += data["margin"] / rate
                    if day > window_start:
                        count_w += 1
                        revenue_w += data["amount_untaxed"] / rate
                        margin_w += data["margin"] / rate
                values = {
                    "revenue_total": revenue,
                    "margin_total": margin,
                    "order_count": len(dates),
                    "revenue_window": revenue_w,
                    "margin_window": margin_w,
                    "order_count_window": count_w,
                    "orders_per_year": count_w / years,
                    "average_order_value": revenue_w / count_w if count_w else 0.0,
                }
                if dates:
                    first, last = min(dates), max(dates)
                    values.update(
                        first_order_date=first,
                        last_order_date=last,
                        reorder_cycle_days=(
                            (last - first).days / (len(dates) - 1)
                            if len(dates) > 1
                            else 0.0
                        ),
                    )
                profile = Profile.search(
                    [("partner_id", "=", partner_id), ("company_id", "=", company.id)],
                    limit=1,
                )
                profile.write(values)
            env.flush_all()
        m.sample = len(sample)
        m.customers = len(customers)
        m.extrapolated = m.seconds * len(customers) / max(len(sample), 1)
        return m

    def warm_up(self):
        """Read the orders once (untimed) so that every run finds them in
        PostgreSQL's buffers, and load what the ORM loads once per process."""
        with self.trial(cold=False) as (env, program, eval_date):
            self.floor(env, program._engine(), eval_date)

    def record(self, key, measure):
        self.results[key].append(measure.seconds)
        self.results[f"{key}_cpu"].append(measure.cpu)
        self.results[f"{key}_queries"].append(measure.queries)
        # (the process's peak so far: which step raised it)
        self.rss_steps.setdefault(key, peak_rss_mb())

    # ------------------------------------------------------------------
    def run(self, index):
        rng = random.Random(self.args.seed + index)
        res = self.results
        with self.trial() as (env, program, eval_date):
            cr = env.cr
            engine = program._engine()
            floor = self.floor(env, engine, eval_date)
            self.record("a", floor)
            if "r" not in self.skip:
                self.record("r", self.sale_report(env, program))
            start = cr.savepoint(flush=True)
            self.cold(env)
            program, eval_date = self.program(env)
            full, result = self.full(env, program, eval_date)
            self.record("b", full)
            self.notes["b_written"] = result["written"]
            self.notes["b_changes"] = len(result["changes"])
            # Planner statistics as after a committed run (ANALYZE counts the
            # rows this transaction wrote): (c), (d) and (b2) see 'profiles
            # exist' plans, as they would on a live database.
            cr.execute("ANALYZE customer_tier_profile, customer_tier_history")
            self.check_figures(env, program)
            refresh = self.refresh(env, program, eval_date, rng)
            self.record("c", refresh)
            self.record("c_confirm", refresh.confirm)
            self.notes["c_orders"] = refresh.orders
            big = self.refresh(env, program, eval_date, rng, largest=True)
            self.record("c_big", big)
            self.notes["c_big_orders"] = big.orders
            typical = self.typical(env, program, eval_date, rng)
            self.record("d_sample", typical)
            scale = typical.customers / max(typical.sample, 1)
            res["d"].append(typical.seconds * scale)
            res["d_cpu"].append(typical.cpu * scale)
            res["d_queries_per_customer"].append(typical.queries / typical.sample)
            self.notes["d_customers"] = typical.customers
            self.notes["d_sample"] = typical.sample
            if "b2" not in self.skip:
                self.cold(env)
                program, _eval = self.program(env)
                rerun, result = self.full(env, program, eval_date + timedelta(days=1))
                self.record("b2", rerun)
                self.notes["b2_changes"] = len(result["changes"])
                self.notes["b2_written"] = result["written"]
            if "b3" not in self.skip:
                # the day after: 1 % of the customers have a new order
                day = eval_date + timedelta(days=2)
                self.new_orders(env, program, day, rng)
                cr.execute("ANALYZE sale_order, sale_order_line")
                self.cold(env)
                program, _eval = self.program(env)
                rerun, result = self.full(env, program, day)
                self.record("b3", rerun)
                self.notes["b3_changes"] = len(result["changes"])
                self.notes["b3_written"] = result["written"]
            if "e" not in self.skip:
                start.rollback()
                self.cold(env)
                program, _eval = self.program(env)
                batched = self.cron(env, program, eval_date)
                self.record("e", batched)
            start.close(rollback=True)
        line = ", ".join(
            f"({k}) {res[k][-1]:.3f} s / cpu {res[k + '_cpu'][-1]:.3f} s"
            for k in ("a", "r", "b", "c", "d", "b2", "b3", "e")
            if res[k]
        )
        print(f"run {index + 1}: {line}", flush=True)

    # ------------------------------------------------------------------
    def profile(self):
        """Where the time of (b) goes.

        1. (b) with the phases of the engine and of each feature hook timed
           (Python and SQL time, exclusive of nested phases);
        2. (b) without the engine features (``_engine_features`` empty: no
           feature hooks, no feature columns): the core engine alone;
        3. (b) under cProfile, with the time of each SQL statement.
        """
        from odoo import sql_db

        with self.trial() as (env, program, eval_date):
            phases = Phases()
            with phases.installed(program):
                start = time.perf_counter()
                program._engine().run(eval_date=eval_date)
                env.flush_all()
                total = time.perf_counter() - start
            phases.print(total, "(b)")
            rng = random.Random(self.args.seed)
            for largest in (False, True):
                order_id, partner_id, count = self.pick_draft(
                    env, program, rng, largest
                )[0]
                env["sale.order"].browse(order_id).action_confirm()
                env.flush_all()
                phases = Phases()
                with phases.installed(program):
                    start = time.perf_counter()
                    program._engine().refresh_partners([partner_id], eval_date)
                    env.flush_all()
                    total = time.perf_counter() - start
                phases.print(total, f"(c) for a customer with {count + 1} orders")

        with self.trial() as (env, program, eval_date):
            with core_only(program):
                with Measure(env) as m:
                    program._engine().run(eval_date=eval_date)
                    env.flush_all()
            print(
                f"\n== (b) core engine only (feature hooks off): {m.seconds:.2f} s, "
                f"{m.queries} queries =="
            )

        timings = defaultdict(lambda: [0, 0.0])
        original = sql_db.Cursor.execute

        def execute(cursor, query, params=None, log_exceptions=True):
            start = time.perf_counter()
            try:
                return original(cursor, query, params, log_exceptions)
            finally:
                text = query.code if hasattr(query, "code") else str(query)
                key = " ".join(text.split())[:110]
                timings[key][0] += 1
                timings[key][1] += time.perf_counter() - start

        with self.trial() as (env, program, eval_date):
            profiler = cProfile.Profile()
            sql_db.Cursor.execute = execute
            try:
                profiler.enable()
                start = time.perf_counter()
                program._engine().run(eval_date=eval_date)
                env.flush_all()
                total = time.perf_counter() - start
                profiler.disable()
            finally:
                sql_db.Cursor.execute = original
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(35)
        print(f"\n== cProfile of (b): {total:.2f} s under the profiler ==")
        print("\n".join(out.getvalue().splitlines()[6:50]))
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("tottime").print_stats(15)
        print("\n".join(out.getvalue().splitlines()[6:30]))
        sql_total = sum(t for _n, t in timings.values())
        print(
            f"\n== SQL of (b): {sum(n for n, _t in timings.values())} statements, "
            f"{sql_total:.2f} s =="
        )
        for key, (count, seconds) in sorted(timings.items(), key=lambda kv: -kv[1][1])[
            :15
        ]:
            print(f"{seconds:8.3f} s {count:6d}x  {key}")

    # ------------------------------------------------------------------
    def report(self, rss_loaded):
        res, notes = self.results, self.notes

        def med(key):
            return statistics.median(res[key]) if res[key] else float("nan")

        print("\n== medians of", len(res["a"]), "runs ==")
        rows = [
            (
                "(a) floor: aggregate + bulk upsert",
                "a",
                f"{notes['floor_rows']:,} rows",
            ),
            ("(r) sale.report grouped by customer", "r", ""),
            (
                "(b) full recompute, cold cache",
                "b",
                f"{notes['b_written']:,} profiles, {notes['b_changes']:,} changes, "
                f"{med('b_queries'):.0f} queries",
            ),
            (
                "(c) refresh one customer",
                "c",
                f"{med('c_queries'):.0f} queries ({notes['c_orders']} orders); "
                f"action_confirm {med('c_confirm') * 1000:.0f} ms / "
                f"{med('c_confirm_queries'):.0f} queries",
            ),
            (
                "(c') refresh the largest customer",
                "c_big",
                f"{med('c_big_queries'):.0f} queries ({notes['c_big_orders']} orders)",
            ),
            (
                "(d) typical ORM loop, extrapolated",
                "d",
                f"sample {notes['d_sample']:,} in {med('d_sample'):.2f} s x "
                f"{notes['d_customers']:,}/{notes['d_sample']:,}; "
                f"{med('d_queries_per_customer'):.1f} queries/customer",
            ),
            (
                "(b2) next day's full recompute",
                "b2",
                f"{notes.get('b2_written', 0):,} profiles written, "
                f"{notes.get('b2_changes', 0):,} changes, "
                f"{med('b2_queries'):.0f} queries"
                if res["b2"]
                else "",
            ),
            (
                "(b3) next day, 1 % with a new order",
                "b3",
                f"{notes.get('b3_customers', 0):,} customers with a new order, "
                f"{notes.get('b3_written', 0):,} profiles written, "
                f"{notes.get('b3_changes', 0):,} changes, "
                f"{med('b3_queries'):.0f} queries"
                if res["b3"]
                else "",
            ),
            (
                "(e) scheduled recompute in batches",
                "e",
                f"{notes.get('cron_calls', 0)} calls, {med('e_queries'):.0f} queries"
                if res["e"]
                else "",
            ),
        ]
        print(f"{'':<40} {'wall':>9}   {'cpu':>9}   wall of each run")
        for label, key, extra in rows:
            if not res[key]:
                continue
            runs = " ".join(f"{v:.3f}" for v in res[key])
            print(
                f"{label:<40} {med(key):9.3f} s {med(key + '_cpu'):9.3f} s"
                f"   [{runs}]  {extra}"
            )
        mismatches = max(res["figure_mismatches"] or [0])
        print(
            f"\nfigures of (b) against the floor: {notes['figures_checked']:,} "
            f"customers, {mismatches} differing (worst run)"
        )
        a, b, d = med("a"), med("b"), med("d")
        a_cpu, b_cpu, d_cpu = med("a_cpu"), med("b_cpu"), med("d_cpu")
        rss_end = peak_rss_mb()
        print("\n== ratios and targets (wall, then cpu) ==")
        checks = [
            (
                f"(b)/(a) = {b / a:.2f} (cpu {b_cpu / a_cpu:.2f}), first full",
                b / a <= TARGETS["b_over_a"],
                f"<= {TARGETS['b_over_a']:g}",
            ),
            (
                f"(d)/(b) = {d / b:.1f} (cpu {d_cpu / b_cpu:.1f})",
                d / b >= TARGETS["d_over_b"],
                f">= {TARGETS['d_over_b']:g}",
            ),
            (
                f"(c) = {med('c') * 1000:.1f} ms, {med('c_queries'):.0f} queries "
                f"(largest customer {med('c_big') * 1000:.1f} ms, "
                f"{med('c_big_queries'):.0f} queries)",
                med("c") < TARGETS["c_seconds"] and med("c_big") < TARGETS["c_seconds"],
                "< 50 ms, constant",
            ),
            (
                f"peak RSS {rss_end:.0f} MB (registry loaded {rss_loaded:.0f} MB; "
                "after the first run's "
                + ", ".join(
                    f"({k}) {mb:.0f}"
                    for k, mb in self.rss_steps.items()
                    if not k.endswith("_sample")
                )
                + " MB)",
                rss_end < TARGETS["rss_mb"],
                "< 400 MB",
            ),
        ]
        for key, label in (
            ("b2", "next day, nothing changed"),
            ("b3", "next day, 1 % with a new order"),
        ):
            if res[key]:
                value, value_cpu = med(key), med(f"{key}_cpu")
                target = TARGETS[f"{key}_over_a"]
                checks.append(
                    (
                        f"({key})/(a) = {value / a:.2f} (cpu {value_cpu / a_cpu:.2f}), "
                        f"{label}",
                        value / a <= target,
                        f"<= {target:g}",
                    )
                )
        if res["e"]:
            e, e_cpu = med("e"), med("e_cpu")
            checks.append(
                (
                    f"(e)/(a) = {e / a:.2f} (cpu {e_cpu / a_cpu:.2f}), scheduled",
                    e / a <= TARGETS["e_over_a"],
                    "<= 3",
                )
            )
        for text, ok, target in checks:
            print(f"{'PASS' if ok else 'MISS'} {text}   target {target}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    registry = setup_odoo(args)
    rss_loaded = peak_rss_mb()
    bench = Bench(registry, args)
    bench.describe()
    print(
        f"registry loaded: peak RSS {rss_loaded:.0f} MB, current "
        f"{current_rss_mb():.0f} MB; {args.runs} runs, each rolled back",
        flush=True,
    )
    bench.warm_up()
    for index in range(args.runs):
        bench.run(index)
    bench.report(rss_loaded)
    if args.profile:
        bench.profile()


if __name__ == "__main__":
    main()
