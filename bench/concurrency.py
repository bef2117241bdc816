#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""Check that an order confirmed while the scheduled recompute runs is counted.

Usage (from the repository root, Odoo 18 importable)::

    python3 bench/concurrency.py --db NAME

``NAME`` is a database with the module installed (demo data or not). The
script works on a copy of it (``NAME_concurrency``, created from it as a
template and dropped at the end unless ``--keep``), because it commits: two
real transactions meet here, as a cron worker and a salesperson's request
do, which the test suite cannot show (its tests run inside one transaction).

Setup (committed): a salesperson (Sales / own documents), who confirms the
quotations below in their own requests; six customers of theirs in the main
company with confirmed orders, a full evaluation of every program dated
yesterday, two quotations of the first customer, and a batch size of 3. Every
other profile of the database (demo or generated customers, other companies)
is then marked evaluated today, as if the earlier batches of the day had run:
the scheduled recompute of today has the six customers left, takes two calls,
and the first customer is in the first batch, whatever the database holds.

1. *The order commits first*: the first batch has read the orders and is
   about to write its profiles when the salesperson confirms a quotation in
   another transaction, which refreshes the customer and commits. The batch
   then meets that customer's profile row, changed after its snapshot
   (PostgreSQL raises a serialization failure under Odoo's REPEATABLE READ):
   the batch is dropped and the recompute is triggered again a minute later.
2. *The batch holds the row first*: the first batch has written its profiles
   and not committed yet when the salesperson confirms the second quotation;
   the request waits on the row lock, fails on the batch's commit and is
   retried by Odoo (``odoo.service.model.retrying``, as for any request).
3. *A manager saves the program during the last batch*: the day's last batch
   (three customers left, the run not dated yet) has read the orders when a
   manager renames the program in another transaction, which commits. The
   batch writes its profiles, then meets the program's row when it dates the
   run: the same serialization failure, the same retry a minute later; the
   manager's change is kept and the run is dated once the batch has run
   again.

After each, the recompute is run to its end (each call writing a batch); the
customer's profile must then hold every confirmed order (figures equal to the
SQL aggregate), with one history row at most per day. The dropped batch is
logged at INFO, and no ``ERROR`` line may be logged at all: the expected,
retried conflicts are not errors (PostgreSQL's "bad query" lines of
``odoo.sql_db`` included). Exit status 0 when every check passes, 1
otherwise.
"""

import logging
import sys
import threading
import time
from datetime import timedelta
from functools import partial
from itertools import pairwise

from _common import new_parser, setup_odoo

CHECKS = []
SALESMAN = []  # the user id of the salesperson's requests


class Captured(logging.Handler):
    """Keeps the log records of the run (INFO and up) to check them."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def errors(self):
        return [r for r in self.records if r.levelno >= logging.ERROR]

    def retries(self):
        return [
            r
            for r in self.records
            if r.levelno == logging.INFO
            and "interrupted by a concurrent update" in r.getMessage()
        ]


LOG = Captured()


def capture_logs():
    """Capture every record of ``odoo`` (``odoo.sql_db``'s "bad query" lines
    included) and the INFO lines of the module, whatever ``--log-level``."""
    logging.getLogger("odoo").addHandler(LOG)
    logging.getLogger("odoo.addons.customer_tier").setLevel(logging.INFO)


def check(label, ok, detail=""):
    CHECKS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {label}{(': ' + detail) if detail else ''}")


def parse_args(argv):
    parser = new_parser(__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the copy")
    return parser.parse_args(argv)


def admin(args, sql):
    """Run ``sql`` on the ``postgres`` database (autocommit)."""
    import psycopg2

    cnx = psycopg2.connect(
        host=args.db_host,
        port=args.db_port,
        user=args.db_user,
        password=args.db_password,
        dbname="postgres",
    )
    try:
        cnx.autocommit = True
        with cnx.cursor() as cur:
            cur.execute(sql)
    finally:
        cnx.close()


def environment(cr, uid=None):
    import odoo

    return odoo.api.Environment(cr, uid or odoo.SUPERUSER_ID, {})


def setup(registry):
    from odoo import fields

    with registry.cursor() as cr:
        env = environment(cr)
        company = env.ref("base.main_company")
        env = env(context={"allowed_company_ids": [company.id]})
        program = env["customer.tier.program"].search(
            [("company_id", "=", company.id)], limit=1
        )
        program.batch_size = 3
        product = env["product.product"].create(
            {"name": "Concurrency Valve", "type": "consu", "list_price": 100.0}
        )
        # the salesperson who confirms the quotations: Sales / own documents
        salesman = env["res.users"].create(
            {
                "name": "Concurrent Salesman",
                "login": "concurrent.salesman",
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                "groups_id": [(6, 0, env.ref("sales_team.group_sale_salesman").ids)],
            }
        )
        customers = env["res.partner"].create(
            [
                {"name": f"Concurrent {i}", "is_company": True, "user_id": salesman.id}
                for i in range(6)
            ]
        )

        def order(customer, qty, confirm=True):
            so = env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "order_line": [
                        (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    ],
                }
            )
            if confirm:
                so.action_confirm()
                # dated before yesterday's evaluation
                so.date_order = fields.Datetime.now() - timedelta(days=10)
            return so

        for index, customer in enumerate(customers):
            order(customer, 10 * (index + 1))
        drafts = order(customers[0], 70, False) | order(customers[0], 90, False)
        today = fields.Date.context_today(program)
        yesterday = today - timedelta(days=1)
        # yesterday's state: every program evaluated (every customer and
        # prospect has a profile)
        for each in env["customer.tier.program"].search([]):
            each._engine().run(eval_date=yesterday)
        # today's earlier batches done: only the six customers are left, the
        # first of them (lowest id) in the first batch
        env.flush_all()
        cr.execute(
            "UPDATE customer_tier_profile SET full_evaluation_date = %s "
            "WHERE partner_id <> ALL(%s)",
            [today, customers.ids],
        )
        env.invalidate_all()
        return program.id, customers.ids, drafts.ids, today, salesman.id


def pending(registry, program_id, today):
    with registry.cursor() as cr:
        env = environment(cr)
        return (
            env["customer.tier.program"]
            .browse(program_id)
            ._engine()
            ._count_pending(today)
        )


def cron_call(registry):
    with registry.cursor() as cr:
        environment(cr)["customer.tier.program"]._cron_recompute()


def finish(registry, program_id, today):
    """Call the scheduled recompute until nothing is left; each call must
    write a batch (no concurrent transaction here)."""
    left = pending(registry, program_id, today)
    while left:
        cron_call(registry)
        before, left = left, pending(registry, program_id, today)
        if left >= before:
            print(f"      a call wrote nothing: {left} profiles left")
            return False
    return True


def verify(registry, program_id, customer_id, today, label):
    from odoo.tools import SQL

    with registry.cursor() as cr:
        env = environment(cr)
        program = env["customer.tier.program"].browse(program_id)
        engine = program._engine()
        rows = env.execute_query(engine.aggregate_query(today, [customer_id]))
        count, revenue = rows[0][1], round(float(rows[0][2]), 2)
        profile = env["customer.tier.profile"].search(
            [("partner_id", "=", customer_id), ("program_id", "=", program_id)]
        )
        check(
            f"{label}: the profile counts every confirmed order",
            profile.order_count == count and round(profile.revenue_total, 2) == revenue,
            f"{profile.order_count} orders / {profile.revenue_total} "
            f"(orders: {count} / {revenue})",
        )
        history = env.execute_query(
            SQL(
                "SELECT date, from_tier_id, to_tier_id, cause "
                "FROM customer_tier_history WHERE partner_id = %s ORDER BY id",
                customer_id,
            )
        )
        # a move is written once: two rows in a row never repeat one
        duplicates = [
            row
            for previous, row in pairwise(history)
            if previous == row or previous[2] != row[1]
        ]
        print(f"      history of the customer: {history}")
        check(
            f"{label}: each move written once, in a chain",
            not duplicates,
            str(duplicates),
        )


def unevaluated_today(registry, program_id, customer_ids):
    """Start today's evaluation of ``customer_ids`` afresh (committed)."""
    with registry.cursor() as cr:
        cr.execute(
            "UPDATE customer_tier_profile SET full_evaluation_date = NULL "
            "WHERE program_id = %s AND partner_id = ANY(%s)",
            [program_id, customer_ids],
        )


def recompute_meeting(registry, program_id, today, meanwhile):
    """One call of the recompute cron whose first full batch meets a change:
    ``meanwhile(registry)`` commits it in another transaction between the
    batch's read and its write.

    Returns (met, left, logged, triggered): whether the change was made, the
    profiles left to evaluate today, whether one dropped batch was logged, and
    whether the recompute was triggered again.
    """
    from odoo import fields

    from odoo.addons.customer_tier.models.customer_tier_engine import TierEngine

    original = TierEngine.before_write
    done = []

    def before_write(engine, rows, eval_date, full):
        if full and not done:
            done.append(True)
            meanwhile(registry)
        return original(engine, rows, eval_date, full)

    TierEngine.before_write = before_write
    try:
        retries = len(LOG.retries())
        with registry.cursor() as cr:
            env = environment(cr)
            triggers = env["ir.cron.trigger"].search_count([])
            env["customer.tier.program"]._cron_recompute()
            cr.flush()
            retried = env["ir.cron.trigger"].search_count(
                [("call_at", ">", fields.Datetime.now())]
            )
            left = pending(registry, program_id, today)
            triggered = (
                env["ir.cron.trigger"].search_count([]) > triggers and retried > 0
            )
    finally:
        TierEngine.before_write = original
    return bool(done), left, len(LOG.retries()) == retries + 1, triggered


def order_commits_first(registry, program_id, customer_id, draft_id, today):
    """Scenario 1: the refresh commits between the batch's read and write."""

    def confirm_order(registry):
        with registry.cursor() as cr2:
            env2 = environment(cr2, SALESMAN[0])
            env2["sale.order"].browse(draft_id).action_confirm()

    before = pending(registry, program_id, today)
    done, left, logged, triggered = recompute_meeting(
        registry, program_id, today, confirm_order
    )
    check(
        "1: the batch met the committed refresh and was dropped",
        done and left == before == 6,
        f"refresh done: {done}, profiles left {before} -> {left}",
    )
    check("1: the dropped batch is logged at INFO", logged)
    check("1: the recompute is triggered again", triggered)
    check("1: the recompute then runs to its end", finish(registry, program_id, today))
    verify(registry, program_id, customer_id, today, "1")


def batch_holds_the_row(registry, program_id, customer_ids, draft_id, today):
    """Scenario 2: the request waits for the batch's lock, then is retried."""
    from odoo.service.model import retrying

    # start today's evaluation of the six customers afresh for this scenario
    unevaluated_today(registry, program_id, customer_ids)
    attempts = []
    errors = []

    def confirm(env):
        attempts.append(time.perf_counter())
        env["sale.order"].browse(draft_id).action_confirm()

    def request():
        try:
            with registry.cursor() as cr2:
                env2 = environment(cr2, SALESMAN[0])
                retrying(partial(confirm, env2), env2)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            errors.append(exc)

    cr = registry.cursor()
    try:
        env = environment(cr)
        env["customer.tier.program"]._cron_recompute()
        cr.flush()
        thread = threading.Thread(target=request)
        thread.start()
        waited = False
        for _poll in range(100):
            cr_poll = registry.cursor()
            try:
                cr_poll.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                waited = cr_poll.fetchone()[0] > 0
            finally:
                cr_poll.close()
            if waited:
                break
            time.sleep(0.05)
        check("2: the request waits on the batch's row lock", waited)
        cr.commit()
    finally:
        cr.close()
    thread.join(30)
    check(
        "2: the request failed on the batch's commit and was retried",
        not errors and len(attempts) >= 2,
        f"{len(attempts)} attempts, errors {errors}",
    )
    check("2: the recompute then runs to its end", finish(registry, program_id, today))
    verify(registry, program_id, customer_ids[0], today, "2")


def program_saved_meanwhile(registry, program_id, customer_ids, today):
    """Scenario 3: the last batch meets the program's row, saved meanwhile."""

    def save_program(registry):
        with registry.cursor() as cr2:
            manager = environment(cr2)["customer.tier.program"].browse(program_id)
            manager.name = f"{manager.name} (saved meanwhile)"

    # the day's last batch: three customers left, the run not dated yet
    unevaluated_today(registry, program_id, customer_ids[3:])
    with registry.cursor() as cr:
        cr.execute(
            "UPDATE customer_tier_program SET last_run_date = %s WHERE id = %s",
            [today - timedelta(days=1), program_id],
        )
    done, left, logged, triggered = recompute_meeting(
        registry, program_id, today, save_program
    )
    check(
        "3: the last batch met the saved program and was dropped",
        done and left == 3,
        f"save done: {done}, profiles left {left}",
    )
    check(
        "3: the dropped batch is logged at INFO and triggered again",
        logged and triggered,
    )
    check("3: the recompute then runs to its end", finish(registry, program_id, today))
    with registry.cursor() as cr:
        program = environment(cr)["customer.tier.program"].browse(program_id)
        check(
            "3: the manager's change is kept and the run is dated",
            program.name.endswith("(saved meanwhile)")
            and program.last_run_date == today,
            f"{program.name!r}, last run {program.last_run_date}",
        )
    verify(registry, program_id, customer_ids[3], today, "3")


def main(argv):
    args = parse_args(argv)
    source = args.db
    args.db = f"{source}_concurrency"
    admin(args, f'DROP DATABASE IF EXISTS "{args.db}"')
    admin(args, f'CREATE DATABASE "{args.db}" TEMPLATE "{source}"')
    try:
        registry = setup_odoo(args)
        program_id, customer_ids, drafts, today, salesman_id = setup(registry)
        SALESMAN.append(salesman_id)
        print(f"Copy {args.db}: program {program_id}, customer {customer_ids[0]}")
        capture_logs()
        order_commits_first(registry, program_id, customer_ids[0], drafts[0], today)
        batch_holds_the_row(registry, program_id, customer_ids, drafts[1], today)
        program_saved_meanwhile(registry, program_id, customer_ids, today)
        errors = LOG.errors()
        check(
            "no ERROR logged (the conflicts are expected and retried)",
            not errors,
            "; ".join(f"{r.name}: {r.getMessage()[:200]}" for r in errors),
        )
    finally:
        if not args.keep:
            from odoo.sql_db import close_all

            close_all()
            admin(args, f'DROP DATABASE IF EXISTS "{args.db}"')
    return 0 if CHECKS and all(CHECKS) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
