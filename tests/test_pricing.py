from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tests.common import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


@tagged("post_install", "-at_install")
class TestTierPricing(TransactionCase):
    """Pricelist per tier, minimum order, small-order fee, sample fees."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env["res.company"].create(
            {"name": "Tier Pricing Co", "currency_id": cls.env.ref("base.USD").id}
        )
        cls.env = cls.env(
            context=dict(
                cls.env.context,
                allowed_company_ids=[cls.company.id],
            )
        )
        cls.env.user.company_ids |= cls.company
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.env["res.currency.rate"].create(
            {
                "currency_id": cls.eur.id,
                "name": "2020-01-01",
                "rate": 0.5,  # 1 USD = 0.5 EUR
                "company_id": cls.company.id,
            }
        )
        cls.program = cls.env["customer.tier.program"].search(
            [("company_id", "=", cls.company.id)]
        )
        tiers = cls.program._customer_tiers()
        cls.tier_a, cls.tier_d = tiers[0], tiers[-1]
        # thresholds: A from 10,000 revenue, everything else D (one write of
        # the program, as its form saves the tiers)
        cls.program.write(
            {
                "tier_ids": [
                    Command.update(
                        tier.id,
                        {"min_revenue": 10000, "min_orders": 0, "max_recency_days": 0},
                    )
                    for tier in tiers[:-1]
                ]
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Valve",
                "list_price": 100.0,
                "standard_price": 60.0,
                "company_id": False,
            }
        )
        cls.fee = cls.env["product.product"].create(
            {"name": "Small-order fee", "type": "service", "list_price": 0.0}
        )
        cls.sample = cls.env["product.product"].create(
            {"name": "Sample courier fee", "type": "service", "list_price": 35.0}
        )
        cls.program.sample_fee_product_ids = cls.sample
        cls.pl_core = cls.env["product.pricelist"].create(
            {"name": "Core prices", "company_id": cls.company.id}
        )
        cls.pl_eur = cls.env["product.pricelist"].create(
            {
                "name": "EUR prices",
                "currency_id": cls.eur.id,
                "company_id": cls.company.id,
            }
        )
        cls.tier_a.write({"pricelist_id": cls.pl_core.id, "waive_sample_fee": True})
        cls.tier_d.write(
            {
                "min_order_amount": 1000.0,
                "min_order_policy": "fee",
                "fee_product_id": cls.fee.id,
                "fee_type": "fixed",
                "fee_fixed": 50.0,
            }
        )
        cls.small = cls.env["res.partner"].create(
            {"name": "Small Buyer", "is_company": True}
        )
        cls.big = cls.env["res.partner"].create(
            {"name": "Big Buyer", "is_company": True}
        )
        cls.salesman = mail_new_test_user(
            cls.env,
            login="tier_pricing_sales",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[(6, 0, [cls.company.id])],
        )
        cls.manager = mail_new_test_user(
            cls.env,
            login="tier_pricing_manager",
            groups="sales_team.group_sale_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, [cls.company.id])],
        )
        cls.small.user_id = cls.salesman
        # one confirmed order each: small is D, big is A
        cls._confirmed(cls.small, 1)
        cls._confirmed(cls.big, 150)

    @classmethod
    def _confirmed(cls, partner, qty):
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "company_id": cls.company.id,
                "order_line": [
                    Command.create(
                        {"product_id": cls.product.id, "product_uom_qty": qty}
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    def _quote(self, partner, qty, pricelist=None, env=None):
        env = env or self.env
        vals = {
            "partner_id": partner.id,
            "company_id": self.company.id,
            "order_line": [
                Command.create({"product_id": self.product.id, "product_uom_qty": qty})
            ],
        }
        if pricelist:
            vals["pricelist_id"] = pricelist.id
        return env["sale.order"].create(vals)

    def _fee_lines(self, order):
        return order.order_line.filtered("is_tier_fee")

    # ------------------------------------------------------------------
    def test_tiers_of_fixture(self):
        self.assertEqual(
            self.small.with_company(self.company).customer_tier_id, self.tier_d
        )
        self.assertEqual(
            self.big.with_company(self.company).customer_tier_id, self.tier_a
        )

    def test_pricelist_follows_tier(self):
        self.assertEqual(
            self.big.with_company(self.company).property_product_pricelist, self.pl_core
        )
        profile = self.big.with_company(self.company).customer_tier_profile_id
        self.assertEqual(profile.tier_pricelist_id, self.pl_core)
        history = profile.history_ids.filtered(lambda h: h.to_tier_id == self.tier_a)
        self.assertEqual(history.pricelist_id, self.pl_core)
        # a quotation for the core customer gets its tier pricelist
        quote = self._quote(self.big, 1)
        self.assertEqual(quote.pricelist_id, self.pl_core)
        # the move was logged on the profile's chatter
        bodies = (
            self.env["mail.message"]
            .search(
                [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
            )
            .mapped("body")
        )
        self.assertTrue(any("Core prices" in str(b) for b in bodies))

    def test_hand_set_pricelist_is_kept(self):
        small = self.small.with_company(self.company)
        small.property_product_pricelist = self.pl_eur  # set by a user
        profile = small.customer_tier_profile_id
        profile.with_user(self.manager).write(
            {"manual_tier_id": self.tier_a.id, "manual_reason": "Strategic account"}
        )
        self.assertEqual(small.property_product_pricelist, self.pl_eur)
        self.assertTrue(profile.pricelist_manual)
        # a customer whose pricelist was put by the program follows its tier
        big = self.big.with_company(self.company)
        big_profile = big.customer_tier_profile_id
        big_profile.with_user(self.manager).write(
            {"manual_tier_id": self.tier_d.id, "manual_reason": "Payment issues"}
        )
        # D has no pricelist: the program's pricelist stays, flag stays off
        self.assertEqual(big.property_product_pricelist, self.pl_core)
        self.assertFalse(big_profile.pricelist_manual)

    def test_fee_added_synced_removed_never_duplicated(self):
        quote = self._quote(self.small, 2)  # 200 < 1000
        fee = self._fee_lines(quote)
        self.assertEqual(len(fee), 1)
        self.assertEqual(fee.product_id, self.fee)
        self.assertAlmostEqual(fee.price_unit, 50.0)
        self.assertAlmostEqual(quote.tier_min_order_missing, 800.0)
        # edits below the minimum keep exactly one fee line
        goods = quote.order_line - fee
        quote.write({"order_line": [Command.update(goods.id, {"product_uom_qty": 3})]})
        quote.write(
            {
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 1}
                    )
                ]
            }
        )
        self.assertEqual(len(self._fee_lines(quote)), 1)
        self.assertAlmostEqual(quote.tier_min_order_missing, 600.0)
        # reaching the minimum removes it
        quote.write({"order_line": [Command.update(goods.id, {"product_uom_qty": 12})]})
        self.assertFalse(self._fee_lines(quote))
        self.assertEqual(quote.tier_min_order_missing, 0.0)
        # going below again adds it once more
        quote.write({"order_line": [Command.update(goods.id, {"product_uom_qty": 1})]})
        self.assertEqual(len(self._fee_lines(quote)), 1)
        # deleting the fee line by hand brings it back
        self._fee_lines(quote).unlink()
        self.assertEqual(len(self._fee_lines(quote)), 1)

    def test_fee_percentage(self):
        self.tier_d.write({"fee_type": "percent", "fee_percent": 10.0})
        quote = self._quote(self.small, 4)  # 400
        self.assertAlmostEqual(self._fee_lines(quote).price_unit, 40.0)

    def test_fee_in_other_currency(self):
        # 1 USD = 0.5 EUR: the 1,000 USD minimum is 500 EUR, the fee 25 EUR
        quote = self._quote(self.small, 4, pricelist=self.pl_eur)  # 4 x 50 EUR
        self.assertEqual(quote.currency_id, self.eur)
        self.assertAlmostEqual(quote.tier_min_order_amount, 500.0)
        self.assertAlmostEqual(quote.tier_min_order_missing, 300.0)
        self.assertAlmostEqual(self._fee_lines(quote).price_unit, 25.0)
        quote.write(
            {
                "order_line": [
                    Command.update(quote.order_line[0].id, {"product_uom_qty": 10})
                ]
            }
        )
        self.assertFalse(self._fee_lines(quote))

    def test_warn_policy_adds_nothing(self):
        self.tier_d.min_order_policy = "warn"
        quote = self._quote(self.small, 2)
        self.assertFalse(self._fee_lines(quote))
        self.assertAlmostEqual(quote.tier_min_order_missing, 800.0)
        quote.action_confirm()
        self.assertEqual(quote.state, "sale")

    def test_block_policy_as_salesperson(self):
        self.tier_d.min_order_policy = "block"
        quote = self._quote(self.small, 2, env=self.env(user=self.salesman))
        with self.assertRaisesRegex(UserError, "800"):
            quote.action_confirm()
        self.assertEqual(quote.state, "draft")
        # the salesperson cannot exempt the customer, nor flag a fee line
        profile = self.small.with_company(self.company).customer_tier_profile_id
        with self.assertRaises(UserError):
            profile.with_user(self.salesman).sudo(False).write(
                {"min_order_exempt": True}
            )
        with self.assertRaises(UserError):
            quote.order_line.write({"is_tier_fee": True})
        quote.order_line.write({"product_uom_qty": 10})
        quote.action_confirm()
        self.assertEqual(quote.state, "sale")

    def test_manager_exemption(self):
        self.tier_d.min_order_policy = "block"
        profile = self.small.with_company(self.company).customer_tier_profile_id
        profile.with_user(self.manager).write({"min_order_exempt": True})
        quote = self._quote(self.small, 2, env=self.env(user=self.salesman))
        self.assertTrue(quote.tier_min_order_exempt)
        quote.action_confirm()
        self.assertEqual(quote.state, "sale")
        # exempt customers get no fee either
        self.tier_d.min_order_policy = "fee"
        self.assertFalse(self._fee_lines(self._quote(self.small, 2)))

    def test_sample_fee_waiver_per_tier(self):
        for partner, expected in ((self.big, 0.0), (self.small, 35.0)):
            quote = self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "order_line": [Command.create({"product_id": self.sample.id})],
                }
            )
            line = quote.order_line.filtered(lambda ln: ln.product_id == self.sample)
            self.assertAlmostEqual(line.price_unit, expected, msg=partner.name)

    def test_new_company_despite_template_pricelists(self):
        """The template program's tiers use pricelists and a fee product of
        the main company: a company created later still gets its program,
        whose tiers leave them out (they are not the new company's)."""
        template = self.env.ref("customer_tier.customer_tier_program_default")
        main = template.company_id
        pricelist = self.env["product.pricelist"].create(
            {"name": "Main Co Core", "company_id": main.id}
        )
        fee = self.env["product.product"].create(
            {"name": "Main Co Fee", "type": "service", "company_id": main.id}
        )
        shared_fee = self.env["product.product"].create(
            {"name": "Shared Fee", "type": "service"}
        )
        tier_a, tier_d = template.tier_ids[0], template.tier_ids[-1]
        tier_a.pricelist_id = pricelist
        tier_d.write({"fee_product_id": fee.id})
        template.sample_fee_product_ids = fee | shared_fee
        company = self.env["res.company"].create({"name": "Tier Pricing Co New"})
        program = self.env["customer.tier.program"].search(
            [("company_id", "=", company.id)]
        )
        self.assertEqual(len(program), 1)
        self.assertEqual(program.sample_fee_product_ids, shared_fee)
        copies = program.tier_ids
        self.assertEqual(len(copies), len(template.tier_ids))
        self.assertFalse(copies.pricelist_id)
        self.assertFalse(copies.fee_product_id)

    def test_policies_stay_in_their_company(self):
        """Company B's quotation for a marginal customer of company A gets no
        fee, no minimum and no waiver: tiers and policies are per company."""
        company_b = self.env["res.company"].create({"name": "Tier Pricing Co B"})
        self.env.user.company_ids |= company_b
        env_b = self.env(
            context=dict(self.env.context, allowed_company_ids=[company_b.id])
        )
        quote = env_b["sale.order"].create(
            {
                "partner_id": self.small.id,
                "company_id": company_b.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 1}
                    ),
                    Command.create({"product_id": self.sample.id}),
                ],
            }
        )
        self.assertFalse(quote.customer_tier_id)
        self.assertFalse(quote.order_line.filtered("is_tier_fee"))
        self.assertEqual(quote.tier_min_order_missing, 0.0)
        sample_line = quote.order_line.filtered(lambda ln: ln.product_id == self.sample)
        self.assertAlmostEqual(sample_line.price_unit, 35.0)
        quote.action_confirm()
        self.assertEqual(quote.state, "sale")
        # still marginal with the same minimum in company A
        self.assertEqual(
            self.small.with_company(self.company).customer_tier_id, self.tier_d
        )

    def test_sample_fee_products_follow_the_program(self):
        """The cached list of sample-fee products follows program edits."""

        def price_for_big():
            quote = self.env["sale.order"].create(
                {
                    "partner_id": self.big.id,
                    "company_id": self.company.id,
                    "order_line": [Command.create({"product_id": self.sample.id})],
                }
            )
            return quote.order_line.price_unit

        self.assertAlmostEqual(price_for_big(), 0.0)
        self.program.sample_fee_product_ids = False
        self.assertAlmostEqual(price_for_big(), 35.0)
        self.program.sample_fee_product_ids = self.sample
        self.assertAlmostEqual(price_for_big(), 0.0)

    def test_views(self):
        quote = self._quote(self.small, 2)
        with Form(quote) as form:
            self.assertEqual(form.customer_tier_id, self.tier_d)
        with Form(self.tier_d) as form:
            form.min_order_amount = 1500.0
        self.assertEqual(self.tier_d.min_order_amount, 1500.0)
