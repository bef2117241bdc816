"""Merging two customers that both have a tier (Contacts > Action > Merge).

Fixture, evaluated today (a refresh, as an order confirmation runs it, uses
today's date):

* ``keep`` (the destination): 12,000 in company A (two orders);
* ``gone`` (merged into ``keep``): 3,000 in company A, 7,000 in company B;
* ``third``: 40,000 in company A, so that the shares have a company total;
* ``left`` and ``right``, two customers whose contacts ``john`` and
  ``jane`` ordered 4,000 and 6,000 in company A.

The merge carries the orders of ``gone`` over to ``keep``: afterwards
``keep`` holds, in each company, the profile, tier and shares that a full
evaluation gives the merged customer, and its stored tier is its profile's.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import CustomerTierCase

FIGURES = (
    "tier_id",
    "revenue_window",
    "order_count_window",
    "revenue_share",
    "cumulative_share",
    "pareto_rank",
)


@tagged("post_install", "-at_install")
class TestPartnerMerge(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._deactivate_other_programs()
        cls.today = fields.Date.today()
        email = "buyer@merge.example.com"
        cls.keep = cls._customer("Merge Keep", email=email)
        cls.gone = cls._customer("Merge Gone", email=email)
        cls.third = cls._customer("Merge Third")
        for partner, days, amount, company in (
            (cls.keep, 40, 7000, cls.company),
            (cls.keep, 20, 5000, cls.company),
            (cls.gone, 30, 3000, cls.company),
            (cls.gone, 25, 7000, cls.company_b),
            (cls.third, 10, 40000, cls.company),
        ):
            cls._order(
                partner, amount, cls.today - timedelta(days=days), company=company
            )
        cls.left = cls._customer("Merge Left")
        cls.right = cls._customer("Merge Right")
        cls.john = cls._contact(cls.left, "John", email=email)
        cls.jane = cls._contact(cls.right, "Jane", email=email)
        cls._order(cls.john, 4000, cls.today - timedelta(days=15))
        cls._order(cls.jane, 6000, cls.today - timedelta(days=12))
        cls._run(cls.today)
        cls._run(cls.today, company=cls.company_b)
        admin = cls.env.ref("base.user_admin")
        admin.company_ids |= cls.company | cls.company_b
        cls.admin = admin
        cls.user_manager.write(
            {
                "groups_id": [
                    Command.link(cls.env.ref("base.group_partner_manager").id)
                ],
                "company_ids": [Command.link(cls.company_b.id)],
            }
        )

    def _merge_as(self, user):
        env = self.env(
            user=user,
            context=dict(
                self.env.context,
                active_model="res.partner",
                active_ids=(self.keep | self.gone).ids,
                allowed_company_ids=[self.company.id, self.company_b.id],
            ),
        )
        wizard = env["base.partner.merge.automatic.wizard"].create(
            {"dst_partner_id": self.keep.id}
        )
        wizard.action_merge()

    def _figures(self, company):
        profile = self._profile(self.keep, company)
        self.assertEqual(len(profile), 1)
        return {name: profile[name] for name in FIGURES}

    def _assert_merged(self):
        self.assertFalse(self.gone.exists())
        after = {c: self._figures(c) for c in (self.company, self.company_b)}
        self.assertEqual(after[self.company]["revenue_window"], 15000)
        self.assertEqual(after[self.company]["order_count_window"], 3)
        self.assertEqual(after[self.company_b]["revenue_window"], 7000)
        for company, figures in after.items():
            # the tier stored on the partner is its profile's
            stored = self.keep.with_company(company).commercial_tier_id
            self.assertEqual(stored, figures["tier_id"])
            self.assertTrue(stored)
            # a search by tier finds the merged customer under that tier
            Partner = self.env["res.partner"].with_company(company)
            self.assertIn(
                self.keep, Partner.search([("customer_tier_id", "=", stored.id)])
            )
        # what a full evaluation of the merged customers gives
        self._run(self.today)
        self._run(self.today, company=self.company_b)
        self.env.invalidate_all()
        for company, figures in after.items():
            self.assertEqual(self._figures(company), figures, company.name)

    def test_merge_as_administrator(self):
        self._merge_as(self.admin)
        self._assert_merged()

    def test_merge_as_sales_manager(self):
        self._merge_as(self.user_manager)
        self._assert_merged()

    def test_merge_contacts_of_two_customers(self):
        """A contact merged into another customer's contact takes its orders
        there: both customers' figures, tiers and shares are what a full
        evaluation gives them."""
        env = self.env(
            user=self.admin,
            context=dict(
                self.env.context,
                active_model="res.partner",
                active_ids=(self.john | self.jane).ids,
            ),
        )
        wizard = env["base.partner.merge.automatic.wizard"].create(
            {"dst_partner_id": self.jane.id}
        )
        wizard.action_merge()
        self.assertFalse(self.john.exists())
        customers = (self.left, self.right)
        after = {p: self._profile(p) for p in customers}
        after = {p: {n: profile[n] for n in FIGURES} for p, profile in after.items()}
        self.assertEqual(after[self.left]["revenue_window"], 0)
        self.assertEqual(after[self.right]["revenue_window"], 10000)
        self._run(self.today)
        self.env.invalidate_all()
        for partner in customers:
            profile = self._profile(partner)
            self.assertEqual({n: profile[n] for n in FIGURES}, after[partner])
            self.assertEqual(
                partner.with_company(self.company).commercial_tier_id,
                profile.tier_id,
            )
