"""The steady state of the full evaluation: what a next-day run reads and writes.

A full evaluation writes only the profiles whose values changed; the
customers' product categories are computed again only for those whose
orders changed or left the window. The proofs read PostgreSQL itself: a
written row gets a new tuple (its ``ctid`` moves, even on a heap-only
update), and the transaction's own statistics count the rows inserted and
updated (``pg_stat_xact_user_tables``).
"""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from unittest.mock import patch

import numpy as np
from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.customer_tier.models.customer_tier_dimension import (
    CustomerTierProgram as DimensionProgram,
)

from .prediction_data import simulate_bgnbd
from .test_assignment import AssignmentCase

E = date(2024, 6, 30)
# Orders of the customers: none leaves the window (12 months) before
# 2024-09-01, so that the next days change nothing.
ORDERS = [
    [(1200, date(2023, 9, 10)), (800, date(2024, 2, 1)), (900, date(2024, 6, 1))],
    [(5000, date(2024, 1, 15))],
    [(300, date(2023, 10, 5)), (300, date(2024, 4, 5))],
    [(15000, date(2024, 3, 3)), (2500, date(2024, 5, 20))],
]


@tagged("post_install", "-at_install")
class TestSteadyState(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"]
        for index, specs in enumerate(ORDERS):
            customer = cls._customer(f"Steady {index}")
            cls._buy_many(customer, specs)
            cls.customers |= customer
        cls.prospect = cls._customer("Steady prospect", customer_rank=1)

    # ------------------------------------------------------------------
    def _tuples(self):
        """partner id -> ctid of its profile (a written row moves)."""
        self.env.flush_all()
        return dict(
            self.env.execute_query(
                SQL(
                    "SELECT partner_id, ctid::text FROM customer_tier_profile "
                    "WHERE company_id = %s",
                    self.company.id,
                )
            )
        )

    def _written(self):
        """(profile rows inserted + updated, history rows inserted) so far
        in this transaction."""
        self.env.flush_all()
        counts = dict(
            self.env.execute_query(
                SQL(
                    "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del "
                    "FROM pg_stat_xact_user_tables WHERE relname IN %s",
                    ("customer_tier_profile", "customer_tier_history"),
                )
            )
        )
        return (
            counts.get("customer_tier_profile", 0),
            counts.get("customer_tier_history", 0),
        )

    @contextmanager
    def _category_scopes(self):
        """The partners each category query of the block reads (None: the
        whole company)."""
        scopes = []
        original = DimensionProgram._category_query

        def spy(program, engine, eval_date, partner_ids=None):
            scopes.append(None if partner_ids is None else sorted(partner_ids))
            return original(program, engine, eval_date, partner_ids)

        with patch.object(DimensionProgram, "_category_query", spy):
            yield scopes

    def _shares(self):
        return {
            p.partner_id.id: (p.revenue_share, p.cumulative_share, p.pareto_rank)
            for p in self.env["customer.tier.profile"].search(
                [("company_id", "=", self.company.id)]
            )
        }

    def _repeat_customers(self, count=30, seed=11):
        """``count`` customers whose purchase days are drawn from the BG/NBD
        model (``prediction_data``; some stop buying), first bought 120 to
        300 days before E (no order leaves the window soon), with order
        values varying around a mean of their own: enough for both models
        to fit. Orders created in one go, confirmed (no refresh)."""
        rng = np.random.default_rng(seed)
        T = rng.integers(120, 300, count)
        drawn = simulate_bgnbd({"r": 0.8, "alpha": 60.0, "a": 0.9, "b": 3.0}, T, rng)
        values = []
        for index in range(count):
            first = E - timedelta(days=int(T[index]))
            span = int(drawn["t_x"][index])
            repeats = min(int(drawn["x"][index]), span)
            days = sorted(
                {
                    first + timedelta(days=round(span * k / repeats))
                    for k in range(1, repeats + 1)
                }
                | {first}
            )
            customer = self._customer(f"Repeat {index}")
            values += [
                {
                    "partner_id": customer.id,
                    "company_id": self.company.id,
                    "pricelist_id": self.pricelists[(self.usd, self.company)].id,
                    "date_order": datetime.combine(day, datetime.min.time()).replace(
                        hour=12
                    ),
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": 100.0
                                * (1 + index % 5)
                                * (1.0, 1.3, 0.7)[k % 3],
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
                for k, day in enumerate(days)
            ]
        with self._no_refresh():
            self.env["sale.order"].create(values)

    def _rfm(self):
        return {
            p.partner_id.id: (
                p.rfm_recency_score,
                p.rfm_frequency_score,
                p.rfm_monetary_score,
            )
            for p in self.env["customer.tier.profile"].search(
                [("company_id", "=", self.company.id)]
            )
        }

    # ------------------------------------------------------------------
    def test_next_day_with_predictions_writes_nothing(self):
        """With fitted predictions, a next-day run over unchanged orders
        still writes no profile row: every customer's T grew by a day and
        the models were fitted again, so the predicted figures moved, but
        they are computed when read (from inputs that move only with the
        orders), not stored."""
        self._repeat_customers()
        self._run(E)
        self.assertEqual(self.program.predict_status, "ok")
        self.assertEqual(self.program.predict_gg_status, "ok")
        Profile = self.env["customer.tier.profile"]
        profiles = Profile.search(
            [("company_id", "=", self.company.id), ("is_prospect", "=", False)]
        )
        names = ("prob_alive", "expected_orders_12m", "expected_value_12m")
        figures = {p.id: tuple(p[n] for n in names) for p in profiles}
        before = self._tuples()
        written = self._written()
        result = self._run(E + timedelta(days=1))
        self.assertEqual(result["written"], 0)
        self.assertEqual(result["changes"], [])
        self.assertEqual(self._tuples(), before)
        self.assertEqual(self._written(), written)
        self.env.invalidate_all()
        self.assertEqual(self.program.predict_fit_date, E + timedelta(days=1))
        # the figures that moved (as rounded): stored, their rows were written
        moved = [p for p in profiles if tuple(p[n] for n in names) != figures[p.id]]
        self.assertGreaterEqual(len(moved), 5)

    def test_next_day_writes_nothing(self):
        """Over unchanged data, a next-day run writes no profile and no
        history row, reads no order line; the evaluation date and the
        recency follow the day."""
        self._run(E)
        before = self._tuples()
        self.assertEqual(len(before), len(self.customers) + 1)
        written = self._written()
        with self._category_scopes() as scopes:
            result = self._run(E + timedelta(days=1))
        self.assertEqual(result["written"], 0)
        self.assertEqual(result["changes"], [])
        self.assertEqual(self._tuples(), before)
        self.assertEqual(self._written(), written)
        # no customer's orders changed: no category query at all
        self.assertEqual(scopes, [])
        profile = self._profile(self.customers[0])
        self.assertEqual(profile.evaluation_date, E + timedelta(days=1))
        self.assertEqual(profile.recency_days, 30)
        self.assertEqual(self.program.last_run_date, E + timedelta(days=1))
        # the computed recency sorts and filters as the stored one did
        Profile = self.env["customer.tier.profile"]
        recent = Profile.search(
            [
                ("company_id", "=", self.company.id),
                ("is_prospect", "=", False),
                ("recency_days", "<=", 42),
            ]
        )
        self.assertEqual(recent.partner_id, self.customers[0] | self.customers[3])
        ordered = Profile.search(
            [("partner_id", "in", self.customers.ids)], order="recency_days desc"
        )
        self.assertEqual(
            ordered.mapped("recency_days"),
            sorted(ordered.mapped("recency_days"), reverse=True),
        )

    def test_new_order_rewrites_its_customer(self):
        """A customer with a new order is written, with its categories
        computed again alone; the others are not, though their company-wide
        figures (share, cumulative share, rank) moved with it: the profiles
        read them from the ranking snapshot."""
        self._run(E)
        before, shares, scores = self._tuples(), self._shares(), self._rfm()
        buyer = self.customers[2]
        self._buy(buyer, 700, E + timedelta(days=1))
        with self._category_scopes() as scopes:
            result = self._run(E + timedelta(days=1))
        after = self._tuples()
        moved = {pid for pid, share in self._shares().items() if share != shares[pid]}
        rewritten = {pid for pid in before if before[pid] != after[pid]}
        self.assertIn(buyer.id, moved)
        self.assertEqual(moved, set(self.customers.ids))
        # (the RFM scores are stored: the buyer's third order moves others'
        # frequency score)
        scored = {pid for pid, score in self._rfm().items() if score != scores[pid]}
        self.assertTrue(scored - {buyer.id})
        self.assertEqual(rewritten, scored | {buyer.id})
        self.assertEqual(result["written"], len(rewritten))
        # (the prospect has no share: never rewritten)
        self.assertNotIn(self.prospect.id, rewritten)
        self.assertEqual(scopes, [[buyer.id]])
        profile = self._profile(buyer)
        self.assertEqual(profile.order_count, 3)
        self.assertEqual(profile.recency_days, 0)

    def test_order_leaving_the_window_writes_its_customer_alone(self):
        """A next day on which one customer's order leaves the window: the
        company total moves, so every customer's share and cumulative share
        move, yet only that customer's profile is written; the others read
        their figures over the new total from the ranking snapshot, whose
        entries are written only where they changed."""
        # the first order of Leaving leaves the window of 2024-08-20, no
        # other order: Leaving stays the last by revenue and the first by
        # orders (the others' RFM scores stay)
        leaving = self._customer("Leaving")
        self._buy_many(
            leaving,
            [(100, date(2023, 8, 20))]
            + [(100, date(2024, month, 10)) for month in (1, 3, 5, 7)],
        )
        day = date(2024, 8, 20)
        self._run(day - timedelta(days=1))
        before = self._tuples()
        shares = self._shares()
        entries = self._entries_written()
        result = self._run(day)
        after = self._tuples()
        rewritten = {pid for pid in before if before[pid] != after[pid]}
        self.assertEqual(rewritten, {leaving.id})
        self.assertEqual(result["written"], 1)
        self.assertEqual(self._profile(leaving).revenue_window, 400)
        # the shares every customer reads: over the new total
        customers = self.customers | leaving
        profiles = self.env["customer.tier.profile"].search(
            [("partner_id", "in", customers.ids)]
        )
        total = sum(profiles.mapped("revenue_window"))
        self.assertEqual(total, 2900 + 5000 + 600 + 17500 + 400)
        running = 0.0
        ranked = sorted(profiles, key=lambda p: (-p.revenue_window, p.partner_id.id))
        now = self._shares()
        for rank, profile in enumerate(ranked, start=1):
            running += profile.revenue_window
            share, cumulative, pareto_rank = now[profile.partner_id.id]
            name = profile.partner_id.name
            self.assertEqual(pareto_rank, rank, name)
            self.assertAlmostEqual(share, profile.revenue_window / total, 12, name)
            self.assertAlmostEqual(cumulative, running / total, 12, name)
            self.assertNotEqual(share, shares[profile.partner_id.id][0], name)
        self.assertEqual(now[self.prospect.id], (0.0, 0.0, 0))
        # the others' ranks and cumulative values stay: Leaving's entry alone
        # is written
        self.assertEqual(self._entries_written() - entries, 1)
        # the figures sort and filter by the same definition
        Profile = self.env["customer.tier.profile"]
        self.assertEqual(
            Profile.search([("partner_id", "in", customers.ids)], order="pareto_rank"),
            Profile.browse([p.id for p in ranked]),
        )
        self.assertEqual(
            Profile.search(
                [
                    ("partner_id", "in", customers.ids),
                    ("cumulative_share", "<=", 0.9),
                ]
            ).partner_id,
            self.customers[3] | self.customers[1],
        )

    def test_shifted_entries_are_updated_in_place(self):
        """A next day on which a new customer outranks every other, with
        the fewest orders and the oldest last order: the rank, cumulative
        value and recency and frequency counts of every other entry move,
        and each of these updates is heap-only (no index of the entries
        written)."""
        day = date(2024, 7, 1)
        self._run(day - timedelta(days=1))
        top = self._customer("Outranks all")
        # (no refresh: the new customer's entry is inserted by the run)
        with self._no_refresh():
            self._order(top, 50000, date(2023, 9, 1))
        self.env.flush_all()

        def updates():
            return self.env.execute_query(
                SQL(
                    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                    "WHERE relname = 'customer_tier_ranking_entry'"
                )
            )[0]

        def entries():
            return {
                pid: tuple(figures)
                for pid, *figures in self.env.execute_query(
                    SQL(
                        "SELECT partner_id, rank, r_le, f_le "
                        "FROM customer_tier_ranking_entry "
                        "WHERE company_id = %s AND member",
                        self.company.id,
                    )
                )
            }

        ranks = entries()
        updated, hot = updates()
        self._run(day)
        updated_after, hot_after = updates()
        now = entries()
        self.assertEqual(
            {pid: now[pid] for pid in ranks},
            {pid: tuple(n + 1 for n in figures) for pid, figures in ranks.items()},
        )
        self.assertGreaterEqual(updated_after - updated, len(ranks))
        self.assertEqual(hot_after - hot, updated_after - updated)

    def test_reading_shares_costs_one_query(self):
        """The shares of a page of profiles: one query, whatever the page."""
        self._run(E)
        for index in range(6):
            self._buy_many(self._customer(f"Page {index}"), [(50 * (index + 1), E)])
        self._run(E)
        Profile = self.env["customer.tier.profile"]
        for limit in (2, 10):
            profiles = Profile.search(
                [("company_id", "=", self.company.id)], limit=limit
            )
            self.assertEqual(len(profiles), limit)
            self.env.invalidate_all()
            with self.assertQueryCount(1):
                values = profiles.read(
                    ["revenue_share", "cumulative_share", "pareto_rank"]
                )
            self.assertEqual(len(values), limit)

    def test_order_leaving_the_window_is_noticed(self):
        """An order leaving the window changes its customer's window figures
        and product categories, though no order was written."""
        category = self.env["product.category"].create({"name": "Steady other"})
        other = self.env["product.product"].create(
            {
                "name": "Steady Other Valve",
                "type": "consu",
                "categ_id": category.id,
                "taxes_id": [Command.clear()],
            }
        )
        customer = self._customer("Leaving")
        with patch.object(type(self), "product", other):
            self._buy(customer, 4000, date(2023, 7, 10))
        self._buy(customer, 1000, date(2024, 5, 1))
        self._run(E)
        profile = self._profile(customer)
        self.assertEqual(profile.main_category_id, category)
        self.assertEqual(profile.order_count_window, 2)
        before = self._tuples()
        # 2023-07-10 leaves the window ending 2024-07-10
        with self._category_scopes() as scopes:
            self._run(date(2024, 7, 10))
        self.assertEqual(scopes, [[customer.id]])
        profile = self._profile(customer)
        self.assertEqual(profile.order_count_window, 1)
        self.assertEqual(profile.main_category_id, self.product.categ_id)
        self.assertEqual(profile.top_category_ids, self.product.categ_id)
        self.assertNotEqual(self._tuples()[customer.id], before[customer.id])

    def test_product_change_computes_every_category(self):
        """A product or category changed since the last full evaluation: every
        customer's categories are computed again (one company-wide query)."""
        self._run(E)
        self.product.categ_id.name = "Renamed"
        self.env.flush_all()
        # (the test runs in one transaction, whose time every write takes:
        # the rename is dated after the run, as it would be)
        self.env.cr.execute(
            SQL(
                "UPDATE product_category SET write_date = %s WHERE id = %s",
                self.program.last_run_at + timedelta(seconds=1),
                self.product.categ_id.id,
            )
        )
        with self._category_scopes() as scopes:
            self._run(E + timedelta(days=1))
        self.assertEqual(scopes, [None])
        self.assertIn("Renamed", self._profile(self.customers[0]).category_summary)

    def test_steady_state_query_count(self):
        """A next-day run over unchanged data costs the same number of
        queries whatever the number of customers."""
        self._run(E)
        with self.assertQueryCount(14):
            self._run(E + timedelta(days=1))
        for index in range(6):
            self._buy_many(self._customer(f"More {index}"), [(100 * (index + 1), E)])
        self._run(E + timedelta(days=2))
        with self.assertQueryCount(14):
            self._run(E + timedelta(days=3))

    def test_cron_after_a_complete_run_writes_nothing(self):
        """The scheduled recompute of a day the program was already fully
        evaluated (an unbatched run, which leaves unchanged profiles with
        their older ``full_evaluation_date``) finds nothing pending and
        writes nothing."""
        day = E + timedelta(days=1)
        self._run(E)
        self._run(day)
        engine = self.program._engine()
        self.assertEqual(engine._count_pending(day), 0)
        before = self._tuples()
        written = self._written()
        # other companies' programs of the database are not this test's
        others = self.env["customer.tier.program"].search(
            [("id", "!=", self.program.id)]
        )
        others.write({"last_run_date": day})
        with freeze_time(datetime(day.year, day.month, day.day, 12, 0)):
            self.env["customer.tier.program"]._cron_recompute()
        self.assertEqual(self._tuples(), before)
        self.assertEqual(self._written(), written)

    def test_invoiced_basis_next_day_reads_no_line(self):
        """On the invoiced revenue basis the stored money is invoiced while
        the orders' scan gives the orders' money: the orders' counts, dates
        and marker alone tell whether a customer's orders changed, so an
        unchanged next day still reads no order line and writes nothing."""
        self.program.revenue_basis = "invoiced"
        self._run(E)
        before = self._tuples()
        with self._category_scopes() as scopes:
            result = self._run(E + timedelta(days=1))
        self.assertEqual(scopes, [])
        self.assertEqual(result["written"], 0)
        self.assertEqual(self._tuples(), before)
