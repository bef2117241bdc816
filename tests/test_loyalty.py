from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import CustomerTierCase, load_chinese


@tagged("post_install", "-at_install")
class TestTierLoyalty(CustomerTierCase):
    """Tier points on Odoo's loyalty programs."""

    MULTIPLIERS = {"A": 2.0, "B": 1.5, "C": 1.0, "D": 0.0}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loyalty = cls.program.loyalty_program_id
        for code, multiplier in cls.MULTIPLIERS.items():
            cls.tiers[code].write(
                {"points_multiplier": multiplier, "may_redeem": code != "D"}
            )
        cls.program.write({"loyalty_expiry_months": 12, "loyalty_credit_on": "confirm"})
        cls.Card = cls.env["loyalty.card"]
        cls.History = cls.env["loyalty.history"]
        cls.rewards = {r.tier_reward_type: r for r in cls.loyalty.reward_ids}
        # round numbers: 1 point per USD, rewards for 1000 / 1500 / 300 points
        cls.loyalty.rule_ids.reward_point_amount = 1.0
        for kind, points in (("gift", 1000), ("freight", 1500), ("sample_fee", 300)):
            cls.rewards[kind].required_points = points
        cls.freight = cls.env.ref("customer_tier.product_tier_freight")
        cls.sample_fee = cls.env.ref("customer_tier.product_tier_sample_fee")
        cls.gift = cls.env["product.product"].create(
            {
                "name": "Gift Mug",
                "type": "consu",
                "list_price": 25.0,
                "taxes_id": [Command.clear()],
                "product_tag_ids": [
                    Command.link(
                        cls.env.ref("customer_tier.product_tag_loyalty_gift").id
                    )
                ],
            }
        )
        # Buying customers (a small old order, earning nothing) held in a tier
        cls.program.loyalty_new_customer_multiplier = 0.0
        cls.cust = {}
        for code in "ABCD":
            partner = cls._customer(f"Points {code}", user_id=cls.user_own.id)
            cls._order(partner, 10.0, date(2020, 1, 15))
            cls._set_tier(partner, cls.tiers[code])
            cls.cust[code] = partner
        cls.program.loyalty_new_customer_multiplier = 1.0

    @classmethod
    def _set_tier(cls, partner, tier):
        """Hold ``partner`` in ``tier`` whatever its orders (manual override)."""
        cls._profile(partner).sudo().write(
            {"manual_tier_id": tier.id, "manual_reason": "Loyalty test"}
        )

    def _card(self, partner):
        return self.Card.search(
            [("program_id", "=", self.loyalty.id), ("partner_id", "=", partner.id)]
        )

    def _give_points(self, partner, points):
        """Adjust the card's balance through Odoo's Update Balance wizard."""
        card = self._card(partner) or self.Card.create(
            {"program_id": self.loyalty.id, "partner_id": partner.id}
        )
        self.env["loyalty.card.update.balance"].create(
            {
                "card_id": card.id,
                "new_balance": card.points + points,
                "description": "Gift for customer",
            }
        ).action_update_card_point()
        return card

    def _quotation(self, partner, lines, env=None):
        env = env or self.env
        return env["sale.order"].create(
            {
                "partner_id": partner.id,
                "company_id": self.company.id,
                "pricelist_id": self.pricelists[(self.usd, self.company)].id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for product, qty, price in lines
                ],
            }
        )

    def _apply(self, order, reward, env=None):
        env = env or self.env
        order = order.with_env(env)
        order._update_programs_and_rewards()
        wizard = (
            env["sale.loyalty.reward.wizard"]
            .with_context(active_id=order.id)
            .create({"order_id": order.id, "selected_reward_id": reward.id})
        )
        return wizard.action_apply()

    # ------------------------------------------------------------------
    # Program and data
    # ------------------------------------------------------------------
    def test_program_per_company(self):
        shipped = self.program_b.loyalty_program_id
        self.assertEqual(shipped.rule_ids.reward_point_amount, 0.01)
        self.assertEqual(
            sorted(shipped.reward_ids.mapped("required_points")), [50, 200, 500]
        )
        self.assertEqual(self.loyalty.program_type, "loyalty")
        self.assertEqual(self.loyalty.company_id, self.company)
        self.assertEqual(self.loyalty.applies_on, "future")
        self.assertTrue(self.loyalty.is_tier_points_program)
        self.assertEqual(self.loyalty.rule_ids.reward_point_mode, "money")
        self.assertEqual(set(self.rewards), {"gift", "freight", "sample_fee"})
        self.assertEqual(self.rewards["freight"].discount_product_ids, self.freight)
        self.assertIn(self.gift, self.rewards["gift"].reward_product_ids)
        other = self.program_b.loyalty_program_id
        self.assertTrue(other)
        self.assertEqual(other.company_id, self.company_b)
        self.assertNotEqual(other, self.loyalty)
        # idempotent: nothing new when run again
        count = self.env["loyalty.program"].search_count([])
        self.env["customer.tier.program"]._loyalty_create_missing_programs()
        self.assertEqual(self.env["loyalty.program"].search_count([]), count)
        # the sample fee waiver follows the tier program's sample fee products
        courier = self.env["product.product"].create(
            {"name": "Express courier", "type": "service"}
        )
        self.program.sample_fee_product_ids = courier
        self.assertEqual(self.rewards["sample_fee"].discount_product_ids, courier)

    def test_program_constraints(self):
        with self.assertRaises(ValidationError):
            self.program.loyalty_program_id = self.program_b.loyalty_program_id
        with self.assertRaises(ValidationError):
            self.tier_a.points_multiplier = -1
        with self.assertRaises(ValidationError):
            self.program.loyalty_expiry_months = -1
        with self.assertRaises(ValidationError):
            self.rewards["gift"].customer_tier_ids = self.grades["A"]

    # ------------------------------------------------------------------
    # Credit, reversal, invoice
    # ------------------------------------------------------------------
    @freeze_time("2024-06-10 10:00:00")
    def test_credit_with_multipliers(self):
        for code, expected in (("A", 2000), ("B", 1500), ("C", 1000)):
            order = self._order(self.cust[code], 1000.0, date(2024, 6, 10))
            card = self._card(self.cust[code])
            self.assertEqual(card.points, expected, code)
            line = card.history_ids
            self.assertEqual(line.issued, expected)
            self.assertEqual(line.order_id, order.id)
            self.assertEqual(line.points_date, date(2024, 6, 10))
            self.assertEqual(line.points_expiration_date, date(2025, 6, 10))
            self.assertEqual(order.loyalty_data["issued"], expected)
        # D earns nothing and gets no card
        self._order(self.cust["D"], 1000.0, date(2024, 6, 10))
        self.assertFalse(self._card(self.cust["D"]))

    @freeze_time("2024-06-10 10:00:00")
    def test_credit_other_currency(self):
        # 800 EUR at 0.8 EUR per USD = 1000 USD; tier B earns 1.5 per USD
        order = self._order(self.cust["B"], 800.0, date(2024, 6, 1), currency=self.eur)
        self.assertAlmostEqual(order.currency_rate, self.EUR_RATE_2024)
        self.assertEqual(self._card(self.cust["B"]).points, 1500)
        # 2022 rate: 0.5 EUR per USD -> 333.33 EUR = 666.66 USD -> 666 points (C)
        self._order(self.cust["C"], 333.33, date(2022, 6, 1), currency=self.eur)
        self.assertEqual(self._card(self.cust["C"]).points, 666)

    @freeze_time("2024-06-10 10:00:00")
    def test_customer_without_tier_and_rule_rate(self):
        newcomer = self._customer("Newcomer")
        self.program.loyalty_new_customer_multiplier = 0.5
        self.loyalty.rule_ids.reward_point_amount = 2.0
        self._order(newcomer, 1000.0, date(2024, 6, 10))
        self.assertEqual(self._card(newcomer).points, 1000)  # 1000 * 2 * 0.5

    @freeze_time("2024-06-10 10:00:00")
    def test_reversal_on_cancel(self):
        first = self._order(self.cust["A"], 500.0, date(2024, 6, 1))
        second = self._order(self.cust["A"], 250.0, date(2024, 6, 5))
        card = self._card(self.cust["A"])
        self.assertEqual(card.points, 1500)
        second._action_cancel()
        self.assertEqual(card.points, 1000)
        self.assertEqual(card.history_ids.order_id, first.id)
        first._action_cancel()
        self.assertEqual(card.points, 0)
        self.assertFalse(card.history_ids)

    def test_credit_on_invoice(self):
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=self.company, install_demo=False
        )
        self.program.loyalty_credit_on = "invoice"
        with freeze_time("2024-06-10 10:00:00"):
            order = self._order(
                self.cust["B"], 800.0, date(2024, 6, 1), currency=self.eur
            )
            self.assertFalse(self._card(self.cust["B"]).points)
            invoice = order._create_invoices()
            invoice.invoice_date = date(2024, 6, 10)
            invoice.action_post()
        card = self._card(self.cust["B"])
        self.assertEqual(card.points, 1500)  # 800 EUR / 0.8 * 1.5
        credit = card.history_ids
        self.assertEqual(
            (credit.order_model, credit.order_id), ("account.move", invoice.id)
        )
        self.assertEqual(credit.points_expiration_date, date(2025, 6, 10))
        invoice._tier_points_post()  # booking again never credits twice
        self.assertEqual(card.points, 1500)
        # a credit note of half the invoice takes back half the points, even
        # after the customer changed tier
        self._set_tier(self.cust["B"], self.tier_a)
        with freeze_time("2024-06-20 10:00:00"):
            refund = invoice._reverse_moves([{"invoice_date": date(2024, 6, 20)}])
            refund.invoice_line_ids.quantity = 0.5
            refund.action_post()
            self.assertEqual(card.points, 750)
            self.assertEqual(card.history_ids.sorted("id")[-1].used, 750)
            refund.button_draft()
            self.assertEqual(card.points, 1500)
            invoice.button_draft()
            self.assertEqual(card.points, 0)
            self.assertFalse(card.history_ids)

    def test_history_adds_up(self):
        """No line for orders that move no points; a reward added after
        confirmation gets its line back; the balance is the history's sum."""
        card = self._give_points(self.cust["D"], 500)
        self._order(self.cust["D"], 1000.0, date(2024, 6, 10))
        self.assertEqual(len(card.history_ids), 1)  # the balance update only
        self.program.loyalty_credit_on = "invoice"
        card = self._give_points(self.cust["C"], 500)
        order = self._reward_quotation(self.cust["C"])
        order.action_confirm()
        self.assertEqual(len(card.history_ids), 1)
        self._apply(order, self.rewards["sample_fee"])
        self.assertEqual(card.points, 200)
        line = card.history_ids.filtered(lambda h: h.order_id == order.id)
        self.assertEqual((line.issued, line.used), (0, 300))
        history = card.history_ids
        self.assertEqual(
            sum(history.mapped("issued")) - sum(history.mapped("used")), card.points
        )

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    def _cron(self, when):
        with freeze_time(when):
            return self.env["customer.tier.program"]._cron_expire_loyalty_points()

    def _earn_january_and_march(self):
        """Customer C earns 100 points on 2024-01-10 and 200 on 2024-03-10
        (each order confirmed on its day): (customer, card)."""
        customer = self.cust["C"]
        for amount, day in ((100.0, date(2024, 1, 10)), (200.0, date(2024, 3, 10))):
            with freeze_time(f"{day} 10:00:00"):
                self._order(customer, amount, day)
        return customer, self._card(customer)

    def test_expiry_fifo(self):
        customer, card = self._earn_january_and_march()
        with freeze_time("2024-06-01 10:00:00"):
            self._give_points(customer, -150)  # redemption: oldest points first
        self.assertEqual(card.points, 150)
        with freeze_time("2024-12-20 10:00:00"):
            card.invalidate_recordset(["points_expiring_soon"])
            # the January credit is used up: nothing expires in the next 30 days
            self.assertEqual(card.points_expiring_soon, 0)
            self.assertEqual(card.points_next_expiration_date, date(2025, 3, 10))
        self.assertEqual(self._cron("2025-01-11 03:00:00"), (1, 0))
        self.assertEqual(card.points, 150)
        self.assertFalse(card.history_ids.filtered("points_expiry_type"))
        with freeze_time("2025-02-15 10:00:00"):
            card.invalidate_recordset(["points_expiring_soon"])
            self.assertEqual(card.points_expiring_soon, 150)
            partner = customer.with_context(allowed_company_ids=self.company.ids)
            self.assertEqual(partner.tier_points_balance, 150)
            self.assertEqual(partner.tier_points_expiring, 150)
            self.assertEqual(partner.tier_points_expiration_date, date(2025, 3, 10))
        self.assertEqual(self._cron("2025-03-11 03:00:00"), (1, 0))
        self.assertEqual(card.points, 0)
        expiry = card.history_ids.filtered("points_expiry_type")
        self.assertEqual((expiry.used, expiry.points_date), (150, date(2025, 3, 11)))
        # idempotent: nothing is due, a forced run writes nothing
        self.assertEqual(self._cron("2025-03-12 03:00:00"), (0, 0))
        with freeze_time("2025-03-12 03:00:00"):
            self.assertFalse(card._tier_expire_points())
        self.assertEqual(card.points, 0)
        self.assertEqual(
            sum(card.history_ids.mapped("issued"))
            - sum(card.history_ids.mapped("used")),
            card.points,
        )

    def test_expiry_late_debit_and_negative_guard(self):
        customer, card = self._earn_january_and_march()
        # the January points expired on 2025-01-10, but the run has not passed:
        # a debit takes the valid March points first, then the expired ones
        with freeze_time("2025-01-20 10:00:00"):
            self._give_points(customer, -250)
        self.assertEqual(card.points, 50)
        self._cron("2025-01-21 03:00:00")
        self.assertEqual(card.points, 0)  # 50 January points expired
        # balance out of step with the history: never written below zero
        with freeze_time("2024-02-01 10:00:00"):
            self._order(self.cust["A"], 100.0, date(2024, 2, 1))
        other_card = self._card(self.cust["A"])
        other_card.points = 30
        self._cron("2025-03-01 03:00:00")
        self.assertEqual(other_card.points, 0)
        self.assertEqual(other_card.history_ids.filtered("points_expiry_type").used, 30)

    def test_expiry_then_cancel(self):
        customer = self.cust["C"]
        with freeze_time("2024-01-10 10:00:00"):
            old = self._order(customer, 100.0, date(2024, 1, 10))
        with freeze_time("2025-01-05 10:00:00"):
            self._order(customer, 40.0, date(2025, 1, 5))
        card = self._card(customer)
        self._cron("2025-01-11 03:00:00")
        self.assertEqual(card.points, 40)
        # cancelling the order whose points already expired takes nothing more
        with freeze_time("2025-01-12 10:00:00"):
            old._action_cancel()
        self.assertEqual(card.points, 40)
        reversal = card.history_ids.filtered(
            lambda line: line.points_expiry_type == "reversal"
        )
        self.assertEqual(reversal.issued, 100)
        self.assertEqual(self._cron("2025-01-13 03:00:00"), (0, 0))
        self.assertEqual(card.points, 40)

    def test_expiry_cron_batches(self):
        self.program.batch_size = 1
        self.env["customer.tier.program"].search([]).batch_size = 1
        with freeze_time("2024-01-10 10:00:00"):
            self._order(self.cust["A"], 100.0, date(2024, 1, 10))
            self._order(self.cust["B"], 100.0, date(2024, 1, 10))
        self.assertEqual(self._cron("2025-02-01 03:00:00"), (1, 1))
        self.assertEqual(self._cron("2025-02-01 03:00:00"), (1, 0))
        self.assertEqual(self._card(self.cust["A"]).points, 0)
        self.assertEqual(self._card(self.cust["B"]).points, 0)

    def test_backfill(self):
        self.loyalty.action_archive()
        with freeze_time("2024-06-10 10:00:00"):
            old = self._order(self.cust["A"], 100.0, date(2023, 5, 1))
            recent = self._order(self.cust["A"], 300.0, date(2024, 6, 1))
            self._order(self.cust["D"], 300.0, date(2024, 6, 1))
        self.assertFalse(self._card(self.cust["A"]))
        self.loyalty.action_unarchive()
        with freeze_time("2024-06-10 10:00:00"):
            credited = self.program._loyalty_backfill(date(2023, 1, 1))
            self.assertEqual(credited, old | recent)
            # a second run finds nothing left to credit
            self.assertFalse(self.program._loyalty_backfill(date(2023, 1, 1)))
        card = self._card(self.cust["A"])
        # 200 points of May 2023 expired on 2024-05-01; 600 of June 2024 left
        self.assertEqual(card.points, 600)
        credit = card.history_ids.filtered(lambda h: h.order_id == recent.id)
        self.assertEqual(credit.points_date, date(2024, 6, 1))
        self.assertEqual(credit.points_expiration_date, date(2025, 6, 1))
        with freeze_time("2024-06-11 10:00:00"):
            recent._action_cancel()
        self.assertEqual(card.points, 0)

    def test_redate_history(self):
        with freeze_time("2024-06-10 10:00:00"):
            order = self._order(self.cust["C"], 100.0, date(2024, 6, 10))
        order.date_order = "2023-02-15 09:00:00"
        self.program._loyalty_redate_history()
        line = self._card(self.cust["C"]).history_ids
        self.assertEqual(line.points_date, date(2023, 2, 15))
        self.assertEqual(line.points_expiration_date, date(2024, 2, 15))

    # ------------------------------------------------------------------
    # Rewards
    # ------------------------------------------------------------------
    def _reward_quotation(self, partner, env=None):
        return self._quotation(
            partner,
            [
                (self.product, 10, 100.0),
                (self.freight, 1, 400.0),
                (self.sample_fee, 1, 50.0),
            ],
            env=env,
        )

    def test_rewards_eligible_tier(self):
        card = self._give_points(self.cust["A"], 5000)
        order = self._reward_quotation(self.cust["A"])
        order._update_programs_and_rewards()
        claimable = order._get_claimable_rewards()
        self.assertEqual(set(claimable), {card})
        self.assertEqual(
            set(claimable[card].mapped("tier_reward_type")),
            {"gift", "freight", "sample_fee"},
        )
        self._apply(order, self.rewards["freight"])
        self._apply(order, self.rewards["sample_fee"])
        self._apply(order, self.rewards["gift"])
        lines = order.order_line.filtered("reward_id")
        freight_line = lines.filtered(
            lambda line: line.reward_id == self.rewards["freight"]
        )
        self.assertAlmostEqual(freight_line.price_subtotal, -200.0)
        self.assertEqual(freight_line.points_cost, 1500)
        sample_line = lines.filtered(
            lambda line: line.reward_id == self.rewards["sample_fee"]
        )
        self.assertAlmostEqual(sample_line.price_subtotal, -50.0)
        gift_line = lines.filtered(lambda line: line.reward_id == self.rewards["gift"])
        self.assertEqual(gift_line.product_id, self.gift)
        self.assertEqual(gift_line.price_subtotal, 0.0)
        self.assertEqual((gift_line.product_uom_qty, gift_line.points_cost), (1, 1000))
        self.assertEqual(sum(lines.mapped("points_cost")), 2800)
        self.assertAlmostEqual(order.amount_untaxed, 1000.0 + 400 + 50 - 200 - 50)
        order.action_confirm()
        # 5000 - 2800 used + (1000 + 400 + 50) * 2 earned (rewards paid with
        # points do not reduce the amount that earns points)
        self.assertEqual(card.points, 5000 - 2800 + 2900)
        line = card.history_ids.filtered(lambda h: h.order_id == order.id)
        self.assertEqual((line.issued, line.used), (2900, 2800))

    def test_rewards_ineligible_tier(self):
        card = self._give_points(self.cust["D"], 5000)
        order = self._reward_quotation(self.cust["D"])
        order._update_programs_and_rewards()
        self.assertFalse(order._get_claimable_rewards())
        self.assertTrue(order.action_open_reward_wizard())
        self.assertFalse(order.order_line.filtered("reward_id"))
        for reward in self.rewards.values():
            result = order._apply_program_reward(reward, card)
            self.assertIn("error", result)
            with self.assertRaises(ValidationError):
                self._apply(order, reward)
        self.assertFalse(order.order_line.filtered("reward_id"))
        self.assertEqual(card.points, 5000)

    def test_reward_limited_to_tiers(self):
        self.rewards["freight"].customer_tier_ids = self.tier_a | self.tier_b
        card = self._give_points(self.cust["C"], 5000)
        order = self._reward_quotation(self.cust["C"])
        order._update_programs_and_rewards()
        rewards = order._get_claimable_rewards()[card]
        self.assertNotIn(self.rewards["freight"], rewards)
        self.assertIn(self.rewards["sample_fee"], rewards)
        self.assertIn(
            "error", order._apply_program_reward(self.rewards["freight"], card)
        )
        self._apply(order, self.rewards["sample_fee"])
        self.assertTrue(order.order_line.filtered("reward_id"))

    def test_specific_reward_needs_its_line(self):
        card = self._give_points(self.cust["A"], 5000)
        order = self._quotation(self.cust["A"], [(self.product, 1, 100.0)])
        order._update_programs_and_rewards()
        rewards = order._get_claimable_rewards()[card]
        self.assertEqual(rewards, self.rewards["gift"])

    def test_reward_button(self):
        self._give_points(self.cust["A"], 200)
        order = self._reward_quotation(self.cust["A"])
        self.assertTrue(order.action_open_reward_wizard())  # not enough points
        self.assertFalse(order.order_line.filtered("reward_id"))
        self._give_points(self.cust["A"], 200)
        # one reward within reach: the Reward button applies it at once
        self.assertTrue(order.action_open_reward_wizard())
        self.assertEqual(order.order_line.reward_id, self.rewards["sample_fee"])
        # several: it opens the reward wizard
        self._give_points(self.cust["A"], 5000)
        action = order.action_open_reward_wizard()
        self.assertEqual(action["res_model"], "sale.loyalty.reward.wizard")

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def test_salesperson_applies_rewards_not_rules(self):
        card = self._give_points(self.cust["B"], 1000)
        env = self._env_as(self.user_own)
        order = self._reward_quotation(self.cust["B"], env=env)
        self._apply(order, self.rewards["sample_fee"], env=env)
        order.with_env(env).action_confirm()
        self.assertEqual(card.points, 1000 - 300 + 2175)  # (1000 + 450) * 1.5
        with self.assertRaises(AccessError):
            env["loyalty.rule"].browse(
                self.loyalty.rule_ids.ids
            ).reward_point_amount = 5
        with self.assertRaises(AccessError):
            env["loyalty.reward"].browse(self.rewards["gift"].id).required_points = 1
        with self.assertRaises(AccessError):
            env["customer.tier"].browse(self.tier_b.id).points_multiplier = 5
        with self.assertRaises(AccessError):
            env["customer.tier.program"].browse(
                self.program.id
            ).loyalty_expiry_months = 1
        partner = env["res.partner"].browse(self.cust["B"].id)
        self.assertEqual(partner.tier_points_balance, card.points)
        self.assertEqual(partner.tier_loyalty_card_ids, card)

    # ------------------------------------------------------------------
    # Partner, statement and views
    # ------------------------------------------------------------------
    @freeze_time("2024-06-10 10:00:00")
    def test_statement_template(self):
        customer = self.cust["A"]
        self._order(customer, 1234.0, date(2024, 6, 10))
        partner = customer.with_context(allowed_company_ids=self.company.ids)
        self.assertEqual(partner.tier_points_balance, 2468)
        self.assertEqual(len(partner.tier_points_history_ids), 1)
        env = self._env_as(self.user_own)
        action = (
            env["res.partner"].browse(customer.id).action_send_tier_points_statement()
        )
        composer = (
            env["mail.compose.message"].with_context(**action["context"]).create({})
        )
        self.assertIn("2468 Points", composer.body)
        self.assertIn("Tier Test Co A", composer.subject)
        self.assertIn(self.tier_a.display_name, composer.body)
        composer._action_send_mail()
        message = customer.message_ids[0]
        self.assertIn("2468 Points", message.body)
        # the partner's buttons open the card and its history
        partner = env["res.partner"].browse(customer.id)
        card_action = partner.action_view_tier_points_cards()
        self.assertEqual(card_action["res_id"], self._card(customer).id)
        history_action = partner.action_view_tier_points_history()
        self.assertEqual(
            env["loyalty.history"].search(history_action["domain"]),
            self._card(customer).history_ids,
        )

    def test_views(self):
        env = self._env_as(self.user_manager)
        with Form(env["customer.tier.program"].browse(self.program.id)) as form:
            form.loyalty_expiry_months = 18
        self.assertEqual(self.program.loyalty_expiry_months, 18)
        with Form(env["customer.tier"].browse(self.tier_c.id)) as form:
            form.points_multiplier = 1.25
        self.assertEqual(self.tier_c.points_multiplier, 1.25)
        with Form(env["loyalty.reward"].browse(self.rewards["gift"].id)) as form:
            form.customer_tier_ids.add(self.tier_a)
        self.assertEqual(self.rewards["gift"].customer_tier_ids, self.tier_a)
        card = self._give_points(self.cust["A"], 10)
        Form(env["loyalty.card"].browse(card.id))
        sales_env = self._env_as(self.user_own)
        Form(sales_env["res.partner"].browse(self.cust["A"].id))
        for view_type in ("list", "search"):
            view = env.ref(
                f"customer_tier.loyalty_history_view_{view_type}_customer_tier"
            )
            env["loyalty.history"].get_views([(view.id, view_type)])
        env["loyalty.card"].get_views([(False, "list"), (False, "search")])
        env["customer.tier"].get_views([(False, "list")])
        action = card.action_view_tier_points_history()
        self.assertEqual(action["res_model"], "loyalty.history")
        action = self.program.action_open_loyalty_program()
        self.assertEqual(action["res_id"], self.loyalty.id)

    def test_order_shows_the_tier_multiplier(self):
        """The order form shows the multiplier the customer's tier
        applies to its points (×2 for A), none at ×1, none without points."""
        sales_env = self._env_as(self.user_own)
        lines = [(self.product, 1, 100.0)]

        def label(partner, lang=None):
            order = self._quotation(partner, lines, env=sales_env)
            if lang:
                order = order.with_context(lang=lang)
            return Form(order).tier_points_multiplier_label

        self.assertEqual(label(self.cust["A"]), f"×2 ({self.tier_a.display_name})")
        self.assertEqual(label(self.cust["D"]), f"×0 ({self.tier_d.display_name})")
        self.assertFalse(label(self.cust["C"]))  # ×1: nothing to say
        newcomer = self._customer("Newcomer", user_id=self.user_own.id)
        self.assertFalse(label(newcomer))
        self.program.loyalty_new_customer_multiplier = 1.5
        self.assertEqual(label(newcomer), "×1.5 (new customer)")
        # in Chinese
        load_chinese(self.env)
        self.assertEqual(label(newcomer, "zh_CN"), "×1.5（新客户）")
        self.assertEqual(
            label(self.cust["A"], "zh_CN"),
            f"×2（{self.tier_a.with_context(lang='zh_CN').display_name}）",
        )
        # a tier program without a points program: no multiplier
        self.program.loyalty_program_id = False
        self.assertFalse(label(self.cust["A"]))
