"""The recompute preview's grace periods, and the re-classification."""

from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .test_assignment import AssignmentCase, E


class MethodSwitchCase(AssignmentCase):
    """A method switch and back, on 2024-06-30, grace 2 evaluations.

    Thresholds: Up B (2,000 / 2), Keep B (3,000 / 2), Down C (3,000 / 2 but
    334 days ago), Stay C (600). Pareto (A 80 %, B 95 %, C the rest): Keep and
    Down 3,000 each, 34.9 % and 69.8 % cumulative of 8,600 (A), Up 2,000
    93.0 % (B), Stay 600 (C). Switching to Pareto upgrades Keep and Down to A
    at once; switching back computes B and C for them again: a downgrade, so
    under the grace they stay A, at risk, and drop on the next daily
    evaluation (2024-07-01) unless they qualify again.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_length": 2, "grace_unit": "evaluations"})
        cls.up = cls._customer("Up")
        cls.keep = cls._customer("Keep")
        cls.down = cls._customer("Down")
        cls.stay = cls._customer("Stay")
        cls._buy_many(cls.up, [(1000, date(2024, 5, 1)), (1000, date(2024, 6, 1))])
        cls._buy_many(cls.keep, [(1500, date(2024, 5, 1)), (1500, date(2024, 6, 1))])
        cls._buy_many(cls.down, [(1500, date(2023, 7, 5)), (1500, date(2023, 8, 1))])
        cls._buy_many(cls.stay, [(600, date(2024, 6, 1))])

    def _wizard(self, reclassify=False, user=None, eval_date=E):
        env = self._env_as(user or self.user_manager)
        return env["customer.tier.recompute"].create(
            {
                "program_id": self.program.id,
                "eval_date": eval_date,
                "reclassify": reclassify,
            }
        )

    def _moves(self, wizard):
        return {
            (line.partner_id, line.from_tier_id, line.to_tier_id, line.cause)
            for line in wizard.line_ids
        }

    def _switch(self, method, reclassify=False):
        """Switch the method as a manager, preview and apply on E."""
        self.program.with_env(self._env_as(self.user_manager)).method = method
        wizard = self._wizard(reclassify)
        wizard.action_preview()
        return wizard, wizard.action_apply()

    def _risk_lines(self, wizard):
        return {
            (
                line.partner_id,
                line.kind,
                line.from_tier_id,
                line.pending_tier_id,
                line.drop_date,
            )
            for line in wizard.risk_line_ids
        }


@tagged("post_install", "-at_install")
class TestPreviewGraceAndReclassify(MethodSwitchCase):
    """The preview's grace periods and the re-classification, on the method
    switch and back."""

    def _switch_to_pareto_and_back(self):
        self._run(E)
        self.assertTiers(
            {
                self.up: self.tier_b,
                self.keep: self.tier_b,
                self.down: self.tier_c,
                self.stay: self.tier_c,
            }
        )
        wizard, _action = self._switch("pareto")
        self.assertEqual(
            self._moves(wizard),
            {
                (self.keep, self.tier_b, self.tier_a, "computed"),
                (self.down, self.tier_c, self.tier_a, "computed"),
            },
        )
        self.assertFalse(wizard.risk_line_ids)
        self.program.with_env(self._env_as(self.user_manager)).method = "threshold"

    def test_switch_back_shows_the_customers_at_risk(self):
        """The issue's case: the preview of the switch back moves nobody now,
        and says who becomes at risk and when they would drop."""
        self._switch_to_pareto_and_back()
        wizard = self._wizard()
        wizard.action_preview()
        self.assertFalse(wizard.line_ids)
        drop = date(2024, 7, 1)  # the next daily evaluation spends the grace
        self.assertEqual(
            self._risk_lines(wizard),
            {
                (self.keep, "at_risk", self.tier_a, self.tier_b, drop),
                (self.down, "at_risk", self.tier_a, self.tier_c, drop),
            },
        )
        self.assertEqual(
            (wizard.count_up, wizard.count_down, wizard.count_at_risk),
            (0, 0, 2),
        )
        self.assertEqual(wizard.first_drop_date, drop)
        self.assertIn(
            "No customer changes tier now; 2 become at risk (first drop on 07/01/2024)",
            wizard.summary,
        )
        self.assertNotIn("<table", wizard.summary)
        keep = wizard.risk_line_ids.filtered(lambda line: line.partner_id == self.keep)
        self.assertEqual(keep.revenue_to_keep, 7000.0)  # A's 10,000 less 3,000
        # Apply starts the graces it showed, and the next evaluation drops them
        wizard.action_apply()
        self.assertTrue(self._profile(self.keep).at_risk)
        self._run(drop)
        self.assertTiers({self.keep: self.tier_b, self.down: self.tier_c})

    def test_risk_ends_when_the_customer_qualifies_again(self):
        self._switch_to_pareto_and_back()
        self._wizard().action_preview()
        wizard = self._wizard()
        wizard.action_preview()
        wizard.action_apply()  # Keep and Down at risk
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        wizard = self._wizard()
        wizard.action_preview()
        self.assertFalse(wizard.line_ids)
        self.assertEqual(
            self._risk_lines(wizard),
            {
                (self.keep, "risk_ends", self.tier_a, self.env["customer.tier"], False),
                (self.down, "risk_ends", self.tier_a, self.env["customer.tier"], False),
            },
        )
        self.assertIn("No customer changes tier now; risk ends for 2", wizard.summary)

    def test_moves_and_risks_in_one_sentence(self):
        """Moves now and graces that start, in one summary line."""
        self._run(E)
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        self._buy(self.stay, 4000, date(2024, 6, 15))  # Stay 4,600 tops the ranking
        wizard = self._wizard()
        wizard.action_preview()
        # 11,200: Stay 41.1 % (A), Keep/Down 67.9 %/94.6 % (A, B), Up 100 % (C)
        self.assertEqual(
            self._moves(wizard),
            {
                (self.stay, self.tier_c, self.tier_a, "computed"),
                (self.keep, self.tier_b, self.tier_a, "computed"),
                (self.down, self.tier_c, self.tier_b, "computed"),
            },
        )
        self.assertEqual(
            self._risk_lines(wizard),
            {(self.up, "at_risk", self.tier_b, self.tier_c, date(2024, 7, 1))},
        )
        self.assertIn(
            "3 up, 0 down, 0 new now; 1 become at risk (first drop on 07/01/2024)",
            wizard.summary,
        )
        self.assertIn("<table", wizard.summary)

    def test_drop_date_in_days(self):
        """Grace in days: the grace's start plus its length (daily evaluations)."""
        self.program.write({"grace_unit": "days", "grace_length": 30})
        self._switch_to_pareto_and_back()
        wizard = self._wizard(eval_date=E + timedelta(days=3))
        wizard.action_preview()
        self.assertEqual(
            set(wizard.risk_line_ids.mapped("drop_date")), {date(2024, 8, 2)}
        )

    def test_drop_date_follows_the_schedule(self):
        """A weekly scheduled recompute: the grace is spent a week later."""
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        cron.write({"interval_number": 1, "interval_type": "weeks"})
        self._switch_to_pareto_and_back()
        wizard = self._wizard()
        wizard.action_preview()
        self.assertEqual(
            set(wizard.risk_line_ids.mapped("drop_date")), {date(2024, 7, 7)}
        )

    def test_no_drop_date_without_automatic_application(self):
        """Tiers applied by hand only: no scheduled evaluation drops them."""
        self.program.auto_apply = False
        self._switch_to_pareto_and_back()
        wizard = self._wizard()
        wizard.action_preview()
        self.assertEqual(wizard.count_at_risk, 2)
        self.assertFalse(any(wizard.risk_line_ids.mapped("drop_date")))
        self.assertIn(
            "2 become at risk (no scheduled evaluation applies the drop)",
            wizard.summary,
        )

    def test_reclassify_applies_downgrades_at_once(self):
        """The switch back as a re-classification: the preview shows the
        downgrades, Apply makes them (cause reclassify) and says so."""
        self._switch_to_pareto_and_back()
        wizard = self._wizard(reclassify=True)
        wizard.action_preview()
        self.assertEqual(
            self._moves(wizard),
            {
                (self.keep, self.tier_a, self.tier_b, "reclassify"),
                (self.down, self.tier_a, self.tier_c, "reclassify"),
            },
        )
        self.assertFalse(wizard.risk_line_ids)
        self.assertIn(
            "Re-classification (no grace): 0 up, 2 down, 0 new now", wizard.summary
        )
        params = wizard.action_apply()["params"]
        self.assertEqual(params["title"], "Customers re-classified")
        self.assertEqual(
            params["message"], "Re-classification (no grace): 0 up, 2 down, 0 new."
        )
        rows = self.env["customer.tier.history"].search(params["next"]["domain"])
        self.assertEqual(set(rows.mapped("cause")), {"reclassify"})
        self.assertTrue(all(rows.mapped("reason")))
        self.assertTiers(
            {
                self.up: self.tier_b,
                self.keep: self.tier_b,
                self.down: self.tier_c,
                self.stay: self.tier_c,
            }
        )
        self.assertFalse(
            self._profile(self.keep).at_risk or self._profile(self.down).at_risk
        )

    def test_reclassify_ends_a_running_grace(self):
        """Customers already at risk drop at once in a re-classification; an
        upgrade is a re-classification move too."""
        self._switch_to_pareto_and_back()
        wizard = self._wizard()
        wizard.action_preview()
        wizard.action_apply()  # Keep and Down at risk
        self._buy(self.up, 9000, date(2024, 6, 20))  # Up qualifies for A
        wizard = self._wizard(reclassify=True)
        wizard.action_preview()
        self.assertEqual(
            self._moves(wizard),
            {
                (self.up, self.tier_b, self.tier_a, "reclassify"),
                (self.keep, self.tier_a, self.tier_b, "reclassify"),
                (self.down, self.tier_a, self.tier_c, "reclassify"),
            },
        )
        self.assertFalse(wizard.risk_line_ids)  # ended by their moves
        wizard.action_apply()
        self.assertFalse(
            self._profile(self.keep).at_risk or self._profile(self.down).at_risk
        )

    def test_engine_reclassify_keeps_first_tier_causes(self):
        """A customer's first tier stays ``initial`` in a re-classification;
        an incremental refresh is never one."""
        self._run(E, reclassify=True)
        self.assertEqual(set(self._history().mapped("cause")), {"initial"})
        engine = self.program._engine()
        _rows, changes = engine.plan(E, partner_ids=self.keep.ids, reclassify=True)
        self.assertFalse(changes)
        self.assertFalse(
            engine._assign_run(E, False, False, {}, reclassify=False).reclassify
        )

    def test_reclassify_form(self):
        """The form: the option before the preview, read-only after it."""
        self._switch_to_pareto_and_back()
        action = self.program.with_env(
            self._env_as(self.user_manager)
        ).action_open_recompute()
        env = self._env_as(self.user_manager)
        form = Form(env[action["res_model"]].with_context(**action["context"]))
        form.eval_date = E
        form.reclassify = True
        wizard = form.save()
        wizard.action_preview()
        form = Form(wizard)
        self.assertEqual(len(form.line_ids), 2)
        self.assertEqual(len(form.risk_line_ids), 0)
        with self.assertRaises(AssertionError):
            form.reclassify = False  # read-only once previewed
        plain = self._wizard()
        plain.action_preview()
        form = Form(plain)
        self.assertEqual(len(form.risk_line_ids), 2)
        self.assertEqual(len(form.line_ids), 0)

    def test_salespeople_cannot_reclassify(self):
        """Only a tier manager previews or applies a re-classification."""
        self._switch_to_pareto_and_back()
        for user in (self.user_own, self.user_all):
            with self.assertRaises(AccessError):
                self._wizard(reclassify=True, user=user)
        wizard = self._wizard(reclassify=True)
        wizard.action_preview()
        history = self._history()
        for user in (self.user_own, self.user_all):
            with self.assertRaises(AccessError):
                wizard.with_env(self._env_as(user)).action_apply()
        self.assertEqual(self._history(), history)
        self.assertEqual(self._profile(self.keep).tier_id, self.tier_a)


@tagged("post_install", "-at_install")
class TestBackgroundRecompute(MethodSwitchCase):
    """Apply of a recompute of more customers than the batch size: it runs in
    the background, batch by batch in the scheduled recompute, with progress,
    and a note tells the manager when it is done. Same customers as above,
    batch size 3 (4 customers)."""

    def _cron_call(self):
        """One call of the scheduled recompute, as the cron runner makes it:
        the progress it reports."""
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        self.env["customer.tier.program"].with_context(
            ir_cron_progress_id=progress.id
        )._cron_recompute()
        return progress.done, progress.remaining

    def _apply_in_background(self, reclassify=False):
        self.program.batch_size = 3
        wizard = self._wizard(reclassify)
        wizard.action_preview()
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        action = wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        )
        return wizard, action

    def test_large_recompute_runs_in_the_background(self):
        self._run(E)
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        _wizard, action = self._apply_in_background()
        params = action["params"]
        self.assertEqual(params["title"], "Recompute running in the background")
        self.assertEqual(
            params["message"],
            "4 customers are evaluated in batches of 3. A note on the tier "
            "program tells you when it is done.",
        )
        env = self._env_as(self.user_manager)
        request = env[params["next"]["res_model"]].browse(params["next"]["res_id"])
        self.assertEqual(
            (request.state, request.total, request.done_count, request.user_id),
            ("queued", 4, 0, self.user_manager),
        )
        form = Form(request)
        self.assertEqual(form.progress, 0.0)
        # nothing written until the scheduled recompute runs
        self.assertEqual(self._profile(self.keep).tier_id, self.tier_b)
        # an order between the preview and the batches: a move unlike the preview
        self._buy(self.stay, 1500, date(2024, 6, 20))
        self.assertEqual(self._cron_call(), (3, 1))
        self.assertEqual((request.state, request.done_count), ("running", 3))
        self.assertEqual(Form(request).progress, 75.0)
        done, _daily = self._cron_call()
        self.assertEqual(done, 1)
        self.assertEqual(request.state, "done")
        # Stay's 2,100 (of 10,100) outranks Up's 2,000: Stay up to B (80.2 %),
        # unlike the preview; Up (100 %) computes C, at risk in its grace
        self.assertEqual(
            (request.count_up, request.count_down, request.count_differs), (3, 0, 1)
        )
        self.assertTiers(
            {
                self.up: self.tier_b,
                self.keep: self.tier_a,
                self.down: self.tier_a,
                self.stay: self.tier_b,
            }
        )
        moves = self.env["customer.tier.history"].search(
            request.action_view_moves()["domain"]
        )
        self.assertEqual(len(moves), 3)  # Up's downgrade waits in its grace
        self.assertTrue(self._profile(self.up).at_risk)
        note = self.program.message_ids[:1]
        self.assertIn(self.user_manager.partner_id, note.partner_ids)
        self.assertIn("3 up, 0 down, 0 new.", note.body)
        self.assertIn("1 moves differ from the preview", note.body)
        self.assertIn(f"/odoo/customer.tier.recompute.request/{request.id}", note.body)
        self.assertTrue(
            self.env["bus.bus"].search(
                [("message", "like", "simple_notification")], limit=1
            )
        )

    def test_reclassify_in_the_background(self):
        self._run(E)
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        wizard = self._wizard()
        wizard.action_preview()
        wizard.action_apply()  # Keep and Down up to A, at once
        self.program.with_env(self._env_as(self.user_manager)).method = "threshold"
        _wizard, action = self._apply_in_background(reclassify=True)
        request = self.env["customer.tier.recompute.request"].browse(
            action["params"]["next"]["res_id"]
        )
        self.assertTrue(request.reclassify)
        self._cron_call()
        self._cron_call()
        self.assertEqual((request.state, request.count_down), ("done", 2))
        self.assertTiers({self.keep: self.tier_b, self.down: self.tier_c})
        self.assertIn(
            "Re-classification (no grace): 0 up, 2 down, 0 new.",
            self.program.message_ids[:1].body,
        )

    def test_salespeople_cannot_read_requests(self):
        self._run(E)
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        _wizard, action = self._apply_in_background()
        for user in (self.user_own, self.user_all):
            request = self._env_as(user)["customer.tier.recompute.request"].browse(
                action["params"]["next"]["res_id"]
            )
            with self.assertRaises(AccessError):
                request.action_view_moves()

    def test_other_company_manager_cannot_read_requests(self):
        """A manager of company B reads neither company A's request nor the
        tier moves it wrote."""
        self._run(E)
        self.program.with_env(self._env_as(self.user_manager)).method = "pareto"
        _wizard, action = self._apply_in_background()
        self._cron_call()
        self._cron_call()
        manager_b = new_test_user(
            self.env,
            login="ct_manager_b",
            groups="sales_team.group_sale_manager",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        env_b = self._env_as(manager_b)
        Request = env_b["customer.tier.recompute.request"]
        self.assertFalse(Request.search([]))
        request = Request.browse(action["params"]["next"]["res_id"])
        with self.assertRaises(AccessError):
            request.action_view_moves()
        with self.assertRaises(AccessError):
            request.read(["run_ref", "count_up"])
        # the moves the request wrote, searched directly, stay company A's
        run_ref = self.env["customer.tier.recompute.request"].browse(request.id).run_ref
        self.assertTrue(
            self.env["customer.tier.history"].search_count([("run_ref", "=", run_ref)])
        )
        self.assertFalse(
            env_b["customer.tier.history"].search([("run_ref", "=", run_ref)])
        )
