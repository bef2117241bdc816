"""Groups, access rights and record rules of tiers and profiles."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestAccess(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls._customer("Mine Ltd", user_id=cls.user_own.id)
        cls.mine_contact = cls._contact(cls.mine, "Mine Contact")
        cls.theirs = cls._customer("Theirs Ltd", user_id=cls.user_all.id)
        cls.nobodys = cls._customer("Nobody's Ltd")
        cls.b_customer = cls._customer("B Customer", user_id=cls.user_b.id)
        cls._order(cls.mine_contact, 3000, date(2024, 5, 1))
        cls._order(cls.mine, 1000, date(2024, 6, 1))
        cls._order(cls.theirs, 8000, date(2024, 6, 1))
        cls._order(cls.nobodys, 600, date(2024, 6, 1))
        cls._order(cls.mine, 9000, date(2024, 6, 1), company=cls.company_b)
        cls._order(cls.b_customer, 700, date(2024, 6, 1), company=cls.company_b)
        cls._run()
        cls._run(company=cls.company_b)
        cls.profile_mine = cls._profile(cls.mine)
        cls.profile_theirs = cls._profile(cls.theirs)
        cls.profile_nobodys = cls._profile(cls.nobodys)
        cls.profile_mine_b = cls._profile(cls.mine, company=cls.company_b)
        cls.profile_b = cls._profile(cls.b_customer, company=cls.company_b)
        cls.profiles_a = cls.profile_mine | cls.profile_theirs | cls.profile_nobodys

    def test_groups_implied_by_sales(self):
        self.assertTrue(
            self.user_own.has_group("customer_tier.group_customer_tier_user")
        )
        self.assertFalse(
            self.user_own.has_group("customer_tier.group_customer_tier_manager")
        )
        self.assertTrue(
            self.user_all.has_group("customer_tier.group_customer_tier_user")
        )
        self.assertFalse(
            self.user_all.has_group("customer_tier.group_customer_tier_manager")
        )
        self.assertTrue(
            self.user_manager.has_group("customer_tier.group_customer_tier_manager")
        )

    def test_tier_user_reads_but_cannot_configure(self):
        for user in (self.user_own, self.user_all):
            env = self._env_as(user)
            program = self.program.with_env(env)
            self.assertEqual(program.name, self.program.name)
            self.assertEqual(program.tier_ids, self.program.tier_ids)
            tier = self.tier_a.with_env(env)
            self.assertEqual(tier.min_revenue, 10000)
            with self.assertRaises(AccessError):
                program.write({"window_months": 6})
            with self.assertRaises(AccessError):
                tier.write({"min_revenue": 1})
            with self.assertRaises(AccessError):
                env["customer.tier"].create(
                    {"program_id": self.program.id, "code": "Z", "name": "Z"}
                )
            with self.assertRaises(AccessError):
                tier.unlink()
            with self.assertRaises(AccessError):
                self.program.segment_ids[:1].with_env(env).write({"r_min": 2})
            with self.assertRaises(AccessError):
                env["customer.tier.program"].create(
                    {"name": "Mine", "company_id": self.company.id}
                )
            with self.assertRaises(AccessError):
                env["customer.tier.recompute"].create({"program_id": self.program.id})
            # profiles are figures written by the engine, not by users
            profile = self.profile_mine.with_env(env)
            self.assertEqual(profile.revenue_window, 4000.0)
            # (the override check speaks first: a UserError, AccessError's parent)
            with self.assertRaises(UserError):
                profile.write(
                    {"manual_tier_id": self.tier_a.id, "manual_reason": "Friend"}
                )
            with self.assertRaises(AccessError):
                profile.write({"revenue_window": 1.0})
            with self.assertRaises(AccessError):
                profile.unlink()
        self.assertEqual(self.program.window_months, 12)
        self.assertEqual(self.tier_a.min_revenue, 10000)

    def test_manager_configures(self):
        env = self._env_as(self.user_manager)
        self.program.with_env(env).write({"window_months": 6})
        self.assertEqual(self.program.window_months, 6)
        self.tier_a.with_env(env).min_revenue = 12000
        self.assertEqual(self.tier_a.min_revenue, 12000)
        new = env["customer.tier"].create(
            {
                "program_id": self.program.id,
                "code": "AA",
                "name": "Strategic",
                "sequence": 5,
                # a new best tier asks at least what A asks
                "min_revenue": 50000,
                "min_orders": 3,
                "max_recency_days": 90,
            }
        )
        self.assertEqual(new.company_id, self.company)
        profile = self.profile_mine.with_env(env)
        profile.write(
            {"manual_tier_id": self.tier_a.id, "manual_reason": "Strategic account"}
        )
        self.assertEqual(profile.tier_id, self.tier_a)
        # managers see every profile of their company
        self.assertEqual(
            env["customer.tier.profile"].search([("id", "in", self.profiles_a.ids)]),
            self.profiles_a,
        )

    def test_own_documents_salesperson_sees_own_customers(self):
        env = self._env_as(self.user_own)
        Profile = env["customer.tier.profile"]
        self.assertEqual(Profile.search([]), self.profile_mine)
        self.assertEqual(Profile.search_count([]), 1)
        self.assertEqual(self.profile_mine.with_env(env).revenue_window, 4000.0)
        for other in (self.profile_theirs, self.profile_nobodys):
            with self.assertRaises(AccessError):
                other.with_env(env).read(["revenue_window"])
        # grouped reads are filtered as well
        groups = Profile._read_group([], [], ["revenue_window:sum"])
        self.assertEqual(groups[0][0], 4000.0)
        # history follows the same rule
        histories = env["customer.tier.history"].search([])
        self.assertTrue(histories)
        self.assertEqual(histories.profile_id, self.profile_mine)
        # the rule follows the customer's salesperson
        self.theirs.user_id = self.user_own
        self.assertEqual(Profile.search([]), self.profile_mine | self.profile_theirs)

    def test_all_documents_salesperson_sees_all(self):
        env = self._env_as(self.user_all)
        profiles = env["customer.tier.profile"].search([])
        self.assertEqual(profiles & self.profiles_a, self.profiles_a)
        self.assertEqual(profiles.company_id, self.company)
        self.assertEqual(self.profile_nobodys.with_env(env).revenue_window, 600.0)

    def test_other_company_user_does_not_see_company_a(self):
        env = self._env_as(self.user_b)
        profiles = env["customer.tier.profile"].search([])
        self.assertEqual(profiles, self.profile_mine_b | self.profile_b)
        with self.assertRaises(AccessError):
            self.profile_mine.with_env(env).read(["revenue_window"])
        self.assertEqual(env["customer.tier.program"].search([]), self.program_b)
        self.assertFalse(
            env["customer.tier"].search([("program_id", "=", self.program.id)])
        )
        self.assertFalse(
            env["customer.tier.history"].search([("company_id", "=", self.company.id)])
        )
        with self.assertRaises(AccessError):
            self.tier_a.with_env(env).read(["name"])
        # the partner shows company B's figures to that user
        mine = self.mine.with_env(env)
        self.assertEqual(mine.customer_tier_profile_id, self.profile_mine_b)
        self.assertEqual(mine.tier_revenue_window, 9000.0)
        self.assertEqual(mine.customer_tier_id, self.profile_mine_b.tier_id)

    def test_partner_figures_hidden_from_other_salesperson(self):
        env = self._env_as(self.user_own)
        theirs = self.theirs.with_env(env)
        self.assertFalse(theirs.customer_tier_profile_id)
        self.assertEqual(theirs.tier_revenue_window, 0.0)
        self.assertEqual(theirs.tier_order_count, 0)
        self.assertFalse(theirs.tier_last_order_date)
        self.assertFalse(theirs.tier_reorder_overdue)
        form = Form(theirs)
        self.assertFalse(form.customer_tier_profile_id)
        self.assertEqual(form.tier_revenue_window, 0.0)
        self.assertEqual(form.tier_order_count, 0)
        # own customer (and its contact): figures shown
        for partner in (self.mine, self.mine_contact):
            form = Form(partner.with_env(env))
            self.assertEqual(form.customer_tier_profile_id, self.profile_mine)
            self.assertEqual(form.tier_revenue_window, 4000.0)
            self.assertEqual(form.tier_order_count, 2)
        # the all-documents salesperson sees the figures
        theirs_all = self.theirs.with_env(self._env_as(self.user_all))
        self.assertEqual(theirs_all.tier_revenue_window, 8000.0)

    def test_ranking_snapshot_stays_in_its_company(self):
        """The ranking snapshot (every customer's revenue and rank): its
        header is read by system administrators, each in the companies of
        his own; its entries by the engine's SQL only."""
        Ranking, Entry = "customer.tier.ranking", "customer.tier.ranking.entry"
        heads = self.env[Ranking].search(
            [("company_id", "in", (self.company | self.company_b).ids)]
        )
        self.assertEqual(heads.company_id, self.company | self.company_b)
        head_b = heads.filtered(lambda head: head.company_id == self.company_b)
        entries_b = self.env[Entry].search([("company_id", "=", self.company_b.id)])
        self.assertTrue(entries_b)
        admin_a = new_test_user(
            self.env,
            login="ct_system_a",
            groups="base.group_user,base.group_system",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        env = self._env_as(admin_a)
        self.assertEqual(env[Ranking].search([]).company_id, self.company)
        with self.assertRaises(AccessError):
            head_b.with_env(env).read(["total"])
        for user in (admin_a, self.user_own, self.user_manager, self.user_b):
            user_env = self._env_as(user)
            with self.assertRaises(AccessError):
                user_env[Entry].search_read([], ["revenue"])
            with self.assertRaises(AccessError):
                entries_b.with_env(user_env).read(["revenue"])
        for user in (self.user_own, self.user_manager, self.user_b):
            with self.assertRaises(AccessError):
                self._env_as(user)[Ranking].search_read([], ["total"])
