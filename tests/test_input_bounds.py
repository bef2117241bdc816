"""No crash on a standard path or on bad input.

* the recompute preview at past evaluation dates, where customers move to
  "no tier" (they had not ordered yet then and get no prospect grade);
* every number and date a user types has a bound, checked where it is
  entered, as the user who may enter it; nothing of a refused value is saved;
* threshold tiers may not ask more than a better tier, prospect grades'
  minimum scores decrease from the best grade to the last.
"""

from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .test_assignment import AssignmentCase, E

TODAY = date(2024, 6, 30)  # frozen "today" of the date bounds
PAST = date(2024, 1, 1)


@tagged("post_install", "-at_install")
class TestPreviewToNoTier(AssignmentCase):
    """At 2024-06-30: Late (first orders in May-June 2024) is C, Early (one
    order of 2023-05-01, 426 days old) is D. At 2024-01-01 Late had not
    ordered yet: a prospect without grade, "no tier"; Early's order was 245
    days old: C."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_length": 0})
        cls.late = cls._customer("Late")
        cls.early = cls._customer("Early")
        cls._buy_many(cls.late, [(300, date(2024, 5, 2)), (300, date(2024, 6, 2))])
        cls._buy_many(cls.early, [(600, date(2023, 5, 1))])
        cls._run(E)

    def _preview(self, eval_date):
        wizard = self._env_as(self.user_manager)["customer.tier.recompute"].create(
            {"program_id": self.program.id, "eval_date": eval_date}
        )
        wizard.action_preview()
        return wizard

    def test_preview_and_apply_moves_to_and_from_no_tier(self):
        self.assertEqual(self._profile(self.late).tier_id, self.tier_c)
        self.assertEqual(self._profile(self.early).tier_id, self.tier_d)
        wizard = self._preview(PAST)
        lines = {line.partner_id: line for line in wizard.line_ids}
        self.assertEqual(set(lines), {self.late, self.early})
        late = lines[self.late]
        self.assertEqual(
            (late.from_tier_id, late.to_tier_id, late.direction),
            (self.tier_c, self.env["customer.tier"], "down"),
        )
        # the list says "No tier" rather than leaving the cell blank
        self.assertEqual(
            (late.from_tier_label, late.to_tier_label), ("C - General", "No tier")
        )
        self.assertEqual(
            (lines[self.early].to_tier_id, lines[self.early].direction),
            (self.tier_c, "up"),
        )
        self.assertEqual((wizard.count_up, wizard.count_down), (1, 1))
        # summary: the tiers best first, "No tier" last
        summary = str(wizard.summary)
        self.assertIn("No tier", summary)
        self.assertLess(summary.index("C - General"), summary.index("No tier"))
        # apply writes exactly the preview
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertFalse(self._profile(self.late).tier_id)
        self.assertFalse(self.late.customer_tier_id)
        moves = self._history(self.late, date=PAST)
        self.assertEqual(
            (moves.from_tier_id, moves.to_tier_id, moves.direction),
            (self.tier_c, self.env["customer.tier"], "down"),
        )
        # and back: the move from "no tier" shows as such
        wizard = self._preview(E)
        back = wizard.line_ids.filtered(lambda line: line.partner_id == self.late)
        self.assertEqual(
            (back.from_tier_label, back.to_tier_label, back.direction),
            ("No tier", "C - General", "new"),
        )
        wizard.action_apply()
        self.assertEqual(self._profile(self.late).tier_id, self.tier_c)


@tagged("post_install", "-at_install")
class TestInputBounds(AssignmentCase):
    """Each value out of its range is refused where it is entered, as the
    user who may enter it, and nothing of it is saved; the extreme values
    inside the range are accepted."""

    # field: (highest accepted, lowest refused)
    PROGRAM = {
        "window_months": (120, 121),
        "grace_length": (3660, 3661),
        "frequent_orders_per_year": (365, 366),
        "reorder_overdue_factor": (100, 101),
        "batch_size": (100000, 100001),
        "followup_days_ahead": (366, 367),
        "followup_batch_size": (100000, 100001),
        "key_date_remind_days": (366, 367),
        "predict_min_repeaters": (1000000, 1000001),
        "loyalty_expiry_months": (120, 121),
        "loyalty_expiry_notice_days": (366, 367),
        "loyalty_new_customer_multiplier": (100, 101),
        "prospect_weight_volume": (100, 101),
        "prospect_weight_size": (100, 101),
        "prospect_weight_reputation": (100, 101),
        "prospect_weight_fit": (100, 101),
        "prospect_weight_quotation": (100, 101),
        "prospect_weight_source": (100, 101),
        "prospect_volume_full": (1e12, 1.01e12),
        "prospect_quotation_full": (1e12, 1.01e12),
    }
    # tier code, field: (highest accepted, lowest refused); each on a tier
    # where the value keeps the tiers in order
    TIER = {
        ("A", "min_revenue"): (1e12, 1.01e12),
        ("A", "min_orders"): (1000000, 1000001),
        ("C", "max_recency_days"): (3660, 3661),
        ("A", "min_margin"): (1e12, 1.01e12),
        ("D", "min_order_amount"): (1e12, 1.01e12),
        ("D", "fee_fixed"): (1e12, 1.01e12),
        ("B", "followup_interval"): (3660, 3661),
        ("B", "points_multiplier"): (100, 101),
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls._customer("Own Customer", user_id=cls.user_own.id)
        cls._buy(cls.own, 600, date(2024, 6, 1))
        cls._run(E)
        cls.profile = cls._profile(cls.own)

    def setUp(self):
        super().setUp()
        self.menv = self._env_as(self.user_manager)
        self.oenv = self._env_as(self.user_own)

    def _stored(self, record, name):
        self.env.invalidate_all()
        return record.sudo().read([name])[0][name]

    def _refused(self, record, name, value):
        before = self._stored(record, name)
        with self.assertRaises(ValidationError) as caught:
            record.write({name: value})
        self.assertEqual(self._stored(record, name), before)
        label = record._fields[name]._description_string(record.env)
        self.assertIn(label, str(caught.exception))
        return str(caught.exception)

    def test_program_numbers(self):
        program = self.program.with_env(self.menv)
        for name, (highest, refused) in self.PROGRAM.items():
            with self.subTest(field=name):
                before = self._stored(self.program, name)
                self._refused(program, name, refused)
                program.write({name: highest})
                self.assertEqual(self._stored(self.program, name), highest)
                program.write({name: before})

    def test_huge_window_keeps_the_features_working(self):
        """The probe of the issue: 100,000 months crashed order confirmation,
        the preview, the refresh and the key-account figures later."""
        message = self._refused(
            self.program.with_env(self.menv), "window_months", 100000
        )
        self.assertIn("120", message)
        self._buy(self.own, 100, date(2024, 6, 2))
        self.program._engine().refresh_partners(self.own.ids)

    def test_tier_numbers(self):
        for (code, name), (highest, refused) in self.TIER.items():
            tier = self.tiers[code].with_env(self.menv)
            with self.subTest(tier=code, field=name):
                before = self._stored(tier, name)
                message = self._refused(tier, name, refused)
                self.assertIn(tier.display_name, message)
                tier.write({name: highest})
                self.assertEqual(self._stored(tier, name), highest)
                tier.write({name: before})

    def test_grade_minimum_score_range(self):
        grades = {
            code: grade.with_env(self.menv) for code, grade in self.grades.items()
        }
        self._refused(grades["A"], "min_score", 100.1)
        self._refused(grades["C"], "min_score", -1)
        grades["A"].min_score = 100
        grades["C"].min_score = 0

    def test_partner_estimated_purchases(self):
        # (salespeople edit partners with the Contact Creation right)
        self.user_own.groups_id += self.env.ref("base.group_partner_manager")
        partner = self.own.with_env(self.oenv)
        for value in (1.01e12, -1):
            with self.subTest(value=value):
                self._refused(partner, "tier_estimated_purchase", value)
        partner.tier_estimated_purchase = 1e12
        self.assertEqual(self._stored(self.own, "tier_estimated_purchase"), 1e12)

    @freeze_time("2024-06-30 12:00:00")
    def test_key_date(self):
        KeyDate = self.oenv["customer.tier.key.date"]
        values = {"profile_id": self.profile.id, "contact_id": self.own.id}
        for day in (date(1, 1, 1), date(1799, 12, 31), date(2025, 7, 1), date.max):
            with self.subTest(day=day), self.assertRaises(ValidationError):
                KeyDate.create(dict(values, date=day))
        self.assertFalse(KeyDate.search([("profile_id", "=", self.profile.id)]))
        key_date = KeyDate.create(dict(values, date=date(1800, 1, 1)))
        self._refused(key_date, "date", date(9999, 12, 31))
        key_date.date = date(2025, 6, 30)

    @freeze_time("2024-06-30 12:00:00")
    def test_override_end_date(self):
        profile = self.profile.with_env(self.menv)
        override = {"manual_tier_id": self.tier_a.id, "manual_reason": "Strategic"}
        with self.assertRaises(ValidationError):
            profile.write(dict(override, manual_end_date=date(2034, 7, 1)))
        self.assertFalse(self._stored(self.profile, "manual_tier_id"))
        profile.write(dict(override, manual_end_date=date(2034, 6, 30)))
        self.assertEqual(self.profile.manual_end_date, date(2034, 6, 30))

    @freeze_time("2024-06-30 12:00:00")
    def test_recompute_evaluation_date(self):
        Wizard = self.menv["customer.tier.recompute"]
        for day in (date(1, 1, 1), date(1999, 12, 31), date(2025, 7, 1), date.max):
            with self.subTest(day=day):
                form = Form(Wizard.with_context(default_program_id=self.program.id))
                form.eval_date = day
                with self.assertRaises(ValidationError):
                    form.save()
        self.assertFalse(Wizard.search([]))
        wizard = Wizard.create({"program_id": self.program.id, "eval_date": TODAY})
        with self.assertRaises(ValidationError):
            wizard.eval_date = date(9999, 12, 31)
        self.assertEqual(self._stored(wizard, "eval_date"), TODAY)
        for day in (date(2000, 1, 1), date(2025, 6, 30)):
            wizard.eval_date = day
            wizard.action_preview()  # no overflow at the extremes

    @freeze_time("2024-06-30 12:00:00")
    def test_workbook_dates_and_horizon(self):
        Wizard = self.oenv["customer.tier.workbook.wizard"]
        for name, value in (
            ("date_from", date(1, 1, 1)),
            ("date_from", date(1999, 12, 31)),
            ("date_to", date(2025, 7, 1)),
            ("date_to", date.max),
            ("horizon_days", 100000000),
            ("horizon_days", 367),
            ("horizon_days", -1),
        ):
            with self.subTest(field=name, value=value):
                form = Form(Wizard)
                setattr(form, name, value)
                with self.assertRaises(ValidationError):
                    form.save()
        self.assertFalse(Wizard.search([]))
        wizard = Wizard.create(
            {
                "date_from": date(2000, 1, 1),
                "date_to": date(2025, 6, 30),
                "horizon_days": 366,
            }
        )
        wizard.action_export()
        self.assertTrue(wizard.file_data)


@tagged("post_install", "-at_install")
class TestTierOrder(AssignmentCase):
    """Threshold tiers (A 10,000 / 3 orders / 180 days, B 2,000 / 2 / 270,
    C 500 / - / 365, D fallback) and prospect grades (A 70, B 40, C 15) in
    order; a manager's change that contradicts the order is refused."""

    def setUp(self):
        super().setUp()
        self.menv = self._env_as(self.user_manager)
        self.m_program = self.program.with_env(self.menv)
        self.m_tiers = {c: t.with_env(self.menv) for c, t in self.tiers.items()}
        self.m_grades = {c: g.with_env(self.menv) for c, g in self.grades.items()}

    def _conditions(self):
        self.env.invalidate_all()
        return {
            tier.code: (
                tier.min_revenue,
                tier.min_orders,
                tier.max_recency_days,
                tier.min_margin,
                tier.sequence,
            )
            for tier in self.program._customer_tiers()
        }

    def test_fixture_and_shipped_data_are_in_order(self):
        default = self.env.ref("customer_tier.customer_tier_program_default")
        for program in self.program | default:
            program.tier_ids._check_threshold_order()
            program.grade_ids._check_min_score_order()
        self.assertEqual(
            default._prospect_grades().mapped("min_score"), [70.0, 40.0, 15.0]
        )

    def test_worse_tier_asking_more_is_refused(self):
        before = self._conditions()
        for code, values, field, better in (
            ("B", {"min_revenue": 20000}, "Minimum Revenue", "A - Core"),
            ("B", {"min_orders": 5}, "Minimum Orders", "A - Core"),
            (
                "B",
                {"max_recency_days": 100},
                "Maximum Days Since Last Order",
                "A - Core",
            ),
            ("B", {"min_margin": 1}, "Minimum Margin", "A - Core"),
            # A without a recency condition, B with one
            ("A", {"max_recency_days": 0}, "Maximum Days Since Last Order", "A - Core"),
            # C before B
            ("C", {"sequence": 15}, "Minimum Revenue", "C - General"),
        ):
            with self.subTest(values=values):
                with self.assertRaises(ValidationError) as caught:
                    self.m_tiers[code].write(values)
                message = str(caught.exception)
                self.assertIn(field, message)
                self.assertIn(
                    f"Tier B - Key asks more than the better tier {better}", message
                )
        self.assertEqual(self._conditions(), before)

    def test_through_the_program_form(self):
        """The form saves the tier lines one by one: lowering every tier at
        once passes through states where A asks less than B; only the saved
        result counts."""
        with Form(self.m_program) as form:
            for index, revenue in enumerate((1500, 1000, 400)):
                with form.tier_ids.edit(index) as line:
                    line.min_revenue = revenue
        self.assertEqual(
            [t.min_revenue for t in self.program._customer_tiers()],
            [1500, 1000, 400, 0],
        )
        before = self._conditions()
        with self.assertRaises(ValidationError):
            self.m_program.write(
                {
                    "tier_ids": [
                        Command.update(self.tier_a.id, {"min_orders": 1}),
                        Command.update(self.tier_c.id, {"min_orders": 1}),
                    ]
                }
            )
        self.assertEqual(self._conditions(), before)

    def test_fallback_and_other_methods(self):
        # the fallback's conditions never apply
        self.m_tiers["D"].min_revenue = 1000000
        self.m_program.method = "pareto"
        self.m_tiers["B"].min_revenue = 20000  # unused by the Pareto method
        with self.assertRaises(ValidationError):
            self.m_program.method = "threshold"
        self.assertEqual(self._stored_method(), "pareto")

    def _stored_method(self):
        self.env.invalidate_all()
        return self.program.method

    def test_grade_scores_decrease(self):
        for code, score in (("B", 80), ("B", 70), ("C", 40), ("A", 15)):
            with self.subTest(grade=code, score=score):
                with self.assertRaises(ValidationError) as caught:
                    self.m_grades[code].min_score = score
                self.assertIn("Prospect", str(caught.exception))
        # the order of the grades counts too
        with self.assertRaises(ValidationError):
            self.m_grades["C"].sequence = 5
        self.env.invalidate_all()
        self.assertEqual(
            self.program._prospect_grades().mapped("min_score"), [70.0, 40.0, 15.0]
        )
        # lowering every grade at once through the program
        with Form(self.m_program) as form:
            for index, score in enumerate((30, 20, 10)):
                with form.grade_ids.edit(index) as line:
                    line.min_score = score
        self.assertEqual(
            self.program._prospect_grades().mapped("min_score"), [30.0, 20.0, 10.0]
        )


@tagged("post_install", "-at_install")
class TestAuditFollowUps(AssignmentCase):
    """Searches Odoo's domain editor offers on the partner's tier fields, and
    loyalty points dated beyond what their expiry can hold.

    ``own`` (a customer of ``user_own``) is overdue for its reorder and its
    follow-up; ``other`` (a customer of ``user_all``) is flagged a prospect.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls._customer("Osaka Fluid Control K.K.", user_id=cls.user_own.id)
        cls.other = cls._customer("Other Trading", user_id=cls.user_all.id)
        cls._buy(cls.own, 600, date(2024, 6, 1))
        cls._buy(cls.other, 100, date(2024, 6, 1))
        cls._run(E)
        cls.profile = cls._profile(cls.own)
        cls.profile.write(
            {"reorder_overdue": True, "next_followup_date": date(2024, 1, 1)}
        )
        cls.other_profile = cls._profile(cls.other)
        cls.other_profile.write(
            {
                "is_prospect": True,
                "reorder_overdue": False,
                "next_followup_date": False,
            }
        )

    def _partners(self, env, domain):
        partners = self.own | self.other
        return env["res.partner"].search([("id", "in", partners.ids), *domain])

    def test_profile_searched_by_customer_name(self):
        for user, visible in (
            (self.user_manager, self.own | self.other),
            (self.user_own, self.own),
        ):
            env = self._env_as(user)
            for domain, expected in (
                ([("customer_tier_profile_id", "ilike", "osaka")], self.own),
                ([("customer_tier_profile_id", "=", self.own.name)], self.own),
                ([("customer_tier_profile_id", "in", [self.own.name])], self.own),
                (
                    [("customer_tier_profile_id", "not ilike", "osaka")],
                    self.other,
                ),
                ([("customer_tier_profile_id", "!=", self.own.name)], self.other),
                ([("customer_tier_profile_id", "ilike", "Other")], self.other),
            ):
                # a profile the user may not read matches no name
                if "not" not in domain[0][1] and domain[0][1] != "!=":
                    expected &= visible
                with self.subTest(user=user.login, domain=domain):
                    self.assertEqual(self._partners(env, domain), expected)
        env = self._env_as(self.user_own)
        with self.assertRaisesRegex(UserError, "child_of"):
            self._partners(env, [("customer_tier_profile_id", "child_of", "x")])

    def test_flags_searched_with_in(self):
        env = self._env_as(self.user_manager)
        for domain, expected in (
            ([("tier_is_prospect", "in", [True])], self.other),
            ([("tier_is_prospect", "not in", [True])], self.own),
            ([("tier_is_prospect", "in", [True, False])], self.own | self.other),
            ([("tier_is_prospect", "in", [])], self.env["res.partner"]),
            ([("tier_reorder_overdue", "not in", [True])], self.other),
            ([("tier_reorder_overdue", "in", [1])], self.own),
            ([("tier_followup_overdue", "in", [1])], self.own),
            ([("tier_followup_overdue", "not in", [False])], self.own),
        ):
            with self.subTest(domain=domain):
                self.assertEqual(self._partners(env, domain), expected)
        Profile = env["customer.tier.profile"]
        self.assertEqual(
            Profile.search([("followup_overdue", "in", [True])]), self.profile
        )
        with self.assertRaisesRegex(UserError, "ilike"):
            self._partners(env, [("tier_is_prospect", "ilike", "yes")])

    def test_points_date_within_expiry_range(self):
        loyalty = self.program.loyalty_program_id
        self.program.loyalty_expiry_months = 120
        card = self.env["loyalty.card"].create(
            {"program_id": loyalty.id, "partner_id": self.own.id}
        )
        History = self._env_as(self.user_own)["loyalty.history"]
        values = {"card_id": card.id, "issued": 1, "description": "Goodwill"}
        with self.assertRaisesRegex(ValidationError, "Points Date"):
            History.create(dict(values, points_date=date(9999, 12, 31)))
        line = History.create(dict(values, points_date=date(9989, 12, 31)))
        self.assertEqual(line.points_expiration_date, date(9999, 12, 31))
        with self.assertRaisesRegex(ValidationError, "Points Date"):
            line.write({"points_date": date(9990, 1, 1)})
