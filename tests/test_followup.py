"""Follow-up cadence per tier, reorder and risk alerts."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import CustomerTierCase

FOLLOWUP_TYPE = "customer_tier.mail_activity_type_tier_followup"
REORDER_TYPE = "customer_tier.mail_activity_type_reorder_check"


class FollowupCase(CustomerTierCase):
    """Set-up shared by the follow-up tests."""

    @classmethod
    def _setup_followup_customers(cls, name):
        """The follow-up program (follow-up user: the manager, 3 days ahead)
        and two customers ``<name> A`` (tier A: 3 orders of 4,000, salesperson
        ``user_own``, one contact) and ``<name> C`` (tier C: 800 on
        2024-06-15, salesperson ``user_all``), their orders confirmed on a
        frozen 2024-06-30 (confirming refreshes the customer on "today"). Call
        inside that frozen time."""
        cls._deactivate_other_programs()
        cls.program.write(
            {"followup_user_id": cls.user_manager.id, "followup_days_ahead": 3}
        )
        cls.cust_a = cls._customer(f"{name} A", user_id=cls.user_own.id)
        cls.contact_a = cls._contact(cls.cust_a, f"Buyer of {name} A")
        for day in (date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1)):
            cls._order(cls.cust_a, 4000, day)
        cls.cust_c = cls._customer(f"{name} C", user_id=cls.user_all.id)
        cls._order(cls.cust_c, 800, date(2024, 6, 15))


@tagged("post_install", "-at_install")
class TestFollowup(FollowupCase):
    """Cadence per tier, the daily follow-up run and its idempotence.

    On the evaluation date (2024-06-30) every customer enters its tier and has
    no contact yet, so its next follow-up is 2024-06-30 + the tier's interval:
    A 45 days (2024-08-14), C 60 (2024-08-29), D 120 (2024-10-28), prospect
    grade B 7 (2024-07-07).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # confirming an order refreshes its customer on "today": freeze it
        with freeze_time("2024-06-30 09:00:00"):
            cls._setup_followup_customers("Follow")
            cls.cust_d = cls._customer("Follow D without salesperson")
            cls._order(cls.cust_d, 100, date(2024, 6, 20))
            cls.cust_archived = cls._customer(
                "Follow archived", user_id=cls.user_own.id
            )
            cls._order(cls.cust_archived, 800, date(2024, 6, 15))
            cls.prospect = cls._customer("Follow prospect", customer_rank=1)
            cls._run(cls.eval_date)
            cls._profile(cls.prospect).sudo().write(
                {"manual_tier_id": cls.grades["B"].id}
            )
        cls.cust_archived.active = False
        cls.profile_a = cls._profile(cls.cust_a)
        cls.profile_c = cls._profile(cls.cust_c)
        cls.profile_d = cls._profile(cls.cust_d)
        cls.profile_archived = cls._profile(cls.cust_archived)
        cls.profile_prospect = cls._profile(cls.prospect)
        cls.Activity = cls.env["mail.activity"]

    def _followups(self, partners=None):
        domain = [("customer_tier_activity", "=", "followup")]
        if partners is not None:
            domain += [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
            ]
        return self.Activity.search(domain)

    def _cron(self):
        return self.env["customer.tier.program"]._cron_followup()

    # ------------------------------------------------------------------
    # Dates
    # ------------------------------------------------------------------
    def test_due_dates_per_tier(self):
        self.assertEqual(self.profile_a.tier_id, self.tier_a)
        self.assertEqual(self.profile_c.tier_id, self.tier_c)
        self.assertEqual(self.profile_d.tier_id, self.tier_d)
        self.assertEqual(self.profile_prospect.tier_id, self.grades["B"])
        expected = {
            self.profile_a: date(2024, 8, 14),
            self.profile_c: date(2024, 8, 29),
            self.profile_d: date(2024, 10, 28),
            self.profile_prospect: date(2024, 7, 7),
        }
        for profile, next_date in expected.items():
            self.assertFalse(profile.last_contact_date, profile.partner_id.name)
            self.assertEqual(profile.tier_since, date(2024, 6, 30))
            self.assertEqual(
                profile.next_followup_date, next_date, profile.partner_id.name
            )
            self.assertEqual(
                profile.next_followup_date - profile.tier_since,
                timedelta(days=profile.tier_id.followup_interval),
            )
        # the shipped cadences, copied to the test company's program
        self.assertEqual(
            {t.code: t.followup_interval for t in self.program._customer_tiers()},
            {"A": 45, "B": 30, "C": 60, "D": 120},
        )
        self.assertEqual(
            {t.code: t.followup_interval for t in self.program._prospect_grades()},
            {"A": 5, "B": 7, "C": 30},
        )
        self.assertEqual(
            self.tier_a.followup_activity_type_id, self.env.ref(FOLLOWUP_TYPE)
        )
        self.assertTrue(self.tier_a.followup_summary and self.tier_a.followup_note)
        # the partner form shows them
        self.assertEqual(self.cust_a.tier_next_followup_date, date(2024, 8, 14))
        self.assertEqual(self.contact_a.tier_next_followup_date, date(2024, 8, 14))

    def test_overdue_flag_and_filter(self):
        Profile = self.env["customer.tier.profile"]
        ours = [("company_id", "=", self.company.id)]
        with freeze_time("2024-08-14"):
            self.assertFalse(self.profile_a.followup_overdue)
            self.assertTrue(self.profile_prospect.followup_overdue)
            overdue = Profile.search([*ours, ("followup_overdue", "=", True)])
            self.assertEqual(overdue, self.profile_prospect)
        with freeze_time("2024-08-15"):
            self.profile_a.invalidate_recordset(["followup_overdue"])
            self.assertTrue(self.profile_a.followup_overdue)
            overdue = Profile.search([*ours, ("followup_overdue", "=", True)])
            self.assertEqual(overdue, self.profile_a | self.profile_prospect)
            not_overdue = Profile.search([*ours, ("followup_overdue", "=", False)])
            self.assertEqual(
                not_overdue, self.profile_c | self.profile_d | self.profile_archived
            )

    def test_interval_change_moves_next_date(self):
        self.tier_a.followup_interval = 10
        self.assertEqual(self.profile_a.next_followup_date, date(2024, 7, 10))
        self.tier_a.followup_interval = 0
        self.assertFalse(self.profile_a.next_followup_date)

    # ------------------------------------------------------------------
    # Daily run
    # ------------------------------------------------------------------
    def test_cron_schedules_once_assigned_and_dated(self):
        with freeze_time("2024-08-12"):
            self._cron()
        # A (2024-08-14) is within the 3 days ahead, C and D are not; the
        # prospect (2024-07-07) is late
        activity = self._followups(self.cust_a)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_own)
        self.assertEqual(activity.date_deadline, date(2024, 8, 14))
        self.assertEqual(activity.activity_type_id, self.env.ref(FOLLOWUP_TYPE))
        self.assertEqual(activity.summary, self.tier_a.followup_summary)
        self.assertEqual(str(activity.note), str(self.tier_a.followup_note))
        self.assertEqual(activity.customer_tier_profile_id, self.profile_a)
        self.assertEqual(activity.res_model, "res.partner")
        self.assertTrue(activity.automated)
        prospect_activity = self._followups(self.prospect)
        self.assertEqual(len(prospect_activity), 1)
        # no salesperson: the program's default follow-up user; late: today
        self.assertEqual(prospect_activity.user_id, self.user_manager)
        self.assertEqual(prospect_activity.date_deadline, date(2024, 8, 12))
        self.assertEqual(prospect_activity.summary, self.grades["B"].followup_summary)
        self.assertFalse(
            self._followups(self.cust_c | self.cust_d | self.cust_archived)
        )
        # rerun: nothing new
        with freeze_time("2024-08-12"):
            self._cron()
        with freeze_time("2024-08-13"):
            self._cron()
        self.assertEqual(self._followups(self.cust_a), activity)
        self.assertEqual(self._followups(self.prospect), prospect_activity)
        # later: everyone due, the archived partner is skipped
        with freeze_time("2024-11-01"):
            self._cron()
            self._cron()
        self.assertEqual(len(self._followups(self.cust_c)), 1)
        d_activity = self._followups(self.cust_d)
        self.assertEqual(len(d_activity), 1)
        self.assertEqual(d_activity.user_id, self.user_manager)
        self.assertEqual(d_activity.date_deadline, date(2024, 11, 1))
        self.assertFalse(self._followups(self.cust_archived))
        self.assertEqual(self._followups(self.cust_a), activity)

    def test_archived_salesperson_and_no_fallback(self):
        self.user_all.active = False
        self.program.followup_user_id = False
        with freeze_time("2024-09-01"):
            self._cron()
        # archived salesperson, no default user: the administrator
        admin = self.env.ref("base.user_admin")
        activity = self._followups(self.cust_c)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, admin)
        self.assertEqual(self._followups(self.prospect).user_id, admin)

    def test_done_moves_next_date(self):
        with freeze_time("2024-08-12"):
            self._cron()
        activity = self._followups(self.cust_a)
        with freeze_time("2024-08-13 10:00:00"):
            activity.with_env(self._env_as(self.user_own)).action_feedback(
                feedback="Quarterly review held"
            )
        self.assertFalse(activity.exists())
        self.assertEqual(self.profile_a.last_contact_date, date(2024, 8, 13))
        self.assertEqual(self.profile_a.next_followup_date, date(2024, 9, 27))
        self.assertEqual(self.cust_a.tier_last_contact_date, date(2024, 8, 13))
        with freeze_time("2024-08-13"):
            self._cron()
        self.assertFalse(self._followups(self.cust_a))
        with freeze_time("2024-09-24"):
            self._cron()
        self.assertEqual(self._followups(self.cust_a).date_deadline, date(2024, 9, 27))

    def test_logged_note_counts_notifications_do_not(self):
        with freeze_time("2024-07-20 08:00:00"):
            self.contact_a.message_post(
                body="Met the buyer at the fair",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self.assertEqual(self.profile_a.last_contact_date, date(2024, 7, 20))
        self.assertEqual(self.profile_a.next_followup_date, date(2024, 9, 3))
        with freeze_time("2024-07-25 08:00:00"):
            self.cust_a.message_post(body="Tier note", message_type="notification")
            self.env["mail.message"].create(
                {
                    "model": "res.partner",
                    "res_id": self.cust_a.id,
                    "message_type": "notification",
                    "body": "System notification",
                }
            )
        self.assertEqual(self.profile_a.last_contact_date, date(2024, 7, 20))
        # a comment created without message_post is caught by the batch refresh
        with freeze_time("2024-08-01 08:00:00"):
            self.env["mail.message"].create(
                {
                    "model": "res.partner",
                    "res_id": self.cust_c.id,
                    "message_type": "comment",
                    "body": "Imported call report",
                }
            )
        self.assertFalse(self.profile_c.last_contact_date)
        with freeze_time("2024-08-28"):
            self._cron()
        self.assertEqual(self.profile_c.last_contact_date, date(2024, 8, 1))
        self.assertEqual(self.profile_c.next_followup_date, date(2024, 9, 30))
        self.assertFalse(self._followups(self.cust_c))

    def test_tier_change_reschedules(self):
        with freeze_time("2024-08-12"):
            self._cron()
        activity = self._followups(self.cust_a)
        self.assertEqual(activity.date_deadline, date(2024, 8, 14))
        with freeze_time("2024-08-13"):
            self.profile_a.with_env(self._env_as(self.user_manager)).write(
                {"manual_tier_id": self.tier_c.id, "manual_reason": "Buys less"}
            )
        # reused, moved to tier C's cadence from the tier change (no contact)
        self.assertEqual(self._followups(self.cust_a), activity)
        self.assertEqual(self.profile_a.next_followup_date, date(2024, 10, 12))
        self.assertEqual(activity.date_deadline, date(2024, 10, 12))
        self.assertEqual(activity.summary, self.tier_c.followup_summary)
        # a tier without cadence drops the open follow-up
        self.tier_d.followup_interval = 0
        with freeze_time("2024-08-14"):
            self.profile_a.with_env(self._env_as(self.user_manager)).write(
                {"manual_tier_id": self.tier_d.id, "manual_reason": "Marginal now"}
            )
        self.assertFalse(activity.exists())
        self.assertFalse(self.profile_a.next_followup_date)

    def test_engine_tier_change_reschedules(self):
        """A computed change (engine path) reschedules as well."""
        with freeze_time("2024-11-01"):
            self._cron()
        activity = self._followups(self.cust_c)
        self.assertEqual(activity.summary, self.tier_c.followup_summary)
        with freeze_time("2024-11-02"):
            for day in (date(2024, 10, 1), date(2024, 10, 15), date(2024, 11, 1)):
                self._order(self.cust_c, 5000, day)
            self._run(date(2024, 11, 2))
        self.assertEqual(self.profile_c.tier_id, self.tier_a)
        self.assertEqual(self._followups(self.cust_c), activity)
        self.assertEqual(activity.summary, self.tier_a.followup_summary)
        self.assertEqual(activity.date_deadline, date(2024, 12, 17))

    def test_plan_on_tier_entry(self):
        plan = self.env["mail.activity.plan"].create(
            {
                "name": "Welcome a key customer",
                "res_model": "res.partner",
                "template_ids": [
                    Command.create(
                        {
                            "activity_type_id": self.env.ref(
                                "mail.mail_activity_data_call"
                            ).id,
                            "summary": "Welcome call",
                            "responsible_type": "on_demand",
                            "delay_count": 2,
                            "delay_unit": "days",
                            "delay_from": "after_plan_date",
                        }
                    ),
                    Command.create(
                        {
                            "activity_type_id": self.env.ref(
                                "mail.mail_activity_data_todo"
                            ).id,
                            "summary": "Send the catalogue",
                            "responsible_type": "other",
                            "responsible_id": self.user_all.id,
                        }
                    ),
                ],
            }
        )
        self.tier_b.followup_plan_id = plan
        with freeze_time("2024-08-01"):
            self.profile_c.with_env(self._env_as(self.user_manager)).write(
                {"manual_tier_id": self.tier_b.id, "manual_reason": "Strategic"}
            )
        planned = self.Activity.search(
            [("res_id", "=", self.cust_c.id), ("customer_tier_activity", "=", "plan")]
        )
        self.assertEqual(
            sorted(planned.mapped("summary")), ["Send the catalogue", "Welcome call"]
        )
        call = planned.filtered(lambda a: a.summary == "Welcome call")
        self.assertEqual(call.user_id, self.user_all)  # the salesperson
        self.assertEqual(call.date_deadline, date(2024, 8, 3))
        self.assertIn(
            "Welcome a key customer",
            self.profile_c.message_ids.filtered(
                lambda m: m.message_type == "notification"
            )[0].body,
        )
        # the plan note is not a contact
        self.assertFalse(self.profile_c.last_contact_date)

    # ------------------------------------------------------------------
    # Reorder alerts
    # ------------------------------------------------------------------
    def _profile_notes(self, profile):
        messages = self.env["mail.message"].search(
            [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
        )
        return " ".join(str(body) for body in messages.mapped("body"))

    def _reorder_checks(self, partner):
        return self.Activity.search(
            [("res_id", "=", partner.id), ("customer_tier_activity", "=", "reorder")]
        )

    def test_reorder_overdue_alert_once_per_episode(self):
        cust = self._customer("Reorder R", user_id=self.user_own.id)
        with freeze_time("2024-06-30"):
            for day in (date(2024, 1, 1), date(2024, 1, 31), date(2024, 3, 1)):
                self._order(cust, 4000, day)
            self._run(date(2024, 6, 30))
        profile = self._profile(cust)
        self.assertTrue(profile.reorder_overdue)
        # a full evaluation leaves the check to the follow-up run's batches
        self.assertFalse(self._reorder_checks(cust))
        self.assertEqual(profile.alert_pending_date, date(2024, 6, 30))
        with freeze_time("2024-06-30"):
            # the other company's follow-up run leaves this company's checks
            self.assertEqual(
                self.program_b._followup_pending_alerts(date(2024, 6, 30), 10), (0, 0)
            )
            self.assertEqual(profile.alert_pending_date, date(2024, 6, 30))
            done, left = self.program._followup_pending_alerts(date(2024, 6, 30), 10)
        self.assertGreaterEqual(done, 1)
        self.assertEqual(left, 0)
        self.assertFalse(profile.alert_pending_date)
        check = self._reorder_checks(cust)
        self.assertEqual(len(check), 1)
        self.assertEqual(check.activity_type_id, self.env.ref(REORDER_TYPE))
        self.assertEqual(check.user_id, self.user_own)
        self.assertEqual(check.date_deadline, date(2024, 6, 30))
        # the partner's activity, read by every user, only points to the
        # profile; the figures are logged there, under its record rules
        self.assertFalse(check.summary)
        self.assertEqual(check.display_name, "Reorder check")  # the type's name
        self.assertNotIn("121", str(check.note))
        notes = self._profile_notes(profile)
        self.assertIn("Reorder check: reorder overdue", notes)
        self.assertIn("30.0", notes)  # the reorder cycle
        self.assertIn("121", notes)  # days since the last order
        self.assertEqual(profile.reorder_alert_date, date(2024, 6, 30))
        # distinct from the cadence follow-up
        self.assertNotEqual(check.activity_type_id, self.env.ref(FOLLOWUP_TYPE))
        with freeze_time("2024-07-01"):
            self._run(date(2024, 7, 1))
            check.action_feedback(feedback="Called, they have stock")
            self._run(date(2024, 7, 2))
        self.assertFalse(self._reorder_checks(cust))
        # the customer orders again: the episode ends
        with freeze_time("2024-07-05 10:00:00"):
            self._order(cust, 4000, date(2024, 7, 5))
        self.assertFalse(profile.reorder_overdue)
        self.assertFalse(profile.reorder_alert_date)
        # overdue again later: a new check
        with freeze_time("2024-11-01"):
            self._run(date(2024, 11, 1))
            self.program._followup_run(date(2024, 11, 1))
        self.assertTrue(profile.reorder_overdue)
        self.assertEqual(len(self._reorder_checks(cust)), 1)
        self.assertEqual(profile.reorder_alert_date, date(2024, 11, 1))

    def test_reorder_alert_skips_archived_and_prospects(self):
        cust = self._customer("Reorder archived")
        with freeze_time("2024-06-30"):
            for day in (date(2024, 1, 1), date(2024, 1, 31)):
                self._order(cust, 100, day)
        cust.active = False
        with freeze_time("2024-06-30"):
            self._run(date(2024, 6, 30))
        self.assertTrue(self._profile(cust).reorder_overdue)
        self.assertFalse(self._reorder_checks(cust))
        self.assertFalse(self._profile(cust).reorder_alert_date)
        self.assertFalse(self._profile(cust).alert_pending_date)
        self.assertFalse(self._reorder_checks(self.prospect))

    # ------------------------------------------------------------------
    # Scale
    # ------------------------------------------------------------------
    def _prospects(self, count, prefix):
        partners = self.env["res.partner"].create(
            [
                {"name": f"{prefix} {i}", "is_company": True, "customer_rank": 1}
                for i in range(count)
            ]
        )
        with freeze_time("2024-06-30"):
            self._run(date(2024, 6, 30))
            profiles = self.env["customer.tier.profile"].search(
                [("partner_id", "in", partners.ids)]
            )
            profiles.sudo().write({"manual_tier_id": self.grades["C"].id})
        return partners

    def test_cron_batches_and_progress(self):
        partners = self._prospects(60, "Batch prospect")
        self.program.followup_batch_size = 25
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_followup")
        programs = self.env["customer.tier.program"]
        # 60 prospects (C: 30 days), the fixture's prospect, A and C customers
        # are due on 2024-09-01; company B has nothing due
        reports = []
        with freeze_time("2024-09-01"):
            for _i in range(5):
                _cron, progress = cron._add_progress()
                programs.with_context(ir_cron_progress_id=progress.id)._cron_followup()
                reports.append((progress.done, progress.remaining))
                if not progress.remaining:
                    break
        # (+1: the reorder check of an overdue fixture customer, left pending
        # by the full evaluation of the fixture)
        self.assertEqual(reports, [(25, 39), (25, 14), (14, 0)])
        self.assertEqual(len(self._followups(partners)), 60)
        with freeze_time("2024-09-01"):
            self.assertEqual(self._cron(), (0, 0))

    def test_cron_batch_query_count(self):
        """A batch costs the same number of queries whatever its size."""
        small = self._prospects(5, "Small batch")
        large = self._prospects(40, "Large batch")
        self.program.followup_user_id = self.user_manager
        today = date(2024, 9, 1)
        with freeze_time("2024-09-01"):
            # warm up caches (activity types, ir.model, langs) with the
            # fixture's prospect, the first due (2024-07-07)
            self.program._followup_due(today, 1)
            self.env.flush_all()
            self.env.invalidate_all()
            count0 = self.cr.sql_log_count
            self.assertEqual(self.program._followup_due(today, 5)[0], 5)
            self.env.flush_all()
            measured = self.cr.sql_log_count - count0
            self.assertEqual(len(self._followups(small)), 5)
            self.env.invalidate_all()
            with self.assertQueryCount(measured):
                # the 40 large ones; A and C (due later) remain
                self.assertEqual(self.program._followup_due(today, 40), (40, 2))
        self.assertEqual(len(self._followups(large)), 40)
        self.assertLess(measured, 40)

    # ------------------------------------------------------------------
    # Views and access
    # ------------------------------------------------------------------
    def test_views(self):
        env = self._env_as(self.user_manager)
        with Form(env["customer.tier"].browse(self.tier_a.id)) as form:
            form.followup_interval = 40
        self.assertEqual(self.tier_a.followup_interval, 40)
        with Form(env["customer.tier.program"].browse(self.program.id)) as form:
            form.followup_days_ahead = 5
            form.key_date_remind_days = 10
        self.assertEqual(self.program.followup_days_ahead, 5)
        Form(env["customer.tier.profile"].browse(self.profile_a.id))
        Form(env["res.partner"].browse(self.cust_a.id))
        action = self.env.ref("customer_tier.customer_tier_followup_action")
        for view_id, view_type in [
            (v.view_id.id, v.view_mode) for v in action.view_ids
        ]:
            env["customer.tier.profile"].get_views([(view_id, view_type)])
        env["customer.tier.profile"].get_views([(False, "search")])
        with freeze_time("2024-09-01"):
            self._cron()
        activity_action = self.env.ref(
            "customer_tier.mail_activity_action_customer_tier"
        )
        Activity = env["mail.activity"]
        for view in activity_action.view_ids:
            Activity.get_views([(view.view_id.id, view.view_mode)])
        Activity.get_views([(False, "search")])
        result = Activity.web_search_read(
            [("customer_tier_activity", "!=", False)],
            {"summary": {}, "customer_tier_id": {"fields": {"display_name": {}}}},
        )
        self.assertGreaterEqual(result["length"], 3)
        grouped = env["customer.tier.profile"].read_group(
            [("next_followup_date", "!=", False), ("company_id", "=", self.company.id)],
            ["next_followup_date:min"],
            ["user_id"],
        )
        self.assertTrue(grouped)
        action = self.profile_a.action_view_followup_activities()
        self.assertEqual(action["res_model"], "mail.activity")

    def test_salesperson_sees_own_followups_only(self):
        with freeze_time("2024-11-01"):
            self._cron()
        env = self._env_as(self.user_own)
        profiles = env["customer.tier.profile"].search(
            [("next_followup_date", "!=", False)]
        )
        self.assertEqual(profiles, self.profile_a | self.profile_archived)
        mine = env["mail.activity"].search(
            [
                ("customer_tier_activity", "=", "followup"),
                ("user_id", "=", self.user_own.id),
            ]
        )
        self.assertEqual(mine.mapped("res_id"), [self.cust_a.id])
        # a salesperson cannot move the dates
        with self.assertRaises(AccessError):
            env["customer.tier.profile"].browse(self.profile_a.id).write(
                {"next_followup_date": "2025-01-01"}
            )
        # company B sees nothing of company A
        env_b = self._env_as(self.user_b)
        self.assertFalse(
            env_b["customer.tier.profile"].search([("next_followup_date", "!=", False)])
        )


@tagged("post_install", "-at_install")
class TestFollowupRiskAlert(CustomerTierCase):
    """A customer whose RFM segment turns to "can't lose" gets one check."""

    def _profile_notes(self, profile):
        """The bodies of the messages on ``profile``, as one text."""
        return " ".join(
            str(body)
            for body in self.env["mail.message"]
            .search(
                [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
            )
            .mapped("body")
        )

    def test_risk_alert_once(self):
        big = self._customer("Big but gone", user_id=self.user_all.id)
        with freeze_time("2024-06-30"):
            self._order(big, 5000, date(2022, 11, 8))  # before the window
            self._order(big, 5000, date(2023, 12, 13))  # 200 days before 2024-06-30
            for i, days in enumerate((10, 20, 30, 40)):
                small = self._customer(f"Small recent {i}")
                self._order(small, 100, self.eval_date - timedelta(days=days))
            self._run(self.eval_date)
            self._program()._followup_run(self.eval_date)
        profile = self._profile(big)
        self.assertIn(profile.rfm_segment_id.code, ("at_risk", "cant_lose"))
        self.assertFalse(profile.reorder_overdue)
        checks = self.env["mail.activity"].search(
            [("res_id", "=", big.id), ("customer_tier_activity", "=", "reorder")]
        )
        self.assertEqual(len(checks), 1)
        self.assertEqual(checks.user_id, self.user_all)
        self.assertFalse(checks.summary)
        notes = self._profile_notes(profile)
        self.assertIn(profile.rfm_segment_id.name, notes)
        self.assertIn("R 1", notes)
        self.assertNotIn("R 1", str(checks.note))
        self.assertEqual(profile.risk_alert_date, date(2024, 6, 30))
        with freeze_time("2024-07-01"):
            self._run(date(2024, 7, 1))
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_id", "=", big.id), ("customer_tier_activity", "=", "reorder")]
            ),
            1,
        )
        # back in business: the episode ends
        with freeze_time("2024-07-02 10:00:00"):
            self._order(big, 5000, date(2024, 7, 2))
            self._run(date(2024, 7, 2))
        self.assertNotIn(profile.rfm_segment_id.code, ("at_risk", "cant_lose"))
        self.assertFalse(profile.risk_alert_date)

    def test_churn_risk_raises_one_check(self):
        """The predicted churn-risk flag opens a risk episode like RFM at risk."""
        cust = self._customer("Quietly gone", user_id=self.user_own.id)
        with freeze_time("2024-06-30"):
            self._order(cust, 900, date(2024, 6, 1))
            self._run(self.eval_date)
        program = self._program()
        profile = self._profile(cust)
        engine = program._engine()
        row = {
            "partner_id": cust.id,
            "is_prospect": False,
            "reorder_overdue": False,
            "rfm_segment_id": False,
            "churn_risk": True,
            "prob_alive": 0.12,
            "expected_orders_12m": 0.4,
            "last_order_date": date(2024, 6, 1),
            "order_count_window": 1,
            "revenue_window": 900.0,
        }
        program._followup_alerts(engine, [row], date(2024, 6, 30))
        program._followup_alerts(engine, [row], date(2024, 7, 1))
        checks = self.env["mail.activity"].search(
            [("res_id", "=", cust.id), ("customer_tier_activity", "=", "reorder")]
        )
        self.assertEqual(len(checks), 1)
        notes = self._profile_notes(profile)
        self.assertIn("12 %", notes)
        self.assertNotIn("12 %", str(checks.note))
        self.assertEqual(profile.risk_alert_date, date(2024, 6, 30))
        # no more churn risk: the episode ends
        program._followup_alerts(
            engine, [dict(row, churn_risk=False)], date(2024, 7, 2)
        )
        self.assertFalse(profile.risk_alert_date)
