"""Key-account profile, key contacts and key-date reminders."""

from datetime import date, datetime, time

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.customer_tier.models.customer_tier_key_date import (
    next_occurrence,
    occurrence_in_year,
    reminder_due,
)

from .common import CustomerTierCase

KEY_DATE_TYPE = "customer_tier.mail_activity_type_key_date"


@tagged("post_install", "-at_install")
class TestKeyAccount(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._deactivate_other_programs()
        cls.program.key_date_remind_days = 7
        Product = cls.env["product.product"]
        cls.products = Product.create(
            [
                {"name": f"Key Product {i}", "type": "consu", "list_price": 10.0}
                for i in range(7)
            ]
        )
        with freeze_time("2024-06-30 09:00:00"):
            cls.cust = cls._customer("Key Account Ltd", user_id=cls.user_own.id)
            cls.buyer = cls._contact(cls.cust, "Chen Buyer")
            cls.boss = cls._contact(cls.cust, "Wang Boss")
            cls.other = cls._customer("Other Customer Ltd", user_id=cls.user_all.id)
            cls.other_contact = cls._contact(cls.other, "Other Buyer")
            # revenue per product: 7000, 6000, ... 1000 (products 0..6)
            for day in (date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)):
                cls._lines_order(
                    cls.cust,
                    day,
                    [
                        (product, (7 - i) * 1000 / 3)
                        for i, product in enumerate(cls.products)
                    ],
                )
            # outside the window (more than 12 months ago): not preferred
            cls._lines_order(cls.cust, date(2023, 1, 15), [(cls.product, 99999)])
            cls._lines_order(cls.other, date(2024, 6, 1), [(cls.products[6], 50000)])
            cls._run(cls.eval_date)
        cls.profile = cls._profile(cls.cust)
        cls.other_profile = cls._profile(cls.other)
        cls.KeyDate = cls.env["customer.tier.key.date"]

    @classmethod
    def _lines_order(cls, partner, day, lines):
        when = datetime.combine(day, time(12, 0))
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "company_id": cls.company.id,
                "pricelist_id": cls.pricelists[(cls.usd, cls.company)].id,
                "date_order": when,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 1.0,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for product, amount in lines
                ],
            }
        )
        order.action_confirm()
        order.date_order = when
        return order

    def _reminders(self, key_date=None):
        domain = [("customer_tier_activity", "=", "key_date")]
        if key_date:
            domain.append(("customer_tier_key_date_id", "=", key_date.id))
        return self.env["mail.activity"].search(domain)

    def _cron(self):
        return self.env["customer.tier.program"]._cron_followup()

    # ------------------------------------------------------------------
    # Profile
    # ------------------------------------------------------------------
    def test_key_account_tiers(self):
        self.assertEqual(self.profile.tier_id, self.tier_a)
        self.assertTrue(self.tier_a.key_account and self.tier_b.key_account)
        self.assertFalse(self.tier_c.key_account or self.tier_d.key_account)
        self.assertTrue(self.profile.key_account)
        self.assertFalse(self.other_profile.key_account)
        # the ordering cycle is the engine's: 2023-01-15 .. 2024-05-01, 4 orders
        self.assertAlmostEqual(self.profile.reorder_cycle_days, 157.3, places=1)

    def test_preferred_products(self):
        with freeze_time("2024-06-30"):
            self.profile.invalidate_recordset(["preferred_product_ids"])
            preferred = (self.profile | self.other_profile).mapped(
                lambda p: p.preferred_product_ids.ids
            )
        # top five by revenue, best first; the old order is out of the window
        self.assertEqual(preferred[0], self.products[:5].ids)
        self.assertEqual(preferred[1], self.products[6].ids)
        # the window moves with today
        with freeze_time("2025-06-15"):
            self.profile.invalidate_recordset(["preferred_product_ids"])
            self.assertFalse(self.profile.preferred_product_ids)

    def test_key_date_contact_must_belong_to_customer(self):
        with self.assertRaises(ValidationError):
            self.KeyDate.create(
                {
                    "profile_id": self.profile.id,
                    "contact_id": self.other_contact.id,
                    "date": date(1980, 5, 1),
                }
            )
        # the customer itself holds its company anniversary
        anniversary = self.KeyDate.create(
            {
                "profile_id": self.profile.id,
                "contact_id": self.cust.id,
                "kind": "anniversary",
                "date": date(2001, 9, 12),
            }
        )
        self.assertEqual(anniversary.partner_id, self.cust)
        self.assertEqual(anniversary.company_id, self.company)
        self.assertIn("Company Anniversary", anniversary.display_name)

    # ------------------------------------------------------------------
    # Reminders
    # ------------------------------------------------------------------
    def test_occurrence_rules(self):
        leap = date(1992, 2, 29)
        self.assertEqual(occurrence_in_year(leap, 2025), date(2025, 2, 28))
        self.assertEqual(occurrence_in_year(leap, 2028), date(2028, 2, 29))
        self.assertEqual(next_occurrence(leap, date(2025, 2, 28)), date(2025, 2, 28))
        self.assertEqual(next_occurrence(leap, date(2025, 3, 1)), date(2026, 2, 28))
        self.assertEqual(next_occurrence(leap, date(2027, 3, 1)), date(2028, 2, 29))
        self.assertEqual(
            next_occurrence(date(1980, 1, 3), date(2024, 12, 27)), date(2025, 1, 3)
        )
        # never before the original date
        self.assertEqual(
            next_occurrence(date(2025, 5, 10), date(2024, 5, 1)), date(2025, 5, 10)
        )
        self.assertIsNone(reminder_due(leap, None, date(2025, 2, 20), 7))
        self.assertEqual(
            reminder_due(leap, None, date(2025, 2, 21), 7), date(2025, 2, 28)
        )
        self.assertIsNone(reminder_due(leap, date(2025, 2, 28), date(2025, 2, 25), 7))

    def test_leap_day_reminder_once_a_year(self):
        key_date = self.KeyDate.create(
            {
                "profile_id": self.profile.id,
                "contact_id": self.buyer.id,
                "kind": "birthday",
                "date": date(1992, 2, 29),
                "note": "Likes green tea",
            }
        )
        with freeze_time("2025-02-20"):
            self._cron()
        self.assertFalse(self._reminders(key_date))
        with freeze_time("2025-02-21"):
            self._cron()
        reminder = self._reminders(key_date)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.date_deadline, date(2025, 2, 28))
        self.assertEqual(reminder.user_id, self.user_own)
        self.assertEqual(reminder.activity_type_id, self.env.ref(KEY_DATE_TYPE))
        self.assertEqual(reminder.res_id, self.cust.id)
        # on the partner, read by every user, only a pointer to the profile;
        # the key date is logged there, under its record rules
        self.assertFalse(reminder.summary)  # the activity type's name shows
        self.assertNotIn("Chen Buyer", str(reminder.note))
        self.assertNotIn("green tea", str(reminder.note))
        notes = " ".join(
            str(body)
            for body in self.env["mail.message"]
            .search(
                [
                    ("model", "=", "customer.tier.profile"),
                    ("res_id", "=", self.profile.id),
                ]
            )
            .mapped("body")
        )
        self.assertIn("Birthday of Chen Buyer", notes)
        self.assertIn("green tea", notes)
        self.assertEqual(key_date.reminded_date, date(2025, 2, 28))
        for day in ("2025-02-21", "2025-02-25", "2025-02-28", "2025-03-01"):
            with freeze_time(day):
                self._cron()
        self.assertEqual(self._reminders(key_date), reminder)
        # done: no new one before next year
        with freeze_time("2025-02-27"):
            reminder.action_feedback(feedback="Card sent")
            self._cron()
        self.assertFalse(self._reminders(key_date))
        with freeze_time("2026-02-21"):
            self._cron()
        self.assertEqual(self._reminders(key_date).date_deadline, date(2026, 2, 28))
        self._reminders(key_date).unlink()
        # leap year: 29 February, reminded 7 days before it
        with freeze_time("2028-02-21"):
            self._cron()
        self.assertFalse(self._reminders(key_date))
        with freeze_time("2028-02-22"):
            self._cron()
            self._cron()
        self.assertEqual(self._reminders(key_date).date_deadline, date(2028, 2, 29))

    def test_reminder_across_new_year_and_skips(self):
        key_dates = self.KeyDate.create(
            [
                {
                    "profile_id": self.profile.id,
                    "contact_id": self.boss.id,
                    "kind": "birthday",
                    "date": date(1980, 1, 3),
                },
                {
                    "profile_id": self.profile.id,
                    "contact_id": self.buyer.id,
                    "kind": "other",
                    "name": "Wedding day",
                    "date": date(2010, 1, 2),
                },
                {
                    "profile_id": self.other_profile.id,
                    "contact_id": self.other_contact.id,
                    "kind": "birthday",
                    "date": date(1975, 1, 1),
                },
            ]
        )
        self.buyer.active = False  # archived contacts get no reminder
        self.other.active = False  # nor do archived customers
        with freeze_time("2024-12-26"):
            self._cron()
        self.assertFalse(self._reminders())
        with freeze_time("2024-12-27"):
            self._cron()
        reminders = self._reminders()
        self.assertEqual(reminders.customer_tier_key_date_id, key_dates[0])
        self.assertEqual(reminders.date_deadline, date(2025, 1, 3))
        with freeze_time("2024-12-27"):
            key_dates.invalidate_recordset(["next_date"])
            self.assertEqual(key_dates[0].next_date, date(2025, 1, 3))

    def test_reminders_batched(self):
        self.program.followup_batch_size = 2
        contacts = self.env["res.partner"].create(
            [{"name": f"Contact {i}", "parent_id": self.cust.id} for i in range(5)]
        )
        self.KeyDate.create(
            [
                {
                    "profile_id": self.profile.id,
                    "contact_id": c.id,
                    "date": date(1990, 3, 10),
                }
                for c in contacts
            ]
        )
        cron = self.env.ref("customer_tier.ir_cron_customer_tier_followup")
        reports = []
        # the customer's follow-up (A, due 2024-08-14 + ...) is long due too
        with freeze_time("2025-03-05"):
            for _i in range(5):
                _cron, progress = cron._add_progress()
                self.env["customer.tier.program"].with_context(
                    ir_cron_progress_id=progress.id
                )._cron_followup()
                reports.append((progress.done, progress.remaining))
                if not progress.remaining:
                    break
        self.assertEqual(reports[0], (2, 3 + 2))
        self.assertEqual(reports[-1][1], 0)
        self.assertEqual(sum(done for done, _r in reports), 7)
        self.assertEqual(len(self._reminders()), 5)

    # ------------------------------------------------------------------
    # Access and views
    # ------------------------------------------------------------------
    def test_salesperson_keeps_key_account_of_own_customers(self):
        env = self._env_as(self.user_own)
        profile = env["customer.tier.profile"].browse(self.profile.id)
        price = self.env.ref("customer_tier.decision_factor_price")
        profile.write(
            {
                "decision_factor_ids": [Command.link(price.id)],
                "key_account_notes": "<p>Buys before Chinese New Year</p>",
                "key_contact_ids": [Command.link(self.buyer.id)],
                "key_date_ids": [
                    Command.create(
                        {
                            "contact_id": self.buyer.id,
                            "kind": "birthday",
                            "date": date(1985, 8, 8),
                        }
                    )
                ],
            }
        )
        self.assertEqual(self.profile.decision_factor_ids, price)
        self.assertEqual(self.profile.key_contact_ids, self.buyer)
        self.assertEqual(len(self.profile.key_date_ids), 1)
        with self.assertRaises(AccessError):
            profile.write({"revenue_window": 1.0})
        with self.assertRaises(AccessError):
            profile.write({"key_account_notes": "x", "manual_tier_id": self.tier_b.id})
        # another salesperson's customer: invisible, not writable
        self.assertFalse(
            env["customer.tier.profile"].search([("id", "=", self.other_profile.id)])
        )
        with self.assertRaises(AccessError):
            env["customer.tier.key.date"].create(
                {
                    "profile_id": self.other_profile.id,
                    "contact_id": self.other_contact.id,
                    "date": date(1980, 1, 1),
                }
            )
        self.assertEqual(
            env["customer.tier.key.date"].search([]), self.profile.key_date_ids
        )
        # another company sees nothing
        env_b = self._env_as(self.user_b)
        self.assertFalse(env_b["customer.tier.key.date"].search([]))
        # decision factors are configured by managers
        with self.assertRaises(AccessError):
            env["customer.tier.decision.factor"].create({"name": "Mood"})
        self._env_as(self.user_manager)["customer.tier.decision.factor"].create(
            {"name": "Sustainability"}
        )

    def test_views(self):
        env = self._env_as(self.user_own)
        with freeze_time("2024-06-30"):
            with Form(env["customer.tier.profile"].browse(self.profile.id)) as form:
                form.key_account_notes = "<p>Prefers WeChat</p>"
                with form.key_date_ids.new() as line:
                    line.contact_id = self.boss
                    line.kind = "anniversary"
                    line.date = date(2005, 10, 1)
        self.assertEqual(self.profile.key_date_ids.contact_id, self.boss)
        KeyDate = env["customer.tier.key.date"]
        for view_type in ("list", "form", "search"):
            KeyDate.get_views([(False, view_type)])
        with Form(KeyDate.browse(self.profile.key_date_ids.id)) as form:
            form.name = "Founding day"
        env_manager = self._env_as(self.user_manager)
        env_manager["customer.tier.decision.factor"].get_views([(False, "list")])
        with Form(env_manager["customer.tier"].browse(self.tier_a.id)) as form:
            form.key_account = False
        self.assertFalse(self.profile.key_account)
