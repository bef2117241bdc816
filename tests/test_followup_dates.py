"""Follow-up dates against the scheduled follow-up activity.

The next follow-up is the open follow-up activity's deadline when there is
one, else the cadence date (last contact, or tier entry, plus the tier's
interval); the last contact comes from done activities and logged messages.
"""

from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .test_followup import FollowupCase


@tagged("post_install", "-at_install")
class TestFollowupDates(FollowupCase):
    """Customer A (tier A, 45 days, salesperson ``user_own``) enters its tier
    on 2024-06-30 without contact: cadence date 2024-08-14. Customer C (tier
    C, 60 days): 2024-08-29."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2024-06-30 09:00:00"):
            cls._setup_followup_customers("Dates")
            cls._run(cls.eval_date)
        cls.profile_a = cls._profile(cls.cust_a)
        cls.profile_c = cls._profile(cls.cust_c)

    def _followup(self, partner):
        return self.env["mail.activity"].search(
            [
                ("customer_tier_activity", "=", "followup"),
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
            ]
        )

    def _overdue(self):
        return self.env["customer.tier.profile"].search(
            [
                ("company_id", "=", self.company.id),
                ("followup_overdue", "=", True),
            ]
        )

    def _assert_dates(self, profile, next_date, last_contact=False):
        profile.invalidate_recordset()
        self.assertEqual(profile.next_followup_date, next_date)
        self.assertEqual(profile.last_contact_date, last_contact)
        partner = profile.partner_id
        partner.invalidate_recordset()
        self.assertEqual(partner.tier_next_followup_date, next_date)
        self.assertEqual(partner.tier_last_contact_date, last_contact)

    def test_late_customer_follows_the_scheduled_activity(self):
        """A customer whose cadence date has passed gets an activity due
        today: the profile says due today, not overdue."""
        self._assert_dates(self.profile_a, date(2024, 8, 14))
        with freeze_time("2024-09-20"):
            self.assertEqual(self._overdue(), self.profile_a | self.profile_c)
            self.env["customer.tier.program"]._cron_followup()
            activity = self._followup(self.cust_a)
            self.assertEqual(activity.date_deadline, date(2024, 9, 20))
            self._assert_dates(self.profile_a, date(2024, 9, 20))
            self._assert_dates(self.profile_c, date(2024, 9, 20))
            self.assertFalse(self.profile_a.followup_overdue)
            self.assertFalse(self._overdue())
        # not done the next day: overdue, as the activity is
        with freeze_time("2024-09-21"):
            self.profile_a.invalidate_recordset(["followup_overdue"])
            self.assertTrue(self.profile_a.followup_overdue)
            self.assertEqual(activity.state, "overdue")
            self.assertEqual(self._overdue(), self.profile_a | self.profile_c)

    def test_reschedule_and_done_as_salesperson(self):
        with freeze_time("2024-08-12"):
            self.env["customer.tier.program"]._cron_followup()
        activity = self._followup(self.cust_a)
        self.assertEqual(activity.date_deadline, date(2024, 8, 14))
        self._assert_dates(self.profile_a, date(2024, 8, 14))
        env = self._env_as(self.user_own)
        mine = activity.with_env(env)
        # postponed by the salesperson: the profile follows
        with freeze_time("2024-08-13 10:00:00"):
            mine.write({"date_deadline": date(2024, 8, 20)})
        self._assert_dates(self.profile_a, date(2024, 8, 20))
        with freeze_time("2024-08-19"):
            self.assertFalse(self._overdue())
        with freeze_time("2024-08-21"):
            self.assertEqual(self._overdue(), self.profile_a)
        # brought forward again (the activity form, the calendar)
        with freeze_time("2024-08-15 10:00:00"):
            mine.write({"date_deadline": date(2024, 8, 19)})
        self._assert_dates(self.profile_a, date(2024, 8, 19))
        # done: the last contact is today, the next follow-up the cadence
        with freeze_time("2024-08-16 10:00:00"):
            mine.action_feedback(feedback="Called the buyer")
        self.assertFalse(activity.exists())
        self._assert_dates(self.profile_a, date(2024, 9, 30), date(2024, 8, 16))
        with freeze_time("2024-09-01"):
            self.assertNotIn(self.profile_a, self._overdue())

    def test_deleted_activity_falls_back_to_the_cadence(self):
        with freeze_time("2024-09-01"):
            self.env["customer.tier.program"]._cron_followup()
        activity = self._followup(self.cust_c)
        self._assert_dates(self.profile_c, date(2024, 9, 1))
        activity.with_env(self._env_as(self.user_all)).unlink()
        self._assert_dates(self.profile_c, date(2024, 8, 29))
        # a logged note is a contact: it moves the cadence
        with freeze_time("2024-09-02 08:00:00"):
            self.cust_c.with_env(self._env_as(self.user_all)).message_post(
                body="Call: next order in October",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self._assert_dates(self.profile_c, date(2024, 11, 1), date(2024, 9, 2))

    def test_tier_change_moves_activity_and_profile(self):
        with freeze_time("2024-08-12"):
            self.env["customer.tier.program"]._cron_followup()
        activity = self._followup(self.cust_a)
        with freeze_time("2024-08-13"):
            activity.write({"date_deadline": date(2024, 8, 30)})
            self._assert_dates(self.profile_a, date(2024, 8, 30))
            self.profile_a.with_env(self._env_as(self.user_manager)).write(
                {"manual_tier_id": self.tier_c.id, "manual_reason": "Buys less"}
            )
        # tier C's cadence from the tier change (no contact): 2024-10-12
        self.assertEqual(activity.date_deadline, date(2024, 10, 12))
        self._assert_dates(self.profile_a, date(2024, 10, 12))

    def test_engine_keeps_the_activity_deadline(self):
        """A full evaluation writes the open activity's deadline, not the
        cadence date."""
        with freeze_time("2024-08-12"):
            self.env["customer.tier.program"]._cron_followup()
        activity = self._followup(self.cust_a)
        activity.write({"date_deadline": date(2024, 8, 25)})
        with freeze_time("2024-08-13"):
            self._run(date(2024, 8, 13))
        self.assertEqual(self.profile_a.tier_id, self.tier_a)
        self._assert_dates(self.profile_a, date(2024, 8, 25))

    def test_reschedule_query_count(self):
        """Moving a follow-up costs three queries: read the activity, write
        it, refresh its profile's dates (one statement)."""
        with freeze_time("2024-08-12"):
            self.env["customer.tier.program"]._cron_followup()
        activity = self._followup(self.cust_a).with_env(self._env_as(self.user_own))
        activity.write({"date_deadline": date(2024, 8, 16)})
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(3):
            activity.write({"date_deadline": date(2024, 8, 18)})
            activity.env.flush_all()
        self._assert_dates(self.profile_a, date(2024, 8, 18))

    def test_contacts_on_orders_and_profile(self):
        """A message on the customer's quotation or a note on its tier
        profile is a contact; the order's notifications are not."""
        with freeze_time("2024-07-10 08:00:00"):
            order = self._order(self.cust_c, 500, date(2024, 7, 10), state="draft")
            order.message_post(body="Order tracked", message_type="notification")
        self._assert_dates(self.profile_c, date(2024, 8, 29))
        with freeze_time("2024-07-11 08:00:00"):
            order.with_env(self._env_as(self.user_all)).message_post(
                body="Sent the quotation for the new valves",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        self._assert_dates(self.profile_c, date(2024, 9, 9), date(2024, 7, 11))
        with freeze_time("2024-07-20 08:00:00"):
            self.profile_a.message_post(
                body="Met the buyer at the trade fair",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self._assert_dates(self.profile_a, date(2024, 9, 3), date(2024, 7, 20))

    def test_another_companys_orders_are_not_contacts_here(self):
        """A message on company B's quotation of the same customer is company
        B's contact: company A's profile keeps its dates; a message on the
        partner, which both companies share, counts in both."""
        with freeze_time("2024-07-10 08:00:00"):
            order_b = self._order(
                self.cust_c,
                500,
                date(2024, 7, 10),
                company=self.company_b,
                state="draft",
            )
            order_b.message_post(
                body="Quoted from company B",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        self._assert_dates(self.profile_c, date(2024, 8, 29))
        with freeze_time("2024-07-12 08:00:00"):
            self.cust_c.message_post(
                body="Called the buyer",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self._assert_dates(self.profile_c, date(2024, 9, 10), date(2024, 7, 12))
