"""The figures of a profile, threshold tiers and refresh on orders."""

import math
import random
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import numpy as np
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestFigures(CustomerTierCase):
    """Hand-computed figures on a small known set, evaluated on 2024-06-30.

    Window (12 months): orders dated 2023-07-01 .. 2024-06-30 (UTC dates).
    EUR rates of company A: 0.5 EUR/USD in 2022-2023, 0.8 EUR/USD from 2024.
    Every order has one line of cost 60 USD, so the margin of an order in
    company currency is its revenue in company currency minus 60.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alpha = cls._customer("Alpha Trading")
        cls.bob = cls._contact(cls.alpha, "Bob Buyer")
        cls.beta = cls._customer("Beta Import")
        cls.gamma = cls._customer("Gamma Edges")
        cls.delta = cls._customer("Delta Once")
        cls.epsilon = cls._customer("Epsilon Lapsed")
        cls.eta = cls._customer("Eta Quotes")
        cls.zeta = cls._customer("Zeta Prospect", customer_rank=1)
        # Alpha: 1,000 USD before the window, 800 EUR by its contact Bob at
        # 0.8 (= 1,000 USD), 3,000 USD; quotations and a cancelled order.
        cls._order(cls.alpha, 1000, date(2023, 1, 15))
        cls.bob_order = cls._order(cls.bob, 800, date(2024, 2, 10), currency=cls.eur)
        cls._order(cls.alpha, 3000, date(2024, 5, 1))
        cls._order(cls.alpha, 5000, date(2024, 5, 2), state="draft")
        cls._order(cls.alpha, 5000, date(2024, 5, 2), state="sent")
        cls._order(cls.alpha, 5000, date(2024, 5, 2), state="cancel")
        # Alpha in company B: kept apart
        cls._order(cls.alpha, 7000, date(2024, 3, 1), company=cls.company_b)
        # Beta: 1,000 EUR at 0.5 (= 2,000 USD) and 1,000 EUR at 0.8 (= 1,250)
        cls.beta_order_2023 = cls._order(
            cls.beta, 1000, date(2023, 9, 1), currency=cls.eur
        )
        cls._order(cls.beta, 1000, date(2024, 3, 1), currency=cls.eur)
        # Gamma: window edges, to the second
        cls._order(
            cls.gamma, 100, datetime(2023, 6, 30, 23, 59, 59)
        )  # window start day: out
        cls._order(cls.gamma, 200, datetime(2023, 7, 1, 0, 0, 0))  # day after: in
        cls._order(cls.gamma, 400, datetime(2024, 6, 30, 23, 59, 59))  # eval date: in
        cls._order(
            cls.gamma, 800, datetime(2024, 7, 1, 0, 0, 0)
        )  # after eval date: out
        # Delta: one order
        cls._order(cls.delta, 500, date(2024, 1, 10))
        # Epsilon: four orders 31 days apart on average, none since November
        for day in (
            date(2023, 8, 1),
            date(2023, 9, 1),
            date(2023, 10, 2),
            date(2023, 11, 2),
        ):
            cls._order(cls.epsilon, 250, day)
        # Eta: only a quotation, a sent quotation and a cancelled order
        cls._order(cls.eta, 5000, date(2024, 5, 1), state="draft")
        cls._order(cls.eta, 5000, date(2024, 5, 1), state="sent")
        cls._order(cls.eta, 5000, date(2024, 5, 1), state="cancel")
        cls.result = cls._run(cls.eval_date)
        cls.result_b = cls._run(cls.eval_date, company=cls.company_b)

    def assertFigures(self, profile, expected):
        for name, value in expected.items():
            actual = profile[name]
            if isinstance(value, float):
                self.assertAlmostEqual(actual, value, places=4, msg=name)
            else:
                self.assertEqual(actual, value, name)

    # ------------------------------------------------------------------
    def test_order_rates_as_stored(self):
        """The fixture dates the orders as intended, with the rate of the day."""
        self.assertEqual(self.bob_order.currency_rate, self.EUR_RATE_2024)
        self.assertEqual(self.beta_order_2023.currency_rate, self.EUR_RATE_2022)
        self.assertEqual(self.bob_order.date_order.date(), date(2024, 2, 10))

    def test_two_currencies_and_contact_rollup(self):
        profile = self._profile(self.alpha)
        self.assertEqual(len(profile), 1)
        self.assertFalse(self._profile(self.bob) - profile)
        self.assertFalse(
            self.env["customer.tier.profile"].search([("partner_id", "=", self.bob.id)])
        )
        self.assertFigures(
            profile,
            {
                "is_prospect": False,
                "revenue_window": 4000.0,  # 800 / 0.8 + 3000
                "margin_window": 3880.0,  # 940 + 2940
                "order_count_window": 2,
                "revenue_total": 5000.0,
                "margin_total": 4820.0,
                "order_count": 3,
                "first_order_date": date(2023, 1, 15),
                "last_order_date": date(2024, 5, 1),
                "recency_days": 60,
                "average_order_value": 2000.0,
                "orders_per_year": 2.0,
                "reorder_cycle_days": 236.0,  # 472 days / 2 gaps
                "expected_order_date": date(2024, 12, 23),
                "reorder_overdue": False,
                "frequency_class": "occasional",
                "evaluation_date": self.eval_date,
            },
        )
        beta = self._profile(self.beta)
        self.assertFigures(
            beta,
            {
                "revenue_window": 3250.0,  # 1000 / 0.5 + 1000 / 0.8
                "margin_window": 3130.0,
                "revenue_total": 3250.0,
                "order_count": 2,
                "recency_days": 121,
                "reorder_cycle_days": 182.0,
                "expected_order_date": date(2024, 8, 30),
                "reorder_overdue": False,
            },
        )

    def test_quotations_and_cancelled_orders_ignored(self):
        # Alpha's 3 x 5,000 quotations/cancelled order are not in its figures
        self.assertEqual(self._profile(self.alpha).revenue_total, 5000.0)
        eta = self._profile(self.eta)
        # Eta's cancelled order had made it a customer: it is a prospect again
        self.assertEqual(len(eta), 1)
        self.assertFigures(
            eta,
            {
                "is_prospect": True,
                "revenue_window": 0.0,
                "revenue_total": 0.0,
                "order_count": 0,
                "order_count_window": 0,
                "last_order_date": False,
                "pareto_rank": 0,
            },
        )
        self.assertFalse(eta.tier_id)
        self.assertFalse(self.eta.with_company(self.company).customer_tier_id)

    def test_window_edges(self):
        self.assertEqual(
            self.program._engine()._window(self.eval_date),
            (date(2023, 7, 1), date(2024, 7, 1)),
        )
        self.assertFigures(
            self._profile(self.gamma),
            {
                "revenue_window": 600.0,  # 200 + 400
                "order_count_window": 2,
                "margin_window": 480.0,
                "revenue_total": 700.0,  # the order after the eval date never counts
                "order_count": 3,
                "first_order_date": date(2023, 6, 30),
                "last_order_date": date(2024, 6, 30),
                "recency_days": 0,
                "reorder_cycle_days": 183.0,  # 366 days / 2
                "expected_order_date": date(2024, 12, 30),
                "average_order_value": 300.0,
            },
        )
        # one day later the order of 2024-07-01 counts and 2023-07-01 leaves
        self._run(date(2024, 7, 1))
        self.assertFigures(
            self._profile(self.gamma),
            {
                "revenue_window": 1200.0,  # 400 + 800
                "order_count": 4,
                "recency_days": 0,
                "last_order_date": date(2024, 7, 1),
            },
        )

    def test_companies_kept_apart(self):
        profile_a = self._profile(self.alpha)
        profile_b = self._profile(self.alpha, company=self.company_b)
        self.assertNotEqual(profile_a, profile_b)
        self.assertEqual(profile_b.program_id, self.program_b)
        self.assertFigures(
            profile_b,
            {
                "revenue_window": 7000.0,
                "revenue_total": 7000.0,
                "order_count": 1,
                "revenue_share": 1.0,
                "cumulative_share": 1.0,
                "pareto_rank": 1,
            },
        )
        self.assertEqual(profile_a.revenue_total, 5000.0)
        self.assertEqual(
            self.env["customer.tier.profile"].search_count(
                [("company_id", "=", self.company_b.id), ("is_prospect", "=", False)]
            ),
            1,
        )
        # each company's tier is mirrored on the partner, per company
        self.assertEqual(
            self.alpha.with_company(self.company).customer_tier_id, profile_a.tier_id
        )
        self.assertEqual(
            self.alpha.with_company(self.company_b).customer_tier_id, profile_b.tier_id
        )
        self.assertEqual(profile_b.tier_id.program_id, self.program_b)
        # evaluating company B again leaves company A's profile alone
        write_date = profile_a.write_date
        self._run(date(2024, 7, 1), company=self.company_b)
        self.assertEqual(profile_a.evaluation_date, self.eval_date)
        self.assertEqual(profile_a.write_date, write_date)

    def test_one_order(self):
        self.assertFigures(
            self._profile(self.delta),
            {
                "order_count": 1,
                "revenue_window": 500.0,
                "margin_window": 440.0,
                "first_order_date": date(2024, 1, 10),
                "last_order_date": date(2024, 1, 10),
                "recency_days": 172,
                "reorder_cycle_days": 0.0,
                "expected_order_date": False,
                "reorder_overdue": False,
                "frequency_class": "one_time",
                "orders_per_year": 1.0,
            },
        )

    def test_reorder_cycle_overdue_and_frequent(self):
        self.assertFigures(
            self._profile(self.epsilon),
            {
                "order_count": 4,
                "order_count_window": 4,
                "revenue_window": 1000.0,
                "reorder_cycle_days": 31.0,  # 93 days / 3 gaps
                "expected_order_date": date(2023, 12, 3),
                "recency_days": 241,
                "reorder_overdue": True,  # 241 > 31 x 1.5
                "orders_per_year": 4.0,
                "frequency_class": "frequent",  # 4 orders/year >= 4
            },
        )
        self.assertTrue(self.epsilon.with_company(self.company).tier_reorder_overdue)
        self.assertIn(
            self.epsilon,
            self.env["res.partner"].search([("tier_reorder_overdue", "=", True)]),
        )
        self.assertNotIn(
            self.alpha,
            self.env["res.partner"].search([("tier_reorder_overdue", "=", True)]),
        )
        # overdue only past cycle x factor: 241 days <= 31 x 8
        self.program.reorder_overdue_factor = 241 / 31
        self._run(self.eval_date)
        self.assertFalse(self._profile(self.epsilon).reorder_overdue)
        self.program.frequent_orders_per_year = 4.5
        self._run(self.eval_date)
        self.assertEqual(self._profile(self.epsilon).frequency_class, "occasional")

    def test_pareto_share_and_rank(self):
        total = 9350.0  # 4000 + 3250 + 1000 + 600 + 500
        expected = [
            (self.alpha, 4000.0, 1),
            (self.beta, 3250.0, 2),
            (self.epsilon, 1000.0, 3),
            (self.gamma, 600.0, 4),
            (self.delta, 500.0, 5),
        ]
        running = 0.0
        for partner, revenue, rank in expected:
            running += revenue
            self.assertFigures(
                self._profile(partner),
                {
                    "pareto_rank": rank,
                    "revenue_share": revenue / total,
                    "cumulative_share": running / total,
                },
            )
        self.assertAlmostEqual(self._profile(self.delta).cumulative_share, 1.0)

    def test_rfm_scores(self):
        segments = {s.code: s for s in self.program.segment_ids}
        # R by recency 60/121/0/172/241, F by window orders 2/2/2/1/4,
        # M by window revenue 4000/3250/600/500/1000 (quintiles of 5)
        expected = {
            self.alpha: (4, 4, 5, "champions"),  # FM = (4 + 5 + 1) // 2 = 5
            self.beta: (3, 4, 4, "loyal"),
            self.gamma: (5, 4, 2, "loyal"),  # FM 3
            self.delta: (2, 1, 1, "hibernating"),
            self.epsilon: (1, 5, 3, "cant_lose"),  # FM 4
        }
        for partner, (r, f, m, segment) in expected.items():
            profile = self._profile(partner)
            self.assertEqual(
                (
                    profile.rfm_recency_score,
                    profile.rfm_frequency_score,
                    profile.rfm_monetary_score,
                    profile.rfm_segment_id,
                ),
                (r, f, m, segments[segment]),
                partner.name,
            )

    def test_prospect_profile(self):
        profile = self._profile(self.zeta)
        self.assertTrue(profile.is_prospect)
        self.assertEqual(profile.order_count, 0)
        self.assertFalse(profile.tier_id)
        self.assertTrue(self.zeta.with_company(self.company).tier_is_prospect)
        # a partner that never was a customer gets no profile
        nobody = self._customer("Nobody")
        self._run(self.eval_date)
        self.assertFalse(self._profile(nobody))

    def test_default_thresholds_and_partner_mirror(self):
        expected = {
            self.alpha: self.tier_b,  # 4,000 / 2 orders / 60 days
            self.beta: self.tier_b,
            self.gamma: self.tier_c,
            self.delta: self.tier_c,  # exactly 500
            self.epsilon: self.tier_c,
        }
        for partner, tier in expected.items():
            profile = self._profile(partner)
            self.assertEqual(profile.computed_tier_id, tier, partner.name)
            self.assertEqual(profile.tier_id, tier, partner.name)
            self.assertEqual(
                partner.with_company(self.company).customer_tier_id, tier, partner.name
            )
        # the contact shows its company's tier and figures
        bob = self.bob.with_company(self.company)
        self.assertEqual(bob.customer_tier_id, self.tier_b)
        self.assertEqual(bob.customer_tier_profile_id, self._profile(self.alpha))
        self.assertEqual(bob.tier_revenue_window, 4000.0)
        # searchable and groupable tier on partners
        found = self.env["res.partner"].search(
            [("customer_tier_id", "=", self.tier_b.id), ("is_company", "=", True)]
        )
        self.assertEqual(found, self.alpha | self.beta)
        groups = dict(
            self.env["res.partner"]._read_group(
                [("id", "in", (self.alpha | self.beta | self.gamma).ids)],
                ["customer_tier_id"],
                ["__count"],
            )
        )
        self.assertEqual(groups, {self.tier_b: 2, self.tier_c: 1})
        # the move to the tier is logged in the history on the evaluation date
        history = self._profile(self.alpha).history_ids
        self.assertEqual(history.sorted("id")[:1].cause, "initial")
        move = history.filtered(lambda h: h.date == self.eval_date)
        self.assertEqual(move.to_tier_id, self.tier_b)

    def test_contacts_read_the_tier_of_their_company(self):
        # company B evaluated too: Alpha has an order there
        self._run(company=self.company_b)
        alpha_b = self._profile(self.alpha, self.company_b)
        self.assertTrue(alpha_b.tier_id)
        # the engine stores the tier on the commercial partners only ...
        self.env.cr.execute(
            "SELECT id FROM res_partner WHERE commercial_tier_id IS NOT NULL "
            "AND id != commercial_partner_id AND id = ANY(%s)",
            [self.bob.ids],
        )
        self.assertFalse(self.env.cr.fetchall(), "a contact row was written")
        # ... so a contact created or moved later (by whoever may manage
        # contacts) shows its company's tier at once, without a recompute, to
        # the least-privileged salesperson of each company
        carol_admin = self.env["res.partner"].create(
            {"name": "Carol", "parent_id": self.alpha.id}
        )
        own = self._env_as(self.user_own)["res.partner"]
        carol = own.browse(carol_admin.id)
        self.assertEqual(carol.customer_tier_id, self.tier_b)
        carol_b = self._env_as(self.user_b)["res.partner"].browse(carol.id)
        self.assertEqual(carol_b.customer_tier_id, alpha_b.tier_id)
        carol_admin.parent_id = self.gamma
        self.assertEqual(carol.customer_tier_id, self.tier_c)
        self.assertFalse(carol_b.customer_tier_id, "Gamma has no tier in B")
        carol_admin.parent_id = False
        self.assertFalse(carol.customer_tier_id)
        carol_admin.parent_id = self.gamma
        # contacts are found (also through the list's tier filter) and
        # grouped with their company
        found = own.search(
            [("customer_tier_id", "=", self.tier_c.id), ("id", "in", carol.ids)]
        )
        self.assertEqual(found, carol)
        search_view = etree.fromstring(
            own.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        (tier_c_filter,) = search_view.xpath("//filter[@name='tier_c']")
        domain = safe_eval(tier_c_filter.get("domain"), {"uid": self.user_own.id})
        self.assertEqual(own.search([*domain, ("id", "=", carol.id)]), carol)
        groups = dict(
            own._read_group(
                [("id", "in", (self.alpha | self.bob | self.gamma | carol).ids)],
                ["customer_tier_id"],
                ["__count"],
            )
        )
        self.assertEqual(groups, {self.tier_b: 2, self.tier_c: 2})
        # in company B, Bob goes with Alpha's tier there and Carol with none
        groups_b = dict(
            self._env_as(self.user_b)["res.partner"]._read_group(
                [("id", "in", (self.bob | carol).ids)],
                ["customer_tier_id"],
                ["__count"],
            )
        )
        self.assertEqual(groups_b, {alpha_b.tier_id: 1, alpha_b.tier_id.browse(): 1})

    def test_order_of_a_contact_reads_the_stored_tier(self):
        # an order placed by a contact reads its customer's tier from the
        # commercial partner's stored column (going through the related
        # customer_tier_id would fetch the commercial partner's record once
        # more: 6 and 4 queries)
        order = self._order(self.bob, 100, date(2024, 6, 29), state="draft")
        self.env.invalidate_all()
        with self.assertQueryCount(5):
            self.assertEqual(order.customer_tier_id, self.tier_b)
        self.env.invalidate_all()
        with self.assertQueryCount(3):
            self.assertEqual(order._tier_points_tier(), self.tier_b)


@tagged("post_install", "-at_install")
class TestThresholds(CustomerTierCase):
    """A customer gets the best tier whose conditions it meets; 0 = none."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.engine = cls.program._engine()

    def _tier(self, revenue, orders, recency, margin=0.0):
        self.engine = self.program._engine()  # re-read the tiers
        return self.engine.computed_tier(
            {
                "revenue_window": revenue,
                "order_count_window": orders,
                "recency_days": recency,
                "margin_window": margin,
            }
        )

    def test_each_condition(self):
        # A 10,000 / 3 / 180 days; B 2,000 / 2 / 270; C 500 / - / 365; D
        self.assertEqual(self._tier(20000, 5, 10), self.tier_a)
        self.assertEqual(self._tier(10000, 3, 180), self.tier_a)  # bounds included
        self.assertEqual(self._tier(9999.99, 3, 180), self.tier_b)  # revenue
        self.assertEqual(self._tier(20000, 2, 10), self.tier_b)  # orders
        self.assertEqual(self._tier(20000, 5, 181), self.tier_b)  # recency
        self.assertEqual(self._tier(20000, 1, 10), self.tier_c)
        self.assertEqual(self._tier(20000, 5, 300), self.tier_c)
        self.assertEqual(
            self._tier(500, 0, 365), self.tier_c
        )  # no order condition on C
        self.assertEqual(self._tier(499.99, 5, 1), self.tier_d)  # fallback
        self.assertEqual(self._tier(20000, 5, 366), self.tier_d)

    def test_margin_condition(self):
        self.tier_a.min_margin = 5000
        self.assertEqual(self._tier(20000, 5, 10, margin=4999.99), self.tier_b)
        self.assertEqual(self._tier(20000, 5, 10, margin=5000), self.tier_a)

    def test_zero_means_no_condition(self):
        self.tier_c.max_recency_days = 0
        self.assertEqual(self._tier(600, 0, 5000), self.tier_c)
        # (C may not ask more than B: it loses its revenue condition first)
        self.tier_c.min_revenue = 0
        self.tier_b.write({"min_revenue": 0, "min_orders": 0, "max_recency_days": 0})
        # a tier without any condition takes everyone the better tiers left
        self.assertEqual(self._tier(0, 0, 9999), self.tier_b)
        self.assertEqual(self._tier(20000, 5, 10), self.tier_a)

    def test_fallback_is_last_tier(self):
        # the fallback's own conditions do not apply: it takes everyone else
        self.tier_d.min_revenue = 1000000
        self.assertEqual(self._tier(0, 0, 9999), self.tier_d)
        self.assertTrue(self.tier_d.is_fallback)
        self.assertFalse(self.tier_c.is_fallback)
        # reordering moves the fallback role; D's own condition then applies
        # (and may not ask more than B)
        self.tier_d.min_revenue = 1000
        self.tier_c.sequence = 100
        self.assertEqual(self._tier(0, 0, 9999), self.tier_c)
        self.assertEqual(self._tier(600, 0, 10), self.tier_c)
        self.assertEqual(self._tier(1000, 0, 10), self.tier_d)  # D's own condition
        self.tier_d.invalidate_recordset(["is_fallback"])
        self.assertTrue(self.tier_c.is_fallback)

    def test_assignment_on_orders(self):
        alpha = self._customer("Alpha")
        beta = self._customer("Beta")
        self._order(alpha, 4000, date(2024, 5, 1))
        self._order(alpha, 1000, date(2024, 6, 1))
        self._order(beta, 3000, date(2024, 6, 1))
        self.tier_a.write(
            {"min_revenue": 4500, "min_orders": 2, "max_recency_days": 90}
        )
        self._run()
        self.assertEqual(self._profile(alpha).tier_id, self.tier_a)
        self.assertEqual(self._profile(beta).tier_id, self.tier_c)  # B needs 2 orders
        # margin 5000 - 2 x 60 = 4880
        self.tier_a.min_margin = 4880.01
        rows, _changes = self.program._engine().plan(self.eval_date)
        self.assertEqual(rows[alpha.id]["margin_window"], 4880.0)
        self.assertEqual(rows[alpha.id]["computed_tier_id"], self.tier_b.id)
        self.tier_a.min_margin = 4880
        rows, _changes = self.program._engine().plan(self.eval_date)
        self.assertEqual(rows[alpha.id]["computed_tier_id"], self.tier_a.id)


@tagged("post_install", "-at_install")
class TestRefreshOnOrders(CustomerTierCase):
    """Confirming or cancelling an order refreshes that customer at once."""

    def test_confirm_and_cancel_refresh(self):
        omega = self._customer("Omega")
        contact = self._contact(omega, "Olga")
        with freeze_time("2024-06-30 10:00:00"):
            first = self._order(contact, 2500, date(2024, 6, 30), state="draft")
            self.assertFalse(self._profile(omega))
            first.action_confirm()
            profile = self._profile(omega)
            self.assertEqual(len(profile), 1)
            self.assertEqual(profile.evaluation_date, date(2024, 6, 30))
            self.assertFalse(profile.is_prospect)
            self.assertEqual(profile.revenue_window, 2500.0)
            self.assertEqual(profile.order_count, 1)
            self.assertEqual(profile.tier_id, self.tier_c)  # B needs two orders
            self.assertEqual(
                omega.with_company(self.company).customer_tier_id, self.tier_c
            )
            self.assertEqual(
                contact.with_company(self.company).customer_tier_id, self.tier_c
            )
            self.assertEqual(profile.history_ids.cause, "initial")

            second = self._order(omega, 1000, date(2024, 6, 30), state="draft")
            second.action_confirm()
            self.assertEqual(profile.revenue_window, 3500.0)
            self.assertEqual(profile.order_count, 2)
            self.assertEqual(profile.tier_id, self.tier_b)  # upgrades apply at once
            self.assertEqual(
                omega.with_company(self.company).customer_tier_id, self.tier_b
            )

            second._action_cancel()
            self.assertEqual(profile.revenue_window, 2500.0)
            self.assertEqual(profile.order_count, 1)
            self.assertEqual(profile.computed_tier_id, self.tier_c)
            # a downgrade waits for the next full evaluation (grace)
            self.assertEqual(profile.tier_id, self.tier_b)

            first._action_cancel()
            self.assertTrue(profile.is_prospect)
            self.assertEqual(profile.order_count, 0)
            self.assertFalse(profile.tier_id)
            self.assertFalse(omega.with_company(self.company).customer_tier_id)

    def test_refresh_only_that_customer(self):
        other = self._customer("Other")
        self._order(other, 800, date(2024, 6, 1))
        self._run(self.eval_date)
        other_profile = self._profile(other)
        evaluated = other_profile.evaluation_date
        omega = self._customer("Omega")
        with freeze_time("2024-07-15 10:00:00"):
            self._order(omega, 100, date(2024, 7, 15), state="draft").action_confirm()
        self.assertEqual(self._profile(omega).evaluation_date, date(2024, 7, 15))
        self.assertEqual(other_profile.evaluation_date, evaluated)
        # Pareto share against the stored others: 800 + 100
        self.assertAlmostEqual(self._profile(omega).revenue_share, 100 / 900, places=4)

    def test_other_company_order_refreshes_that_company(self):
        omega = self._customer("Omega")
        with freeze_time("2024-06-30 10:00:00"):
            self._order(
                omega, 100, date(2024, 6, 30), company=self.company_b, state="draft"
            ).action_confirm()
        self.assertFalse(self._profile(omega))
        self.assertEqual(
            self._profile(omega, company=self.company_b).revenue_window, 100.0
        )

    # Queries of a one-customer refresh (engine, profile upsert, partner mirror
    # and the extension points of the installed features). Measured, then
    # pinned: it must not grow with the number of customers of the company.
    # with the prediction (the churn flags; its inputs come from the engine's
    # aggregate) and the dimensions (prospect inputs, categories, the
    # dimension columns)
    REFRESH_QUERIES = 28

    def _measure_refresh(self, order):
        with freeze_time("2024-06-30 10:00:00"):
            order._refresh_customer_tiers()  # warm-up: registry caches
            self.env.invalidate_all()
            with self.assertQueryCount(self.REFRESH_QUERIES):
                order._refresh_customer_tiers()
            # the same, counted by hand, to compare two company sizes
            self.env.invalidate_all()
            self.env.flush_all()
            self.cr.flush()
            count = self.cr.sql_log_count
            order._refresh_customer_tiers()
            self.env.flush_all()
            self.cr.flush()
            return self.cr.sql_log_count - count

    def test_refresh_query_count(self):
        omega = self._customer("Omega")
        with freeze_time("2024-06-30 10:00:00"):
            order = self._order(omega, 2500, date(2024, 6, 30), state="draft")
            order.action_confirm()
            self._order(omega, 100, date(2024, 6, 29))
        self._run(self.eval_date)
        few = self._measure_refresh(order)
        # 50 more customers with orders, profiles built by one full run
        partners = self.env["res.partner"].create(
            [{"name": f"Bulk {i}", "is_company": True} for i in range(50)]
        )
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "pricelist_id": self.pricelists[(self.usd, self.company)].id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self.product.id,
                                "price_unit": 10.0 * (i + 1),
                            },
                        )
                    ],
                }
                for i, partner in enumerate(partners)
            ]
        )
        with freeze_time("2024-06-30 10:00:00"):
            orders.action_confirm()
        self._run(self.eval_date)
        self.assertEqual(
            self.env["customer.tier.profile"].search_count(
                [("company_id", "=", self.company.id), ("is_prospect", "=", False)]
            ),
            51,
        )
        self.assertEqual(self._measure_refresh(order), few)

    # Queries of an order confirmation (sale.order.action_confirm) with the
    # module, and without its hook (the customer's refresh): measured, then
    # pinned; neither grows with the number of customers of the company.
    CONFIRM_QUERIES = 90
    CONFIRM_QUERIES_WITHOUT_HOOK = 60

    def _measure_confirm(self, partner, amount):
        """Queries of confirming a new order of ``partner``, with and
        without the module's hook (each in a savepoint rolled back)."""
        counts = []
        with freeze_time("2024-06-30 10:00:00"):
            order = self._order(partner, amount, date(2024, 6, 30), state="draft")
            for hook, pinned in (
                (True, self.CONFIRM_QUERIES),
                (False, self.CONFIRM_QUERIES_WITHOUT_HOOK),
            ):
                for warm in (True, False):
                    with self.env.cr.savepoint(flush=True) as attempt:
                        self.env.invalidate_all()
                        self.cr.flush()
                        count = self.cr.sql_log_count
                        with (
                            patch.object(
                                type(self.env["sale.order"]),
                                "_refresh_customer_tiers",
                                lambda self: None,
                            )
                            if not hook
                            else nullcontext(),
                            self.assertQueryCount(pinned)
                            if not warm
                            else nullcontext(),
                        ):
                            order.action_confirm()
                            self.env.flush_all()
                        self.cr.flush()
                        if not warm:
                            counts.append(self.cr.sql_log_count - count)
                        self.assertEqual(order.state, "sale")
                        attempt.rollback()
                    self.env.invalidate_all()
        return counts

    def test_confirm_query_count(self):
        omega = self._customer("Omega")
        self._order(omega, 100, date(2024, 6, 29))
        self._run(self.eval_date)
        few = self._measure_confirm(omega, 2500)
        partners = self.env["res.partner"].create(
            [{"name": f"Bulk {i}", "is_company": True} for i in range(50)]
        )
        for index, partner in enumerate(partners):
            self._order(partner, 10.0 * (index + 1), date(2024, 6, 1))
        self._run(self.eval_date)
        self.assertEqual(self._measure_confirm(omega, 2500), few)


@tagged("post_install", "-at_install")
class TestIndependentComputation(CustomerTierCase):
    """Random customers and orders; every profile figure checked against a
    computation of its own from the sale_order table."""

    SEED = 20240630
    CUSTOMERS = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = random.Random(cls.SEED)
        # more EUR rates over the two years
        cls.env["res.currency.rate"].create(
            [
                {
                    "currency_id": cls.eur.id,
                    "name": day,
                    "rate": rate,
                    "company_id": cls.company.id,
                }
                for day, rate in (
                    ("2022-09-01", 0.61),
                    ("2023-03-15", 0.97),
                    ("2023-11-20", 1.13),
                    ("2024-04-01", 0.87),
                )
            ]
        )
        start = cls.eval_date - timedelta(days=730)
        cls.partners = cls.env["res.partner"]
        vals_list = []
        for i in range(cls.CUSTOMERS):
            partner = cls._customer(f"Random {i:02d}")
            contacts = [partner] + [
                cls._contact(partner, f"Random {i:02d} contact {j}")
                for j in range(rng.randint(0, 2))
            ]
            cls.partners |= partner
            for _n in range(rng.choice([0, 1, 1, 2, 3, 4, 5, 6, 8, 10])):
                day = start + timedelta(days=rng.randint(0, 760))
                when = datetime.combine(day, datetime.min.time()) + timedelta(
                    seconds=rng.randint(0, 86399)
                )
                currency = rng.choice([cls.usd, cls.eur])
                state = rng.choices(["sale", "draft", "sent", "cancel"], [85, 7, 4, 4])[
                    0
                ]
                vals_list.append(
                    (
                        {
                            "partner_id": rng.choice(contacts).id,
                            "company_id": cls.company.id,
                            "pricelist_id": cls.pricelists[(currency, cls.company)].id,
                            "date_order": when,
                            "order_line": [
                                (
                                    0,
                                    0,
                                    {
                                        "product_id": cls.product.id,
                                        "product_uom_qty": rng.randint(1, 5),
                                        "price_unit": round(rng.uniform(50, 9000), 2),
                                        "tax_id": [(5, 0, 0)],
                                    },
                                )
                            ],
                        },
                        state,
                    )
                )
        orders = cls.env["sale.order"].create([vals for vals, _state in vals_list])
        by_state = {
            state: orders.browse() for state in ("sale", "draft", "sent", "cancel")
        }
        for order, (_vals, state) in zip(orders, vals_list, strict=True):
            by_state[state] |= order
        (by_state["sale"] | by_state["cancel"]).action_confirm()
        by_state["cancel"]._action_cancel()
        by_state["sent"].state = "sent"
        for order, (vals, _state) in zip(orders, vals_list, strict=True):
            order.date_order = vals["date_order"]
        cls.orders = orders
        # one order in company B for a random customer: not counted in A
        cls._order(cls.partners[0], 12345, date(2024, 6, 1), company=cls.company_b)
        cls._run(cls.eval_date)

    def _expected(self):
        """Figures from sale_order alone (SQL rows, then plain Python)."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.commercial_partner_id, so.amount_untaxed, so.margin,
                       so.currency_rate, so.date_order::date
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.company_id = %s AND so.state = 'sale'
                """,
                self.company.id,
            )
        )
        program = self.program
        eval_date = self.eval_date
        window_after = eval_date - relativedelta(months=program.window_months)
        per_partner = {}
        for pid, amount, margin, rate, day in rows:
            if day > eval_date:
                continue
            per_partner.setdefault(pid, []).append(
                (day, float(amount) / rate, float(margin) / rate)
            )
        expected = {}
        for pid, orders in per_partner.items():
            days = sorted(o[0] for o in orders)
            window = [o for o in orders if o[0] > window_after]
            count = len(orders)
            revenue_w = round(sum(o[1] for o in window), 2)
            cycle = (days[-1] - days[0]).days / (count - 1) if count > 1 else None
            per_year = len(window) * 12 / program.window_months
            recency = (eval_date - days[-1]).days
            if count == 1:
                frequency = "one_time"
            elif per_year >= program.frequent_orders_per_year:
                frequency = "frequent"
            else:
                frequency = "occasional"
            expected[pid] = {
                "revenue_window": revenue_w,
                "margin_window": round(sum(o[2] for o in window), 2),
                "order_count_window": len(window),
                "revenue_total": round(sum(o[1] for o in orders), 2),
                "margin_total": round(sum(o[2] for o in orders), 2),
                "order_count": count,
                "first_order_date": days[0],
                "last_order_date": days[-1],
                "recency_days": recency,
                "average_order_value": round(revenue_w / len(window), 2)
                if window
                else 0.0,
                "orders_per_year": round(per_year, 2),
                "cycle": cycle,
                "reorder_overdue": bool(
                    cycle is not None
                    and recency > cycle * program.reorder_overdue_factor
                ),
                "frequency_class": frequency,
            }
        # Pareto: by window revenue, ties by partner id
        total = sum(e["revenue_window"] for e in expected.values())
        running = 0.0
        for rank, pid in enumerate(
            sorted(expected, key=lambda p: (-expected[p]["revenue_window"], p)), start=1
        ):
            running += expected[pid]["revenue_window"]
            expected[pid].update(
                pareto_rank=rank,
                revenue_share=expected[pid]["revenue_window"] / total,
                cumulative_share=running / total,
            )
        # RFM: ceil(5 x share of customers at most as good)
        n = len(expected)

        def score(better_or_equal):
            return max(1, min(5, math.ceil(round(5 * better_or_equal / n, 9))))

        for e in expected.values():
            others = expected.values()
            e["rfm_recency_score"] = score(
                sum(1 for o in others if o["recency_days"] >= e["recency_days"])
            )
            e["rfm_frequency_score"] = score(
                sum(
                    1
                    for o in others
                    if o["order_count_window"] <= e["order_count_window"]
                )
            )
            e["rfm_monetary_score"] = score(
                sum(1 for o in others if o["revenue_window"] <= e["revenue_window"])
            )
            fm = math.floor(
                (e["rfm_frequency_score"] + e["rfm_monetary_score"]) / 2 + 0.5
            )
            e["rfm_segment_id"] = next(
                (
                    s.id
                    for s in program.segment_ids.sorted(lambda s: (s.sequence, s.id))
                    if s.r_min <= e["rfm_recency_score"] <= s.r_max
                    and s.fm_min <= fm <= s.fm_max
                ),
                False,
            )
            # threshold tier: best tier meeting its non-zero conditions
            e["computed_tier_id"] = next(
                (
                    t.id
                    for t in program._customer_tiers()[:-1]
                    if e["revenue_window"] >= t.min_revenue
                    and (not t.min_orders or e["order_count_window"] >= t.min_orders)
                    and (
                        not t.max_recency_days
                        or e["recency_days"] <= t.max_recency_days
                    )
                    and e["margin_window"] >= t.min_margin
                ),
                program._customer_tiers()[-1].id,
            )
        return expected

    def test_every_figure(self):
        expected = self._expected()
        # the random set covers what it must
        self.assertGreaterEqual(len(expected), 20)
        classes = {e["frequency_class"] for e in expected.values()}
        self.assertEqual(classes, {"one_time", "occasional", "frequent"})
        self.assertTrue(any(e["reorder_overdue"] for e in expected.values()))
        self.assertTrue(
            any(o.currency_id == self.eur and o.state == "sale" for o in self.orders)
        )
        profiles = self.env["customer.tier.profile"].search(
            [("company_id", "=", self.company.id), ("is_prospect", "=", False)]
        )
        self.assertEqual(set(profiles.partner_id.ids), set(expected))
        money = {
            "revenue_window",
            "margin_window",
            "revenue_total",
            "margin_total",
            "average_order_value",
        }
        for profile in profiles:
            e = expected[profile.partner_id.id]
            name = profile.partner_id.name
            for field in money:
                self.assertAlmostEqual(
                    profile[field], e[field], delta=0.011, msg=f"{name} {field}"
                )
            for field in ("revenue_share", "cumulative_share"):
                self.assertAlmostEqual(
                    profile[field], e[field], places=4, msg=f"{name} {field}"
                )
            for field in (
                "order_count_window",
                "order_count",
                "first_order_date",
                "last_order_date",
                "recency_days",
                "reorder_overdue",
                "frequency_class",
                "pareto_rank",
                "rfm_recency_score",
                "rfm_frequency_score",
                "rfm_monetary_score",
            ):
                self.assertEqual(profile[field], e[field], f"{name} {field}")
            self.assertAlmostEqual(
                profile.orders_per_year, e["orders_per_year"], places=2
            )
            self.assertEqual(profile.rfm_segment_id.id, e["rfm_segment_id"], name)
            self.assertEqual(profile.computed_tier_id.id, e["computed_tier_id"], name)
            if e["cycle"] is None:
                self.assertFalse(profile.reorder_cycle_days, name)
                self.assertFalse(profile.expected_order_date, name)
            else:
                self.assertAlmostEqual(
                    profile.reorder_cycle_days, e["cycle"], delta=0.05 + 1e-9, msg=name
                )
                # expected next order = last order + cycle (rounded to a day)
                gap = (profile.expected_order_date - e["last_order_date"]).days
                self.assertLessEqual(abs(gap - e["cycle"]), 0.5, name)
        # customers whose orders are all quotations or cancelled have no figures
        without = self.partners.filtered(lambda p: p.id not in expected)
        self.assertFalse(
            self.env["customer.tier.profile"].search(
                [("partner_id", "in", without.ids), ("is_prospect", "=", False)]
            )
        )


@tagged("post_install", "-at_install")
class TestArrayTransport(CustomerTierCase):
    """The engine sends a column of values as the text form of an array
    (``array_literal``): every kind of value comes back from PostgreSQL as
    it was sent."""

    def test_round_trip(self):
        from ..models.customer_tier_engine import unnest_arrays

        columns = [
            [1, None, -7, 2**31 - 1],
            [0.1, None, 1e-7, 12345678.125],
            [True, False, None, True],
            [date(2024, 2, 29), None, date(1999, 12, 31), date(2026, 1, 1)],
            ['say "hi"', "back\\slash", None, "核心客户, {x} NULL"],
            ["", "NULL", None, "a\nb"],
            [datetime(2024, 6, 30, 23, 59, 58), None, None, datetime(2000, 1, 1)],
        ]
        types = ("int4", "float8", "bool", "date", "varchar", "text", "timestamp")
        rows = self.env.execute_query(
            SQL("SELECT * FROM unnest(%s)", unnest_arrays(columns, types))
        )
        self.assertEqual(rows, list(zip(*columns, strict=True)))
        # columns of one plain type, without an empty value (written by the
        # fast path), and the same kinds mixed with others
        plain = [
            [1, -7, 2**31 - 1],
            [0.1, 1e-7, 12345678.125],
            [0.1, 2.5, 1 / 3],
            [date(2024, 2, 29), date(1999, 12, 31), date(2026, 1, 1)],
            [True, 3, False],
            [np.float64(0.1), 2.0, Decimal("1.10")],
            [Decimal("1.10"), Decimal("-3"), Decimal("12345678901234567890.5")],
            [datetime(2024, 6, 30, 23, 59, 58), date(2024, 7, 1), None],
        ]
        types = (
            "int4",
            "float8",
            "numeric",
            "date",
            "int4",
            "numeric",
            "numeric",
            "timestamp",
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT a::text, b, c::float8, d, e, f::text, g::text, h "
                "FROM unnest(%s) AS t(a, b, c, d, e, f, g, h)",
                unnest_arrays(plain, types),
            )
        )
        self.assertEqual(
            rows,
            list(
                zip(
                    ["1", "-7", "2147483647"],
                    plain[1],
                    plain[2],
                    plain[3],
                    [1, 3, None],
                    ["0.1", "2.0", "1.10"],
                    ["1.10", "-3", "12345678901234567890.5"],
                    [plain[7][0], datetime(2024, 7, 1), None],
                    strict=True,
                )
            ),
        )
