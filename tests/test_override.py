"""Manual override of a customer's tier by a tier manager."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .test_assignment import AssignmentCase, E


@tagged("post_install", "-at_install")
class TestManualOverride(AssignmentCase):
    """Xavier is computed A (12,000, 3 orders) on 2024-06-30; Yves C (600).
    Both belong to the own-documents salesperson ``user_own``."""

    END = date(2024, 7, 14)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.xavier = cls._customer("Xavier", user_id=cls.user_own.id)
        cls.yves = cls._customer("Yves", user_id=cls.user_own.id)
        cls._buy_many(
            cls.xavier,
            [
                (4000, date(2024, 2, 1)),
                (4000, date(2024, 4, 1)),
                (4000, date(2024, 6, 1)),
            ],
        )
        cls._buy_many(cls.yves, [(600, date(2024, 6, 1))])
        cls._run(E)

    def _as(self, user, record):
        return record.with_env(self._env_as(user)).with_context(tracking_disable=False)

    def _flush_tracking(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _override(self, partner, tier, reason="Strategic account", end=None, user=None):
        profile = self._as(user or self.user_manager, self._profile(partner))
        profile.write(
            {"manual_tier_id": tier.id, "manual_reason": reason, "manual_end_date": end}
        )
        self._flush_tracking()
        return self._profile(partner)

    @freeze_time("2024-06-30 09:00:00")
    def test_start_as_manager(self):
        profile = self._profile(self.xavier)
        notes_before = self._tier_notes(self.xavier)
        self._override(
            self.xavier, self.tier_c, reason="Payment incidents", end=self.END
        )
        self.assertEqual(profile.tier_id, self.tier_c)
        self.assertEqual(profile.computed_tier_id, self.tier_a)
        self.assertEqual(profile.assigned_tier_id, self.tier_a)
        self.assertTrue(profile.manual_differs)
        self.assertEqual(profile.tier_since, E)
        self.assertEqual(
            self.xavier.with_company(self.company).customer_tier_id, self.tier_c
        )
        row = self._history(self.xavier, cause="manual")
        self.assertEqual(len(row), 1)
        self.assertEqual(
            (row.from_tier_id, row.to_tier_id, row.reason, row.date, row.direction),
            (self.tier_a, self.tier_c, "Payment incidents", E, "down"),
        )
        self.assertEqual(row.revenue_window, 12000.0)
        # a note on the profile, once, with the reason
        notes = self._tier_notes(self.xavier) - notes_before
        self.assertEqual(len(notes), 1)
        self.assertIn("Payment incidents", notes.body)
        self.assertIn(self.tier_c.display_name, notes.body)
        # tracked on the profile
        tracked = profile.message_ids.tracking_value_ids.field_id.mapped("name")
        for field in ("manual_tier_id", "manual_reason", "manual_end_date", "tier_id"):
            self.assertIn(field, tracked)
        self.assertEqual(
            profile.message_ids.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "manual_tier_id"
            ).new_value_char,
            self.tier_c.display_name,
        )

    @freeze_time("2024-06-30 09:00:00")
    def test_differs_flag_and_filter(self):
        self._override(self.xavier, self.tier_c)
        self._override(self.yves, self.tier_c, reason="Same as computed")
        Profile = self.env["customer.tier.profile"]
        self.assertTrue(self._profile(self.xavier).manual_differs)
        self.assertFalse(self._profile(self.yves).manual_differs)
        arch = Profile.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="manual_differs"', arch)
        found = Profile.search(
            [("company_id", "=", self.company.id), ("manual_differs", "=", True)]
        )
        self.assertEqual(found, self._profile(self.xavier))
        # a recompute keeps the flag (written by the engine as well)
        self._run(E + timedelta(days=1))
        self.assertTrue(self._profile(self.xavier).manual_differs)
        self.assertFalse(self._profile(self.yves).manual_differs)

    @freeze_time("2024-06-30 09:00:00")
    def test_manual_wins_over_computed(self):
        """While the override lasts, recomputes keep it; upgrades too."""
        self._override(self.yves, self.tier_b, reason="New distributor")
        rows = len(self._history(self.yves))
        self._buy_many(
            self.yves, [(6000, date(2024, 6, 20)), (6000, date(2024, 6, 25))]
        )
        self._run(E)
        profile = self._profile(self.yves)
        self.assertEqual(profile.computed_tier_id, self.tier_a)
        self.assertEqual(profile.assigned_tier_id, self.tier_a)
        self.assertEqual(profile.tier_id, self.tier_b)
        self.assertEqual(profile.manual_tier_id, self.tier_b)
        self.assertEqual(profile.manual_reason, "New distributor")
        self.assertTrue(profile.manual_differs)
        self.assertEqual(len(self._history(self.yves)), rows)
        self.assertEqual(
            self.yves.with_company(self.company).customer_tier_id, self.tier_b
        )

    @freeze_time("2024-06-30 09:00:00")
    def test_stored_tier_moves_to_override(self):
        """A stored effective tier that is not the override's (written
        outside the ORM) moves to the override in the next plan, cause
        ``manual``."""
        profile = self._override(self.yves, self.tier_b, reason="New distributor")
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE customer_tier_profile SET tier_id = %s WHERE id = %s",
                self.tier_c.id,
                profile.id,
            )
        )
        self.env.invalidate_all()
        rows, changes = self.program._engine().plan(E)
        self.assertIn((self.yves.id, self.tier_c.id, self.tier_b.id, "manual"), changes)
        self.assertEqual(rows[self.yves.id]["tier_id"], self.tier_b.id)

    def test_end_date_passes_on_recompute(self):
        with freeze_time("2024-06-30 09:00:00"):
            self._override(self.xavier, self.tier_c, end=self.END)
            self._run(self.END)  # the end date itself is still covered
            self.assertEqual(self._profile(self.xavier).tier_id, self.tier_c)
        day_after = self.END + timedelta(days=1)
        with freeze_time(f"{day_after} 03:00:00"):
            result = self._run(day_after)
            profile = self._profile(self.xavier)
            self._flush_tracking()
        self.assertEqual(profile.tier_id, self.tier_a)
        self.assertFalse(profile.manual_tier_id)
        self.assertFalse(profile.manual_reason)
        self.assertFalse(profile.manual_end_date)
        self.assertFalse(profile.manual_differs)
        self.assertEqual(profile.tier_since, day_after)
        ended = self._history(self.xavier, cause="override_end")
        self.assertEqual(len(ended), 1)
        self.assertEqual(
            (ended.from_tier_id, ended.to_tier_id, ended.date),
            (self.tier_c, self.tier_a, day_after),
        )
        self.assertEqual(len(self._history(self.xavier, date=day_after)), 1)
        self.assertIn(
            (self.xavier.id, self.tier_c.id, self.tier_a.id, "override_end"),
            [tuple(c) for c in result["changes"]],
        )
        self.assertEqual(
            self.xavier.with_company(self.company).customer_tier_id, self.tier_a
        )
        notes = self._tier_notes(self.xavier)
        self.assertEqual(len(notes), 2)  # start and end
        self.assertIn("Override ended", notes[-1].body)

    def test_end_expired_overrides_directly(self):
        with freeze_time("2024-06-30 09:00:00"):
            self._override(self.xavier, self.tier_c, end=self.END)
            self._override(self.yves, self.tier_b, end=date(2024, 8, 1))
        day_after = self.END + timedelta(days=1)
        with freeze_time(f"{day_after} 03:00:00"):
            ended = self.program._end_expired_overrides(day_after)
        self.assertEqual(ended, self._profile(self.xavier))
        self.assertEqual(self._profile(self.xavier).tier_id, self.tier_a)
        self.assertEqual(self._profile(self.yves).tier_id, self.tier_b)
        row = self._history(self.xavier, cause="override_end")
        self.assertEqual((row.from_tier_id, row.to_tier_id), (self.tier_c, self.tier_a))

    @freeze_time("2024-06-30 09:00:00")
    def test_clear_override(self):
        self._override(self.xavier, self.tier_b)
        self._as(self.user_manager, self._profile(self.xavier)).action_clear_override()
        profile = self._profile(self.xavier)
        self.assertEqual(profile.tier_id, self.tier_a)
        row = self._history(self.xavier, cause="override_end")
        self.assertEqual((row.from_tier_id, row.to_tier_id), (self.tier_b, self.tier_a))
        # the next recompute has nothing left to record
        self.assertEqual(self._run(E)["changes"], [])

    @freeze_time("2024-06-30 09:00:00")
    def test_salesperson_cannot_override(self):
        for user in (self.user_own, self.user_all):
            profile = self._as(user, self._profile(self.xavier))
            self.assertEqual(profile.tier_id, self.tier_a)  # may read it
            with self.assertRaises(UserError):  # AccessError is a UserError
                profile.write({"manual_tier_id": self.tier_c.id, "manual_reason": "No"})
            with self.assertRaises(UserError):
                profile.action_clear_override()
        profile = self._profile(self.xavier)
        self.env.invalidate_all()
        self.assertFalse(profile.manual_tier_id)
        self.assertEqual(profile.tier_id, self.tier_a)
        self.assertFalse(self._history(self.xavier, cause="manual"))

    @freeze_time("2024-06-30 09:00:00")
    def test_override_needs_a_reason_and_a_customer_tier(self):
        profile = self._as(self.user_manager, self._profile(self.xavier))
        with self.assertRaises(ValidationError):
            profile.write({"manual_tier_id": self.tier_c.id, "manual_reason": " "})
        with self.assertRaises(ValidationError):
            profile.write(
                {"manual_tier_id": self.grades["A"].id, "manual_reason": "Grade"}
            )
        with self.assertRaises(ValidationError):
            profile.write(
                {
                    "manual_tier_id": self.tier_c.id,
                    "manual_reason": "Past",
                    "manual_end_date": date(2024, 6, 29),
                }
            )
        other = self.program_b._customer_tiers()[0]
        with self.assertRaises(UserError):  # company check or program check
            profile.sudo().write({"manual_tier_id": other.id, "manual_reason": "Other"})
        self.env.invalidate_all()
        self.assertFalse(self._profile(self.xavier).manual_tier_id)
        self.assertFalse(self._history(self.xavier, cause="manual"))
