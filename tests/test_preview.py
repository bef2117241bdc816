"""The recompute preview, and bad configurations."""

from datetime import date, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .test_assignment import AssignmentCase, E


@tagged("post_install", "-at_install")
class TestRecomputePreview(AssignmentCase):
    """Preview then Apply as a tier manager: the lines are the history rows.

    2024-06-30 (threshold, no grace): Up B (2,000 / 2), Keep B (3,000 / 2),
    Down C (3,000 / 2 but 334 days ago), Stay C (600). Then Up orders 10,000
    more, Down's orders leave the window, New buys 700; on 2024-08-10: Up goes
    to A, Keep stays B, Down falls to D, New enters C, Stay stays C.
    """

    E2 = date(2024, 8, 10)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_length": 0})
        cls.up = cls._customer("Up")
        cls.keep = cls._customer("Keep")
        cls.down = cls._customer("Down")
        cls.stay = cls._customer("Stay")
        cls.new = cls._customer("New")
        cls.prospect = cls._customer("Prospect", customer_rank=1)
        cls._buy_many(cls.up, [(1000, date(2024, 5, 1)), (1000, date(2024, 6, 1))])
        cls._buy_many(cls.keep, [(1500, date(2024, 5, 1)), (1500, date(2024, 6, 1))])
        cls._buy_many(cls.down, [(1500, date(2023, 7, 5)), (1500, date(2023, 8, 1))])
        cls._buy_many(cls.stay, [(600, date(2024, 6, 1))])

    def _wizard(self, eval_date, user=None):
        env = self._env_as(user or self.user_manager)
        return env["customer.tier.recompute"].create(
            {"program_id": self.program.id, "eval_date": eval_date}
        )

    def _lines(self, wizard):
        return {
            (
                line.partner_id,
                line.from_tier_id,
                line.to_tier_id,
                line.cause,
                line.direction,
                line.revenue_window,
                line.order_count_window,
                line.recency_days,
            )
            for line in wizard.line_ids
        }

    def _rows(self, eval_date):
        return {
            (
                row.partner_id,
                row.from_tier_id,
                row.to_tier_id,
                row.cause,
                row.direction,
                row.revenue_window,
                row.order_count_window,
                row.recency_days,
            )
            for row in self._history(date=eval_date)
        }

    def _preview_and_apply(self, eval_date):
        wizard = self._wizard(eval_date)
        before = self._snapshot()
        history = self._history()
        action = wizard.action_preview()
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(wizard.state, "preview")
        # the preview writes nothing
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self._history(), history)
        lines = self._lines(wizard)
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(self._rows(eval_date), lines)
        return wizard, lines

    def test_first_preview_is_every_customer_new(self):
        wizard, lines = self._preview_and_apply(E)
        self.assertEqual(len(lines), 4)
        self.assertEqual(
            (wizard.count_new, wizard.count_up, wizard.count_down, wizard.count_same),
            (4, 0, 0, 1),  # the prospect stays without tier
        )
        self.assertTiers(
            {
                self.up: self.tier_b,
                self.keep: self.tier_b,
                self.down: self.tier_c,
                self.stay: self.tier_c,
                self.prospect: False,
            }
        )

    def test_preview_equals_apply(self):
        self._run(E)
        self._buy_many(self.up, [(5000, date(2024, 7, 1)), (5000, date(2024, 8, 1))])
        self._buy(self.new, 700, date(2024, 8, 1))
        wizard, lines = self._preview_and_apply(self.E2)
        self.assertEqual(
            {(p, f, t, c) for p, f, t, c, *_rest in lines},
            {
                (self.up, self.tier_b, self.tier_a, "computed"),
                (self.down, self.tier_c, self.tier_d, "computed"),
                (self.new, self.env["customer.tier"], self.tier_c, "initial"),
            },
        )
        self.assertEqual(
            (wizard.count_up, wizard.count_down, wizard.count_new, wizard.count_same),
            (1, 1, 1, 3),
        )
        for tier in (self.tier_a, self.tier_c, self.tier_d):
            self.assertIn(tier.display_name, wizard.summary)
        self.assertTiers(
            {
                self.up: self.tier_a,
                self.keep: self.tier_b,
                self.down: self.tier_d,
                self.new: self.tier_c,
                self.stay: self.tier_c,
            }
        )
        # a second preview on the same date: nothing moves
        wizard = self._wizard(self.E2)
        wizard.action_preview()
        self.assertFalse(wizard.line_ids)
        self.assertIn("No customer changes tier", wizard.summary)

    def test_apply_notifies_the_moves_and_opens_that_run(self):
        """Apply says what moved (in the user's language) and opens
        the tier moves of exactly that run, not those of an earlier one."""
        _wizard, first = self._preview_and_apply(E)  # 4 new: an earlier run
        self._buy_many(self.up, [(5000, date(2024, 7, 1)), (5000, date(2024, 8, 1))])
        self._buy(self.new, 700, date(2024, 8, 1))
        wizard = self._wizard(self.E2)
        wizard.action_preview()
        action = wizard.action_apply()
        self.assertEqual(action["tag"], "display_notification")
        params = action["params"]
        self.assertEqual(params["title"], "Tiers recomputed")
        self.assertEqual(params["message"], "1 up, 1 down, 1 new. From no tier: 1.")
        moves = params["next"]
        self.assertEqual(moves["res_model"], "customer.tier.history")
        env = self._env_as(self.user_manager)
        rows = env["customer.tier.history"].search(moves["domain"])
        self.assertEqual(
            {(r.partner_id, r.from_tier_id, r.to_tier_id) for r in rows},
            {
                (self.up, self.tier_b, self.tier_a),
                (self.down, self.tier_c, self.tier_d),
                (self.new, self.env["customer.tier"], self.tier_c),
            },
        )
        self.assertEqual(len(self._history()), len(first) + 3)
        # nothing left to move: said so, and no list to open
        wizard = self._wizard(self.E2)
        wizard.action_preview()
        params = wizard.action_apply()["params"]
        self.assertEqual(params["message"], "No customer changed tier.")
        self.assertEqual(params["next"], {"type": "ir.actions.act_window_close"})

    def test_apply_notification_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["customer_tier"], ["zh_CN"], overwrite=True
        )
        self.env.registry.clear_cache()  # the installed languages
        self._run(E)
        self._buy_many(self.up, [(5000, date(2024, 7, 1)), (5000, date(2024, 8, 1))])
        wizard = self._wizard(self.E2).with_context(lang="zh_CN")
        wizard.action_preview()
        params = wizard.action_apply()["params"]
        self.assertEqual(params["message"], "升级 1 个，降级 1 个，新进 0 个。")

    def test_preview_applies_without_auto_apply(self):
        """A program that does not apply tiers automatically: the preview
        shows the moves a forced apply makes, the daily run does not."""
        self._run(E)
        self.program.auto_apply = False
        self._buy_many(self.up, [(5000, date(2024, 7, 1)), (5000, date(2024, 8, 1))])
        self._run(self.E2)
        self.assertEqual(self._profile(self.up).tier_id, self.tier_b)
        _wizard, lines = self._preview_and_apply(self.E2)
        self.assertIn(self.up, {line[0] for line in lines})
        self.assertEqual(self._profile(self.up).tier_id, self.tier_a)

    def test_preview_with_grace(self):
        """Under a grace, the preview shows no downgrade until it runs out."""
        self.program.grace_length = 2
        self._run(E)
        _wizard, lines = self._preview_and_apply(self.E2)
        self.assertFalse(lines)
        self.assertTrue(self._profile(self.down).at_risk)
        _wizard, lines = self._preview_and_apply(self.E2 + timedelta(days=1))
        self.assertEqual(
            {(p, t, c) for p, _f, t, c, *_rest in lines},
            {(self.down, self.tier_d, "grace")},
        )

    def test_preview_shows_an_override_ending(self):
        """An override that ends before the evaluation date is a move of the
        preview, and Apply writes exactly that move."""
        with freeze_time("2024-06-30 09:00:00"):
            self._run(E)
            profile = self._profile(self.keep).with_env(self._env_as(self.user_manager))
            profile.write(
                {
                    "manual_tier_id": self.tier_a.id,
                    "manual_reason": "Trade fair deal",
                    "manual_end_date": date(2024, 7, 31),
                }
            )
        with freeze_time(f"{self.E2} 09:00:00"):
            _wizard, lines = self._preview_and_apply(self.E2)
        self.assertIn(
            (self.keep, self.tier_a, self.tier_b, "override_end"),
            {(p, f, t, c) for p, f, t, c, *_rest in lines},
        )
        self.assertEqual(self._profile(self.keep).tier_id, self.tier_b)
        self.assertFalse(self._profile(self.keep).manual_tier_id)

    def test_apply_refuses_a_stale_preview(self):
        self._run(E)
        wizard = self._wizard(self.E2)
        wizard.action_preview()
        self._buy(self.new, 700, date(2024, 8, 1))  # a move the preview did not show
        history = self._history()
        before = self._snapshot()
        with self.assertRaises(UserError):
            wizard.action_apply()
        self.assertEqual(self._history(), history)
        self.assertEqual(self._snapshot(), before)

    def test_apply_needs_a_preview(self):
        wizard = self._wizard(E)
        with self.assertRaises(UserError):
            wizard.action_apply()
        self.assertFalse(self._history())

    def test_wizard_form(self):
        """The form opens from the program and previews through its button."""
        action = self.program.with_env(
            self._env_as(self.user_manager)
        ).action_open_recompute()
        env = self._env_as(self.user_manager)
        form = Form(env[action["res_model"]].with_context(**action["context"]))
        form.eval_date = E
        wizard = form.save()
        self.assertEqual(wizard.program_id, self.program)
        wizard.action_preview()
        self.assertEqual(len(wizard.line_ids), 4)

    def test_salesperson_cannot_recompute(self):
        with self.assertRaises(UserError):
            self._wizard(E, user=self.user_all)


@tagged("post_install", "-at_install")
class TestBadConfiguration(AssignmentCase):
    """Each bad configuration raises, as a tier manager, and nothing of it is
    saved."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.holder = cls._customer("Holder")
        cls._buy(cls.holder, 600, date(2024, 6, 1))  # C

    def setUp(self):
        super().setUp()
        self.menv = self._env_as(self.user_manager)
        self.m_program = self.program.with_env(self.menv)
        self.m_tiers = {
            code: tier.with_env(self.menv) for code, tier in self.tiers.items()
        }

    def _reread(self, record, fields):
        self.env.invalidate_all()
        return record.sudo().read(fields)[0]

    def test_manager_may_configure(self):
        """The control: a valid change as manager works."""
        self.m_tiers["B"].write({"pareto_max_share": 90, "min_revenue": 2500})
        self.assertEqual(self.tier_b.pareto_max_share, 90)

    def test_non_increasing_pareto_bounds(self):
        for bound in (70, 80):  # below and equal to A's 80 %
            with self.assertRaises(ValidationError):
                self.m_tiers["B"].write({"pareto_max_share": bound, "name": "Changed"})
        values = self._reread(self.tier_b, ["pareto_max_share", "name"])
        self.assertEqual((values["pareto_max_share"], values["name"]), (95.0, "Key"))
        # C gets a bound below B's
        with self.assertRaises(ValidationError):
            self.m_tiers["C"].pareto_max_share = 90
        # A moves after B: bounds no longer increase along the order
        with self.assertRaises(ValidationError):
            self.m_tiers["A"].sequence = 25
        # several tiers at once through the program: all or nothing
        with self.assertRaises(ValidationError):
            self.m_program.write(
                {
                    "tier_ids": [
                        Command.update(self.tier_a.id, {"pareto_max_share": 60}),
                        Command.update(self.tier_b.id, {"pareto_max_share": 50}),
                    ]
                }
            )
        self.assertEqual(
            self._reread(self.tier_a, ["pareto_max_share"])["pareto_max_share"], 80
        )
        self.assertEqual(self._reread(self.tier_a, ["sequence"])["sequence"], 10)
        self.assertEqual(
            self._reread(self.tier_c, ["pareto_max_share"])["pareto_max_share"], 0
        )

    def test_pareto_bound_out_of_range(self):
        for bound in (-5, 120):
            with self.assertRaises(ValidationError):
                self.m_tiers["D"].pareto_max_share = bound
        self.assertEqual(
            self._reread(self.tier_d, ["pareto_max_share"])["pareto_max_share"], 0
        )

    def test_negative_amounts(self):
        for field in ("min_revenue", "min_margin", "min_orders", "max_recency_days"):
            with self.assertRaises(ValidationError, msg=field):
                self.m_tiers["B"].write({field: -1, "name": "Changed"})
        values = self._reread(self.tier_b, ["min_revenue", "min_margin", "name"])
        self.assertEqual((values["min_revenue"], values["name"]), (2000.0, "Key"))
        for values in ({"grace_length": -1}, {"window_months": 0}, {"batch_size": 0}):
            with self.assertRaises(ValidationError, msg=str(values)):
                self.m_program.write(values)
        values = self._reread(self.program, ["grace_length", "window_months"])
        self.assertEqual((values["grace_length"], values["window_months"]), (2, 12))

    def _sql_refused(self, func):
        """A database CHECK refuses ``func``; the user sees its message (as
        the RPC layer turns it into a ValidationError)."""
        with self.assertRaises(IntegrityError) as caught, mute_logger("odoo.sql_db"):
            func()
            self.env.flush_all()
        return str(_as_validation_error(self.env, caught.exception))

    def test_new_tier_with_negative_amount(self):
        """On create the row is inserted before Python constraints run: the
        SQL constraint refuses it with its own clear message."""
        Tier = self.menv["customer.tier"]
        message = self._sql_refused(
            lambda: Tier.create(
                {
                    "program_id": self.program.id,
                    "code": "X",
                    "name": "X",
                    "min_revenue": -10,
                }
            )
        )
        self.assertIn("Tier conditions cannot be negative", message)
        self.assertFalse(
            self.env["customer.tier"]
            .with_context(active_test=False)
            .search([("program_id", "=", self.program.id), ("code", "=", "X")])
        )

    def test_negative_sales_policy_amounts(self):
        for field in ("min_order_amount", "fee_fixed", "fee_percent"):
            message = self._sql_refused(
                lambda field=field: self.m_tiers["D"].write({field: -1})
            )
            self.assertIn("cannot be negative", message, field)
            self.env.invalidate_all()
            self.assertEqual(self._reread(self.tier_d, [field])[field], 0.0, field)

    def test_bad_rfm_segment_ranges(self):
        segment = self.program.segment_ids[:1].with_env(self.menv)
        for values in ({"r_min": 0}, {"r_max": 6}, {"fm_min": 4, "fm_max": 3}):
            with self.assertRaises(ValidationError, msg=str(values)):
                segment.write(values)

    def test_program_keeps_a_fallback_tier(self):
        """No customers hold a tier yet: A, B, C may go, D (the last) may not."""
        (self.m_tiers["A"] | self.m_tiers["B"]).write({"active": False})
        self.m_tiers["C"].unlink()
        with self.assertRaises(ValidationError):
            self.m_tiers["D"].active = False
        with self.assertRaises(ValidationError):
            self.m_tiers["D"].unlink()
        with self.assertRaises(ValidationError):
            self.m_tiers["D"].kind = "prospect"
        self.assertTrue(self._reread(self.tier_d, ["active"])["active"])
        self.assertEqual(self.tier_d.kind, "customer")
        self.assertEqual(self.program._customer_tiers(), self.tier_d)

    def test_program_without_tiers_at_once(self):
        with self.assertRaises(ValidationError):
            self.m_program.write({"tier_ids": [Command.clear()]})
        with self.assertRaises(ValidationError):
            self.m_program.tier_ids.write({"active": False})
        with self.assertRaises(ValidationError):
            self.m_program.tier_ids.unlink()
        self.env.invalidate_all()
        self.assertEqual(len(self.program._customer_tiers()), 4)

    def test_engine_refuses_a_program_without_customer_tier(self):
        self.env.cr.execute(
            "UPDATE customer_tier SET active = false "
            "WHERE program_id = %s AND kind = 'customer'",
            [self.program.id],
        )
        self.env.invalidate_all()
        with self.assertRaises(UserError):
            self._run(E)

    def test_held_tier_cannot_go(self):
        self._run(E)
        self.assertEqual(self._profile(self.holder).tier_id, self.tier_c)
        with self.assertRaises(UserError):
            self.m_tiers["C"].active = False
        with self.assertRaises(UserError):
            self.m_tiers["C"].unlink()
        with self.assertRaises(UserError):
            self.m_tiers["C"].kind = "prospect"
        with self.assertRaises(UserError):
            self.m_program.write({"tier_ids": [Command.delete(self.tier_c.id)]})
        self.env.invalidate_all()
        self.assertTrue(self.tier_c.exists())
        self.assertTrue(self.tier_c.active)
        self.assertEqual(self.tier_c.kind, "customer")
        self.assertEqual(self._profile(self.holder).tier_id, self.tier_c)

    @freeze_time("2024-06-30 09:00:00")
    def test_tier_held_by_override_cannot_go(self):
        self._run(E)
        self._profile(self.holder).with_env(self.menv).write(
            {"manual_tier_id": self.tier_a.id, "manual_reason": "Key account"}
        )
        with self.assertRaises(UserError):
            self.m_tiers["A"].active = False
        # a tier nobody holds may be archived
        self.m_tiers["B"].active = False
        self.assertFalse(self.tier_b.active)

    def test_second_active_program(self):
        Program = self.menv["customer.tier.program"]
        count = Program.with_context(active_test=False).search_count([])
        with self.assertRaises(ValidationError):
            Program.create({"name": "Second", "company_id": self.company.id})
        self.assertEqual(
            Program.with_context(active_test=False).search_count([]), count
        )
        # an archived second program may exist, not be reactivated
        self.m_program.active = False
        second = Program.create({"name": "Second", "company_id": self.company.id})
        second.active = False
        self.m_program.active = True
        with self.assertRaises(ValidationError):
            second.active = True
        self.assertFalse(self._reread(second, ["active"])["active"])
        # a program moved to a company that has one (ValidationError or the
        # company consistency UserError)
        with self.assertRaises(UserError):
            self.program_b.company_id = self.company
        self.assertEqual(
            self._reread(self.program_b, ["company_id"])["company_id"][0],
            self.company_b.id,
        )
