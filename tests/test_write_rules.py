"""Writes go through the record rules that reads go through.

Odoo checks the record rules of a write on the values before it; these tests
move records of a salesperson limited to own documents to another
salesperson's customer, and give a profile key contacts of another customer.
"""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestWriteRules(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls._customer("Mine Ltd", user_id=cls.user_own.id)
        cls.mine_contact = cls._contact(cls.mine, "Mine Buyer")
        cls.theirs = cls._customer("Theirs Ltd", user_id=cls.user_all.id)
        cls.theirs_contact = cls._contact(cls.theirs, "Theirs Buyer")
        cls._order(cls.mine, 3000, date(2024, 5, 1))
        cls._order(cls.theirs, 8000, date(2024, 5, 1))
        cls._run()
        cls.profile_mine = cls._profile(cls.mine)
        cls.profile_theirs = cls._profile(cls.theirs)
        Competitor = cls.env["customer.tier.competitor"]
        cls.line_mine = Competitor.create(
            {"partner_id": cls.mine.id, "name": "Old Supplier", "estimated_share": 30}
        )
        cls.line_theirs = Competitor.create(
            {
                "partner_id": cls.theirs.id,
                "name": "Big Rival",
                "estimated_share": 80,
            }
        )
        cls.key_date_mine = cls.env["customer.tier.key.date"].create(
            {
                "profile_id": cls.profile_mine.id,
                "contact_id": cls.mine_contact.id,
                "date": date(1980, 5, 1),
            }
        )

    # ------------------------------------------------------------------
    # Competing suppliers
    # ------------------------------------------------------------------
    def test_competitor_cannot_move_to_another_salespersons_customer(self):
        env = self._env_as(self.user_own)
        line = self.line_mine.with_env(env)
        line.estimated_share = 10.0  # own line, own customer: fine
        with self.assertRaises(AccessError):
            line.write({"partner_id": self.theirs.id})
        self.env.invalidate_all()
        self.assertEqual(self.line_mine.partner_id, self.mine)
        self.assertEqual(self.theirs.tier_competitor_ids, self.line_theirs)

    def test_competitor_share_check_tells_nothing_of_other_customers(self):
        """The total share check runs before the record rules: refused as an
        access error, whatever the other customer's shares add up to."""
        env = self._env_as(self.user_own)
        Competitor = env["customer.tier.competitor"]
        # Big Rival holds 80 % of Theirs Ltd: 30 more would exceed 100 %
        with self.assertRaises(AccessError):
            Competitor.create(
                {
                    "partner_id": self.theirs.id,
                    "name": "Probe",
                    "estimated_share": 30.0,
                }
            )
        # moving the own 30 % line there neither
        with self.assertRaises(AccessError):
            self.line_mine.with_env(env).write({"partner_id": self.theirs.id})
        self.env.invalidate_all()
        self.assertEqual(self.theirs.tier_competitor_ids, self.line_theirs)

    # ------------------------------------------------------------------
    # Key dates
    # ------------------------------------------------------------------
    def test_key_date_cannot_move_to_another_salespersons_profile(self):
        """The contact check reading the new profile refused this already;
        the write now checks the rules on the new profile itself."""
        env = self._env_as(self.user_own)
        key_date = self.key_date_mine.with_env(env)
        key_date.note = "Send flowers"  # own key date: fine
        with self.assertRaises(AccessError):
            key_date.write(
                {
                    "profile_id": self.profile_theirs.id,
                    "contact_id": self.theirs_contact.id,
                }
            )
        # nor through the own profile's key dates
        with self.assertRaises(AccessError):
            self.profile_mine.with_env(env).write(
                {
                    "key_date_ids": [
                        Command.update(
                            key_date.id,
                            {
                                "profile_id": self.profile_theirs.id,
                                "contact_id": self.theirs_contact.id,
                            },
                        )
                    ]
                }
            )
        self.env.invalidate_all()
        self.assertEqual(self.key_date_mine.profile_id, self.profile_mine)
        self.assertEqual(self.key_date_mine.contact_id, self.mine_contact)
        self.assertFalse(self.profile_theirs.key_date_ids)

    def test_key_date_reminder_state_is_not_written_by_hand(self):
        """The occurrence last reminded is the follow-up run's: a salesperson
        can neither silence nor re-arm the reminder of his own key date."""
        env = self._env_as(self.user_own)
        key_date = self.key_date_mine.with_env(env)
        for values in ({"reminded_date": "2099-01-01"}, {"reminded_date": False}):
            with self.assertRaises(AccessError):
                key_date.write(values)
        with self.assertRaises(AccessError):
            env["customer.tier.key.date"].create(
                {
                    "profile_id": self.profile_mine.id,
                    "contact_id": self.mine_contact.id,
                    "kind": "birthday",
                    "date": "1980-05-04",
                    "reminded_date": "2099-01-01",
                }
            )
        self.env.invalidate_all()
        self.assertFalse(self.key_date_mine.reminded_date)

    # ------------------------------------------------------------------
    # Key contacts
    # ------------------------------------------------------------------
    def test_key_contacts_belong_to_the_customer(self):
        env = self._env_as(self.user_own)
        profile = self.profile_mine.with_env(env)
        profile.key_contact_ids = [Command.link(self.mine_contact.id)]
        self.assertEqual(self.profile_mine.key_contact_ids, self.mine_contact)
        with self.assertRaises(ValidationError) as caught:
            profile.write({"key_contact_ids": [Command.link(self.theirs_contact.id)]})
        self.assertRegex(
            str(caught.exception),
            "key contacts of Mine Ltd .*: Theirs Ltd, Theirs Buyer",
        )
        # a manager neither, nor by creating a contact elsewhere on the fly
        manager_profile = self.profile_mine.with_env(self._env_as(self.user_manager))
        with self.assertRaises(ValidationError):
            manager_profile.write(
                {
                    "key_contact_ids": [
                        Command.create(
                            {"name": "Stranger", "parent_id": self.theirs.id}
                        )
                    ]
                }
            )
        self.env.invalidate_all()
        self.assertEqual(self.profile_mine.key_contact_ids, self.mine_contact)

    # ------------------------------------------------------------------
    # Computed, related and technical fields: the module's, never a user's
    # ------------------------------------------------------------------
    def test_key_date_computed_fields_are_not_written(self):
        env = self._env_as(self.user_own)
        key_date = self.key_date_mine.with_env(env)
        for vals in (
            {"company_id": self.company_b.id},
            {"partner_id": self.theirs.id},
            {"date_month": 13},
            {"date_day": 99},
            {"user_id": self.user_all.id},
        ):
            with self.assertRaises(AccessError):
                key_date.write(vals)
        with self.assertRaises(AccessError):
            env["customer.tier.key.date"].create(
                {
                    "profile_id": self.profile_mine.id,
                    "contact_id": self.mine_contact.id,
                    "date": date(1990, 1, 1),
                    "partner_id": self.theirs.id,
                }
            )
        key_date.date = date(1981, 12, 24)  # what he may change: fine
        self.env.invalidate_all()
        self.assertEqual(
            (
                self.key_date_mine.company_id,
                self.key_date_mine.partner_id,
                self.key_date_mine.date_month,
                self.key_date_mine.date_day,
            ),
            (self.company, self.mine, 12, 24),
        )
        self.assertEqual(self.mine.user_id, self.user_own)

    def test_competitor_salesperson_is_not_written_through(self):
        line = self.line_mine.with_env(self._env_as(self.user_own))
        with self.assertRaises(AccessError):
            line.write({"user_id": self.user_all.id})
        self.env.invalidate_all()
        self.assertEqual(self.mine.user_id, self.user_own)

    def test_activity_cannot_be_linked_to_a_tier_profile(self):
        """An activity linked to a profile logs its summary and note there
        once done: a salesperson links none, to his own or another's."""
        env = self._env_as(self.user_own)
        vals = {
            "res_model_id": self.env["ir.model"]._get_id("customer.tier.profile"),
            "res_id": self.profile_mine.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": "Call",
            "user_id": self.user_own.id,
        }
        Activity = env["mail.activity"]
        for extra in (
            {"customer_tier_profile_id": self.profile_theirs.id},
            {"customer_tier_activity": "followup"},
        ):
            with self.assertRaises(AccessError):
                Activity.create(dict(vals, **extra))
        activity = Activity.create(vals)  # a plain activity: fine
        for extra in (
            {"customer_tier_profile_id": self.profile_theirs.id},
            {"customer_tier_activity": "reorder"},
            {"customer_tier_id": self.tier_a.id},
        ):
            with self.assertRaises(AccessError):
                activity.write(extra)
        messages = self.profile_theirs.message_ids
        activity.action_done()
        self.env.invalidate_all()
        self.assertEqual(self.profile_theirs.message_ids, messages)

    def test_points_expiry_is_not_written(self):
        loyalty = self.program.loyalty_program_id
        card = self.env["loyalty.card"].create(
            {"program_id": loyalty.id, "partner_id": self.mine.id}
        )
        History = self._env_as(self.user_own)["loyalty.history"]
        values = {"card_id": card.id, "issued": 10, "description": "Goodwill"}
        for extra in (
            {"points_expiry_type": "reversal"},
            {"points_expiration_date": date(2099, 1, 1)},
            {"points_expiry_done": True},
        ):
            with self.assertRaises(AccessError):
                History.create(dict(values, **extra))
        line = History.create(values)  # Odoo lets him credit points: fine
        self.assertTrue(line.points_expiration_date)
        with self.assertRaises(AccessError):
            line.write({"points_expiration_date": date(2099, 1, 1)})
