"""Prospect scoring, grades, manual precedence, first order.

Score (see ``models/customer_tier_prospect.py``): 100 x points earned over
points possible; default weights volume 30, size 15, reputation 20, fit 20,
open quotations 15, preferred source 10 (counted only while preferred sources
are set); grade bounds set here to A 70, B 40, C 15. Company A's currency is
USD with 0.8 EUR per USD from 2024-01-01.
"""

from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import SQL

from .common import CustomerTierCase

E = date(2024, 6, 30)
FROZEN = "2024-06-30 10:00:00"


class ProspectCase(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "prospect_weight_volume": 30,
                "prospect_weight_size": 15,
                "prospect_weight_reputation": 20,
                "prospect_weight_fit": 20,
                "prospect_weight_quotation": 15,
                "prospect_weight_source": 10,
                "prospect_volume_full": 500000.0,
                "prospect_quotation_full": 50000.0,
                "prospect_source_ids": [(5, 0, 0)],
            }
        )
        cls.grade_a, cls.grade_b, cls.grade_c = (cls.grades[c] for c in "ABC")
        cls.grade_a.min_score = 70.0
        cls.grade_b.min_score = 40.0
        cls.grade_c.min_score = 15.0
        Source = cls.env["utm.source"]
        cls.fair = Source.create({"name": "Tier Test Trade Fair"})
        cls.web = Source.create({"name": "Tier Test Website"})

    @classmethod
    def _prospect(cls, name, **values):
        with freeze_time(FROZEN):
            return cls._customer(name, **values)

    def _score_row(self, partner):
        self.env.flush_all()
        return self.env.execute_query_dict(
            SQL(
                "SELECT prospect_score, computed_tier_id, tier_id, is_prospect "
                "FROM customer_tier_profile WHERE partner_id = %s AND company_id = %s",
                partner.id,
                self.company.id,
            )
        )[0]


@tagged("post_install", "-at_install")
class TestProspectScore(ProspectCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 400,000 EUR = 500,000 USD (full 30) + enterprise 15 + 5 stars 20
        # + fit 4 stars 16 = 81 -> A
        cls.big = cls._prospect(
            "Big prospect",
            tier_estimated_purchase=400000.0,
            tier_estimated_currency_id=cls.eur.id,
            tier_company_size="enterprise",
            tier_reputation="5",
            tier_product_fit="4",
        )
        # 100,000 USD: 6 + medium 9 + 3 stars 12 + fit 3 stars 12
        # + open quotations 15,000 USD: 4.5 = 43.5 -> B
        cls.mid = cls._prospect(
            "Mid prospect",
            tier_estimated_purchase=100000.0,
            tier_estimated_currency_id=cls.usd.id,
            tier_company_size="medium",
            tier_reputation="3",
            tier_product_fit="3",
        )
        with freeze_time(FROZEN):
            cls.quotation = cls._order(cls.mid, 10000.0, date(2024, 6, 1), state="sent")
            # a draft in EUR: 4,000 EUR = 5,000 USD; an expired one does not count
            cls._order(
                cls.mid, 4000.0, date(2024, 6, 10), currency=cls.eur, state="draft"
            )
            expired = cls._order(cls.mid, 90000.0, date(2024, 3, 1), state="draft")
            expired.validity_date = date(2024, 4, 1)
        # fit 5 stars only: 20 -> C
        cls.small = cls._prospect("Small prospect", tier_product_fit="5")
        # nothing known: 0 -> ungraded
        cls.blank = cls._prospect("Blank prospect", customer_rank=1)
        # exactly on A's bound: 250,000 USD 15 + enterprise 15 + 20 + 20 = 70
        cls.edge = cls._prospect(
            "Edge prospect",
            tier_estimated_purchase=250000.0,
            tier_estimated_currency_id=cls.usd.id,
            tier_company_size="enterprise",
            tier_reputation="5",
            tier_product_fit="5",
        )
        cls._run(E)

    def test_score_to_grade(self):
        expected = {
            self.big: (81.0, self.grade_a),
            self.mid: (43.5, self.grade_b),
            self.small: (20.0, self.grade_c),
            self.blank: (0.0, None),
            self.edge: (70.0, self.grade_a),
        }
        for partner, (score, grade) in expected.items():
            with self.subTest(partner=partner.name):
                profile = self._profile(partner)
                self.assertTrue(profile.is_prospect)
                self.assertAlmostEqual(profile.prospect_score, score, places=1)
                no_grade = self.env["customer.tier"]
                self.assertEqual(profile.computed_tier_id, grade or no_grade)
                self.assertEqual(profile.tier_id, grade or no_grade)
                self.assertEqual(
                    partner.with_company(self.company).customer_tier_id,
                    grade or no_grade,
                )

    def test_open_quotations(self):
        """Draft and sent quotations not expired, in company currency:
        10,000 + 4,000 EUR / 0.8 = 15,000 USD; the expired one is left out."""
        profile = self._profile(self.mid)
        self.assertEqual(profile.open_quotation_count, 2)
        self.assertAlmostEqual(profile.open_quotation_amount, 15000.0, places=2)
        # 6 + 9 + 12 + 12 + 15 x 15,000 / 50,000 (4.5) = 43.5
        self.assertAlmostEqual(profile.prospect_score, 43.5, places=1)

    def test_engine_prospects_have_no_profile(self):
        """The engine's prospects (``_prospect_ids``) are the customers with
        no profile of the company yet: those with one are evaluated through
        their profile, and come out of a full evaluation all the same."""
        engine = self.program._engine()
        self.assertFalse(engine._prospect_ids() & {self.mid.id, self.blank.id})
        self._profile(self.blank).sudo().unlink()
        self.assertEqual(engine._prospect_ids(), {self.blank.id})
        self._run(E)
        self.assertTrue(self._profile(self.blank).is_prospect)
        self.assertTrue(self._profile(self.mid).is_prospect)

    def test_explanation(self):
        text = self._profile(self.big).prospect_score_explanation
        self.assertIn("81.0", text)
        self.assertIn(self.grade_a.display_name, text)
        self.assertIn("Estimated annual purchases", text)
        self.assertIn("30.0 / 30", text)  # 500,000 USD after conversion
        self.assertIn("Enterprise (1000+)", text)
        self.assertIn("16.0 / 20", text)  # fit 4/5
        self.assertNotIn("Source", text)  # no preferred source set
        blank = self._profile(self.blank).prospect_score_explanation
        self.assertIn("not graded", blank)
        self.assertIn("not estimated", blank)
        # customers have neither score nor explanation
        customer = self._customer("Buying customer")
        with freeze_time(FROZEN):
            self._order(customer, 800.0, date(2024, 5, 1))
        self._run(E)
        profile = self._profile(customer)
        self.assertFalse(profile.is_prospect)
        self.assertFalse(profile.prospect_score_explanation)
        self.assertIsNone(self._score_row(customer)["prospect_score"])

    def test_without_grades(self):
        """Without an active prospect grade a prospect is scored, graded none,
        and the explanation says so."""
        engine = self.program._engine()
        engine.grades = engine.grades.browse()
        scorer = self.program._prospect_scorer(engine, False)
        score, grade, text = scorer({"fit": 5})
        self.assertEqual((score, grade), (20.0, None))
        self.assertEqual(text.splitlines()[0], "Score 20.0 / 100: no prospect grade.")

    def test_preferred_source(self):
        """The source weight counts once preferred sources are set: fit 5 (20)
        + preferred source (10) over 110 possible."""
        with freeze_time(FROZEN):
            self.small.tier_source_id = self.fair
            self.blank.tier_source_id = self.web
        self.program.prospect_source_ids = self.fair
        self._run(E)
        self.assertAlmostEqual(self._profile(self.small).prospect_score, 27.3, places=1)
        self.assertAlmostEqual(self._profile(self.blank).prospect_score, 0.0, places=1)
        # 81 points of 110
        self.assertAlmostEqual(self._profile(self.big).prospect_score, 73.6, places=1)
        self.assertIn(
            "Tier Test Website (not a preferred source)",
            self._profile(self.blank).prospect_score_explanation,
        )

    def test_configurable_weights_and_bounds(self):
        self.grade_b.min_score = 20.0
        self._run(E)
        self.assertEqual(self._profile(self.small).tier_id, self.grade_b)
        # only the fit counts: 20 / 20 -> 100 for every 5-star fit
        self.program.write(
            {
                "prospect_weight_volume": 0,
                "prospect_weight_size": 0,
                "prospect_weight_reputation": 0,
                "prospect_weight_quotation": 0,
            }
        )
        self._run(E)
        self.assertAlmostEqual(self._profile(self.small).prospect_score, 100.0)
        self.assertEqual(self._profile(self.small).tier_id, self.grade_a)
        with self.assertRaises(ValidationError):
            self.program.prospect_weight_fit = 0  # every weight 0
        with self.assertRaises(ValidationError):
            self.program.prospect_weight_size = -1
        with self.assertRaises(ValidationError):
            self.program.prospect_volume_full = 0

    def test_edit_inputs_regrades_at_once(self):
        """Changing an input refreshes the profile without a recompute."""
        with freeze_time(FROZEN):
            self.small.write({"tier_reputation": "5", "tier_company_size": "large"})
        profile = self._profile(self.small)
        # 20 + 20 + 0.8 x 15 = 52 -> B
        self.assertAlmostEqual(profile.prospect_score, 52.0)
        self.assertEqual(profile.tier_id, self.grade_b)
        # the change of grade is in the history
        history = self.env["customer.tier.history"].search(
            [("partner_id", "=", self.small.id)], order="id desc", limit=1
        )
        self.assertEqual(
            (history.from_tier_id, history.to_tier_id, history.cause),
            (self.grade_c, self.grade_b, "computed"),
        )

    def test_new_partner_with_inputs_becomes_prospect(self):
        """A partner created with prospect inputs (not as a customer) is
        counted as a customer of Odoo and graded at once."""
        partner = self._prospect("Fresh contact", tier_product_fit="4")
        self.assertEqual(partner.customer_rank, 1)
        profile = self._profile(partner)
        self.assertTrue(profile.is_prospect)
        self.assertAlmostEqual(profile.prospect_score, 16.0)
        self.assertEqual(profile.tier_id, self.grade_c)
        # a plain contact gets no profile
        self.assertFalse(self._profile(self._prospect("Plain contact")))

    def test_auto_apply_off_keeps_grade(self):
        self.program.auto_apply = False
        with freeze_time(FROZEN):
            self.small.tier_reputation = "5"
        self._run(E)
        profile = self._profile(self.small)
        self.assertEqual(profile.computed_tier_id, self.grade_b)
        self.assertEqual(profile.tier_id, self.grade_c)
        self._program()._engine().run(eval_date=E, force_apply=True)
        self.assertEqual(self._profile(self.small).tier_id, self.grade_b)


@tagged("post_install", "-at_install")
class TestProspectManualAndConversion(ProspectCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big = cls._prospect(
            "Big prospect",
            tier_estimated_purchase=500000.0,
            tier_estimated_currency_id=cls.usd.id,
            tier_company_size="enterprise",
            tier_reputation="5",
            tier_product_fit="5",
        )
        cls._run(E)

    def test_manual_grade_wins(self):
        profile = self._profile(self.big)
        self.assertEqual(profile.tier_id, self.grade_a)
        manager = self._env_as(self.user_manager)
        profile.with_env(manager).write({"manual_tier_id": self.grade_c.id})
        self.assertEqual(profile.tier_id, self.grade_c)
        self.assertTrue(profile.manual_differs)
        self._run(E)
        profile = self._profile(self.big)
        self.assertEqual(profile.tier_id, self.grade_c)
        self.assertEqual(profile.computed_tier_id, self.grade_a)
        # an input change keeps the manual grade too
        with freeze_time(FROZEN):
            self.big.tier_reputation = "1"
        self.assertEqual(self._profile(self.big).tier_id, self.grade_c)
        self._profile(self.big).with_env(manager).action_clear_override()
        self._run(E)
        # 30 + 15 + 4 + 20 = 69 < 70
        self.assertAlmostEqual(self._profile(self.big).prospect_score, 69.0)
        self.assertEqual(self._profile(self.big).tier_id, self.grade_b)
        # a salesperson cannot grade by hand
        with self.assertRaises(UserError):
            self._profile(self.big).with_env(self._env_as(self.user_all)).write(
                {"manual_tier_id": self.grade_a.id}
            )

    def test_first_order_moves_to_customer(self):
        """Confirming the first order refreshes the partner: it leaves prospect
        grading for customer tiering, recorded with cause first_order."""
        with freeze_time("2024-07-01 10:00:00"):
            order = self._order(self.big, 700.0, datetime(2024, 7, 1, 9, 0))
        self.assertEqual(order.state, "sale")
        profile = self._profile(self.big)
        self.assertFalse(profile.is_prospect)
        self.assertEqual(profile.tier_id, self.tier_c)  # 700 >= 500
        self.assertFalse(profile.prospect_score)
        history = self.env["customer.tier.history"].search(
            [("partner_id", "=", self.big.id), ("cause", "=", "first_order")]
        )
        self.assertEqual(len(history), 1)
        self.assertEqual(
            (history.from_tier_id, history.to_tier_id, history.date, history.direction),
            (self.grade_a, self.tier_c, date(2024, 7, 1), "new"),
        )
        self.assertEqual(
            self.big.with_company(self.company).customer_tier_id, self.tier_c
        )


@tagged("post_install", "-at_install")
class TestProspectAccess(ProspectCase):
    """A salesperson limited to own documents: sees and edits the prospect
    inputs and score of own prospects, not those of another salesperson."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Salespeople get "Contact Creation" like every new Odoo user (the
        # default user template); without it no one but sales administrators
        # may change a partner.
        partner_manager = cls.env.ref("base.group_partner_manager")
        (cls.user_own | cls.user_all).write({"groups_id": [(4, partner_manager.id)]})
        cls.own = cls._prospect(
            "Own prospect", user_id=cls.user_own.id, tier_product_fit="4"
        )
        cls.other = cls._prospect(
            "Other prospect", user_id=cls.user_all.id, tier_product_fit="4"
        )
        cls.free = cls._prospect("Unassigned prospect", tier_product_fit="4")
        cls._run(E)

    def test_own_salesperson_edits_own_inputs(self):
        env = self._env_as(self.user_own)
        own = self.own.with_env(env)
        with freeze_time(FROZEN):
            own.write({"tier_reputation": "4", "tier_company_size": "small"})
        # 16 + 16 + 6 = 38 -> C
        self.assertAlmostEqual(own.customer_tier_profile_id.prospect_score, 38.0)
        self.assertEqual(own.customer_tier_id, self.grade_c)
        self.assertIn("38.0", own.tier_prospect_score_explanation)
        # unassigned partners can be described too
        self.free.with_env(env).tier_relationship_type = "partner"
        # the form of the partner, as this user
        with freeze_time(FROZEN), Form(own, view="base.view_partner_form") as form:
            form.tier_product_fit = "5"
            form.tier_estimated_purchase = 50000.0
        self.assertAlmostEqual(
            self._profile(self.own).prospect_score, 20 + 16 + 6 + 3.0
        )

    def test_own_salesperson_blocked_on_others(self):
        env = self._env_as(self.user_own)
        other = self.other.with_env(env)
        with self.assertRaises(AccessError):
            other.write({"tier_reputation": "5"})
        price = self.env.ref("customer_tier.customer_tier_need_price_sensitive")
        with self.assertRaises(AccessError):
            other.write({"tier_need_ids": [(4, price.id)]})
        # the other salesperson's prospect has no visible profile or score
        self.assertFalse(other.customer_tier_profile_id)
        self.assertFalse(other.tier_prospect_score)
        profiles = env["customer.tier.profile"].search([("is_prospect", "=", True)])
        self.assertIn(self._profile(self.own), profiles.sudo())
        self.assertNotIn(self._profile(self.other), profiles.sudo())
        # a salesperson seeing all documents may edit it
        self.other.with_env(self._env_as(self.user_all)).tier_reputation = "5"
        self.assertEqual(self.other.tier_reputation, "5")

    def test_other_company_hidden(self):
        env_b = self._env_as(self.user_b)
        self.assertFalse(
            env_b["customer.tier.profile"].search(
                [("partner_id", "in", (self.own | self.other).ids)]
            )
        )
