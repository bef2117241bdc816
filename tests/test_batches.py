"""A full recompute in batches is robust.

The scheduled recompute writes ``batch_size`` profiles per call, and the cron
runner commits after each call: a run killed during a batch loses that batch
only (its transaction is rolled back) and the next call continues with the
profiles not yet evaluated for the day. Here each call runs in a savepoint;
a kill is the rollback of the savepoint of the call it interrupts. Whatever
the batch the kill hits, the state once the run has been resumed to its end
is exactly the state of one uninterrupted evaluation: the same profiles, the
same history rows (none twice), the same chatter notes, the same partner
tiers.
"""

import re
from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import errors

from odoo import Command
from odoo.tests import tagged

from odoo.addons.customer_tier.models import customer_tier_program as program_module
from odoo.addons.customer_tier.models.customer_tier_engine import (
    PROFILE_COLUMNS,
    TierEngine,
)

from .common import CursorStandIn
from .test_assignment import AssignmentCase

DAY1 = date(2024, 5, 31)
MAGIC = {"id", "create_uid", "create_date", "write_uid", "write_date"}
DAY2 = date(2024, 6, 30)


class Killed(Exception):
    """Stands for the process dying inside a batch."""


# A statement that writes or locks the program's row, or writes its fit of
# the day.
PROGRAM_ROW = re.compile(
    r'UPDATE\s+"?customer_tier_program"?\s+SET'
    r"|FROM\s+customer_tier_program\s+WHERE.*FOR (NO KEY )?UPDATE"
    r"|INSERT\s+INTO\s+customer_tier_prediction_fit\b",
    re.S,
)
# What PostgreSQL raises there when a concurrent transaction wrote the row
# after this one's snapshot (a real error of the server: the transaction is
# aborted, as it would be).
SERIALIZATION_FAILURE = (
    "DO $$BEGIN RAISE EXCEPTION 'could not serialize access due to concurrent "
    "update' USING ERRCODE = 'serialization_failure'; END$$"
)


class ConcurrentWriter(CursorStandIn):
    """Stands in for the psycopg2 cursor: the first statement matching
    ``pattern`` fails as it does when another transaction wrote the same row
    meanwhile (the other statements run as usual)."""

    def __init__(self, cursor, pattern):
        super().__init__(cursor)
        self._pattern = pattern
        self.hit = []

    def _execute(self, text, query, params):
        if not self.hit and self._pattern.search(text):
            self.hit.append(text)
            return self._cursor.execute(SERIALIZATION_FAILURE)
        return self._cursor.execute(query, params)


@tagged("post_install", "-at_install")
class TestInterruptedRecompute(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"]
        # 7 customers over several tiers; DAY2's orders move some of them
        specs = [
            [(6000.0, date(2024, 1, 10)), (5000.0, date(2024, 3, 5))],
            [(900.0, date(2023, 9, 1))],
            [(3000.0, date(2024, 2, 1)), (200.0, date(2024, 5, 1))],
            [(15000.0, date(2023, 12, 1))],
            [(50.0, date(2023, 1, 1))],
            [(1200.0, date(2024, 4, 4)), (1300.0, date(2024, 5, 5))],
            [(700.0, date(2024, 5, 20))],
        ]
        for index, orders in enumerate(specs):
            customer = cls._customer(f"Batch {index}")
            cls._buy_many(customer, orders)
            cls.customers |= customer
        cls.prospect = cls._customer("Batch Prospect", customer_rank=1)
        cls.program.batch_size = 3
        # company B has its own customers and batches: the scheduled run
        # goes through A's batches, then B's
        cls.customers_b = cls.env["res.partner"]
        for index, amount in enumerate((800.0, 2600.0, 12000.0)):
            customer = cls._customer(f"Batch B{index}")
            cls._buy(customer, amount, date(2024, 3, 1), company=cls.company_b)
            cls.customers_b |= customer
        cls.program_b.batch_size = 2
        # yesterday's state: one full evaluation per company
        cls._run(DAY1)
        cls._run(DAY1, company=cls.company_b)
        cls._buy(cls.customers_b[0], 9500.0, date(2024, 6, 20), company=cls.company_b)
        # then orders that move customers between tiers on DAY2
        cls._buy_many(cls.customers[1], [(9000.0, date(2024, 6, 10))])
        cls._buy_many(cls.customers[4], [(2500.0, date(2024, 6, 1))])
        cls._buy_many(
            cls.customers[6],
            [(4000.0, date(2024, 6, 15)), (7000.0, date(2024, 6, 25))],
        )

    def _state(self):
        """Everything a recompute writes, without ids and timestamps."""
        self.env.flush_all()
        # every stored column: the engine's, the features' and the partner
        # facts it copies
        fields_ = self.env["customer.tier.profile"]._fields
        columns = [
            name
            for name, field in fields_.items()
            if field.store and field.column_type and name not in MAGIC
        ]
        self.assertTrue(set(PROFILE_COLUMNS) <= set(columns))
        companies = self.company | self.company_b
        # (the date of the full evaluation that wrote a profile: a batch
        # writes it on each of its profiles, as its progress, where one
        # unbatched run leaves an unchanged profile as it was; both give
        # each profile the evaluation date of the day, compared instead)
        columns.remove("full_evaluation_date")
        profiles = {
            (company.id, pid): tuple(row[c] for c in columns if c != "partner_id")
            for company in companies
            for pid, row in self._snapshot(company, columns=columns).items()
        }
        evaluated = {
            (p.company_id.id, p.partner_id.id): p.evaluation_date
            for p in self.env["customer.tier.profile"].search(
                [("company_id", "in", companies.ids)]
            )
        }
        history = sorted(
            (
                h.company_id.id,
                h.partner_id.id,
                h.date,
                h.from_tier_id.id,
                h.to_tier_id.id,
                h.cause,
            )
            for h in self.env["customer.tier.history"].search(
                [("company_id", "in", companies.ids)]
            )
        )
        partners = self.customers | self.prospect | self.customers_b
        notes = sorted((m.res_id, m.body) for m in self._tier_notes(partners))
        tiers = {
            (company.id, p.id): p.with_company(company).customer_tier_id.id
            for company in companies
            for p in partners
        }
        return {
            "profiles": profiles,
            "evaluation dates": evaluated,
            "history": history,
            "notes": notes,
            "partner tiers": tiers,
            "last run": (self.program | self.program_b).mapped("last_run_date"),
        }

    def _cron_call(self, kill=False):
        """One call of the scheduled recompute, committed; or killed inside
        its batch (after the profiles were written), then rolled back."""
        killed = False
        try:
            with self.env.cr.savepoint():
                with freeze_time(DAY2):
                    self.env["customer.tier.program"]._cron_recompute()
                    self.env.flush_all()
                    if kill:
                        raise Killed
        except Killed:
            killed = True
        self.assertEqual(killed, kill)
        self.env.invalidate_all()

    def _pending(self):
        return sum(
            program._engine()._count_pending(DAY2)
            for program in self.program | self.program_b
        )

    def _cron_to_the_end(self):
        """Call the scheduled recompute until nothing is pending (10 calls
        at most)."""
        calls = 0
        while self._pending() and calls < 10:
            self._cron_call()
            calls += 1

    def test_killed_during_any_batch_ends_as_one_run(self):
        with self.env.cr.savepoint(flush=True) as start:
            self._run(DAY2)
            self._run(DAY2, company=self.company_b)
            expected = self._state()
            start.rollback()
        # the reference moved people around in both companies, so the check
        # can tell
        moved = {h[0] for h in expected["history"] if h[2] == DAY2}
        self.assertEqual(moved, {self.company.id, self.company_b.id})
        self.assertTrue(expected["notes"])
        batches = sum(
            -(
                -len([k for k in expected["profiles"] if k[0] == program.company_id.id])
                // program.batch_size
            )
            for program in self.program | self.program_b
        )
        self.assertEqual(batches, 3 + 2)
        for killed_at in range(batches + 1):
            with self.subTest(killed_during_batch=killed_at + 1):
                with self.env.cr.savepoint(flush=True) as attempt:
                    for _done in range(killed_at):
                        self._cron_call()
                    pending = self._pending()
                    self._cron_call(kill=True)
                    # nothing of the killed batch is left
                    self.assertEqual(self._pending(), pending)
                    self._cron_to_the_end()
                    self.assertEqual(self._state(), expected)
                    attempt.rollback()

    def test_conflict_on_the_program_row_is_retried_unlogged(self):
        """Two runs of the day (cron workers, a manual recompute) also meet
        on the program: the first batch writes the day's fit (its row of the
        program's fits), the last one the last run date (the program's row).
        A batch that finds the row written by the other after its snapshot
        is dropped and runs again a minute later,
        like one that meets a profile, and the expected conflict is not
        logged as an error (no "bad query" of ``odoo.sql_db``)."""
        with self.env.cr.savepoint(flush=True) as start:
            self._run(DAY2)
            self._run(DAY2, company=self.company_b)
            expected = self._state()
            start.rollback()
        self.env.invalidate_all()
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        Trigger = self.env["ir.cron.trigger"]
        # calls before the conflict: none (company A's first batch, which
        # fits), two (its last batch, which dates the run)
        for calls_before in (0, 2):
            with self.subTest(calls_before=calls_before):
                with self.env.cr.savepoint(flush=True) as attempt:
                    for _call in range(calls_before):
                        self._cron_call()
                    pending = self.program._engine()._count_pending(DAY2)
                    self.assertTrue(pending)
                    triggers = Trigger.search([("cron_id", "=", cron.id)])
                    real = self.env.cr  # (the real cursor: no HTTP here)
                    writer = ConcurrentWriter(real._obj, PROGRAM_ROW)
                    with (
                        patch.object(real, "_obj", writer),
                        patch.object(program_module._logger, "info") as info,
                        self.assertNoLogs("odoo.sql_db", "ERROR"),
                    ):
                        self._cron_call()
                    self.assertEqual(len(writer.hit), 1)
                    self.assertIn(
                        "interrupted by a concurrent update", info.call_args[0][0]
                    )
                    # nothing of the batch is kept; it runs again
                    self.assertEqual(
                        self.program._engine()._count_pending(DAY2), pending
                    )
                    self.assertTrue(
                        Trigger.search([("cron_id", "=", cron.id)]) - triggers
                    )
                    self._cron_to_the_end()
                    self.assertEqual(self._state(), expected)
                    attempt.rollback()
                self.env.invalidate_all()

    def test_batches_resume_where_they_stopped(self):
        """Each call writes at most one batch of not yet evaluated profiles;
        a second pass over an evaluated day writes nothing."""
        # company A: 7 customers and the prospect; company B: 3 customers and
        # the same prospect (shared, worked by no company yet)
        self.assertEqual(self._pending(), 8 + 4)
        seen = []
        for _call in range(6):
            self._cron_call()
            seen.append(self._pending())
        # company A's batches of 3, then company B's of 2; the call that
        # finishes A (its last 2) goes on with B's first batch
        self.assertEqual(seen, [9, 6, 2, 0, 0, 0])
        state = self._state()
        self._cron_call()
        self.assertEqual(self._state(), state)


@tagged("post_install", "-at_install")
class TestOrderDuringRecompute(AssignmentCase):
    """An order confirmed while a recompute is between two batches."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"]
        for index in range(6):
            customer = cls._customer(f"Busy {index}", user_id=cls.user_own.id)
            cls._buy_many(customer, [(800.0 * (index + 1), date(2024, 5, 1 + index))])
            cls.customers |= customer
        cls.program.batch_size = 2

    def _confirm_during(self, customer, after_batches):
        """Run the scheduled recompute of DAY2; after ``after_batches`` calls,
        the customer's salesperson (Sales / own documents only) confirms an
        order (it refreshes the customer at once, as in its own transaction)
        and the recompute finishes."""
        with freeze_time(DAY2):
            Program = self.env["customer.tier.program"]
            for _call in range(after_batches):
                Program._cron_recompute()
            order = self._env_as(self.user_own)["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "price_unit": 20000.0,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
            order.action_confirm()
            self.assertEqual(order.state, "sale")
            for _call in range(10):
                Program._cron_recompute()
                if not self.program._engine()._count_pending(DAY2):
                    break
        self.env.flush_all()
        self.env.invalidate_all()
        return order

    def test_order_counted_whichever_batch_has_the_customer(self):
        # first batch (already evaluated when the order comes), last batch
        for customer in (self.customers[0], self.customers[-1]):
            with self.subTest(customer=customer.name):
                with self.env.cr.savepoint(flush=True) as attempt:
                    before_revenue = sum(
                        customer.sale_order_ids.mapped("amount_untaxed")
                    )
                    self._confirm_during(customer, after_batches=1)
                    profile = self._profile(customer)
                    expected = self._snapshot(partners=customer)[customer.id]
                    # the same figures as a fresh evaluation that sees the order
                    with self.env.cr.savepoint(flush=True) as check:
                        self._run(DAY2)
                        fresh = self._snapshot(partners=customer)[customer.id]
                        check.rollback()
                    for column in (
                        "order_count",
                        "revenue_window",
                        "revenue_total",
                        "last_order_date",
                        "tier_id",
                    ):
                        self.assertEqual(expected[column], fresh[column], column)
                    # 20,000 more: out of the fallback tier D
                    self.assertEqual(profile.order_count, 2)
                    self.assertEqual(profile.revenue_window, 20000.0 + before_revenue)
                    self.assertNotEqual(profile.tier_id, self.tier_d)
                    attempt.rollback()

    def test_batch_hit_by_a_concurrent_update_runs_again(self):
        """A batch whose profile write meets a row changed by a concurrent
        transaction (PostgreSQL's serialization failure under Odoo's
        REPEATABLE READ) is dropped whole, and the scheduled recompute is
        triggered again a minute later instead of failing until tomorrow."""
        customer = self.customers[2]
        self._order(customer, 1000.0, DAY2)  # refreshed at once (today)
        Trigger = self.env["ir.cron.trigger"]
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        pending = self.program._engine()._count_pending(DAY2)
        original = TierEngine.write_profiles
        calls = []

        def write_profiles(engine, rows):
            original(engine, rows)
            if not calls:
                calls.append(len(rows))
                raise errors.SerializationFailure("concurrent update")

        with freeze_time(datetime(2024, 6, 30, 9, 0)):
            with patch.object(TierEngine, "write_profiles", write_profiles):
                with patch.object(program_module._logger, "info") as info:
                    self.env["customer.tier.program"]._cron_recompute()
        self.assertEqual(calls, [2])
        self.assertIn("interrupted by a concurrent update", info.call_args[0][0])
        # nothing of the batch is kept
        self.assertEqual(self.program._engine()._count_pending(DAY2), pending)
        new = Trigger.search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(new.mapped("call_at"), [datetime(2024, 6, 30, 9, 1)])
        # the next calls finish the day, the order counted once
        with freeze_time(DAY2):
            for _call in range(5):
                self.env["customer.tier.program"]._cron_recompute()
        self.env.invalidate_all()
        self.assertEqual(self.program._engine()._count_pending(DAY2), 0)
        self.assertEqual(self._profile(customer).order_count, 2)
