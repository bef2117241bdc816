"""Nothing is left broken by deleting, uninstalling or reinstalling.

* A tier program whose customers were evaluated cannot be deleted (its
  profiles and their history would cascade away and partners would point to
  deleted tiers): the manager gets a clear error and archives it instead.
* A tier still named in the history, a pending downgrade, a partner or a
  reward cannot be deleted either.
* The uninstall hook archives the points program (cards and points stay) and
  keeps the module's records that other data still uses; a reinstall takes
  the points program back instead of creating a second one that also earns.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.customer_tier.hooks import (
    KEPT_MODULE,
    pre_init_hook,
    uninstall_hook,
)
from odoo.addons.customer_tier.models.sale_order import (
    LINE_REVENUE_INDEX,
    ORDER_FIGURES_INDEX,
    QUOTATION_INDEX,
)

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestTierDeletion(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Deletion Customer", user_id=cls.user_own.id)
        cls._order(cls.customer, 3000.0, cls.eval_date - timedelta(days=30))
        cls._order(cls.customer, 3000.0, cls.eval_date - timedelta(days=10))
        cls._run()
        cls.profile = cls._profile(cls.customer)
        cls.manager_env = cls.env(
            user=cls.user_manager,
            context=dict(cls.env.context, allowed_company_ids=[cls.company.id]),
        )

    def _as_manager(self, records):
        return records.with_env(self.manager_env)

    def _counts(self):
        History = self.env["customer.tier.history"]
        return (
            self.env["customer.tier.profile"].search_count(
                [("program_id", "=", self.program.id)]
            ),
            History.search_count([("company_id", "=", self.company.id)]),
        )

    def test_delete_program_with_customers(self):
        """The manager is told to archive; nothing is removed; archiving
        stops the program (no refresh on confirmation, no scheduled run)
        while quotations still show the customer's tier."""
        self.assertEqual(self.profile.tier_id, self.tier_b)
        before = self._counts()
        self.assertTrue(before[0] and before[1])
        program = self._as_manager(self.program)
        with self.assertRaisesRegex(UserError, "Archive it instead"):
            program.unlink()
        self.assertTrue(self.program.exists())
        self.assertEqual(self._counts(), before)
        self.assertEqual(
            self.customer.with_company(self.company).customer_tier_id, self.tier_b
        )

        program.action_archive()
        self.assertFalse(self.program.active)
        orders = self.profile.order_count
        last_run = self.program.last_run_date
        self._order(self.customer, 500.0, self.eval_date)
        self.env["customer.tier.program"]._cron_recompute()
        self.profile.invalidate_recordset()
        self.assertEqual(self.profile.order_count, orders)
        self.assertEqual(self.program.last_run_date, last_run)
        quotation = (
            self.manager_env["sale.order"]
            .with_user(self.user_own)
            .create({"partner_id": self.customer.id, "company_id": self.company.id})
        )
        self.assertEqual(quotation.customer_tier_id, self.tier_b)
        # grouping partners by tier still works
        groups = (
            self.env["res.partner"]
            .with_company(self.company)
            ._read_group(
                [("id", "=", self.customer.id)], ["commercial_tier_id"], ["__count"]
            )
        )
        self.assertEqual(groups, [(self.tier_b, 1)])

    def test_delete_program_without_customers(self):
        """A program nobody was evaluated by is deleted with its tiers."""
        program = self.program_b
        tiers = program.with_context(active_test=False).tier_ids
        program.unlink()
        self.assertFalse(program.exists())
        self.assertFalse(tiers.exists())

    def test_delete_tier_in_history(self):
        """A tier nobody holds any more but the history names is archived,
        not deleted (the history would lose where customers came from)."""
        self.env["customer.tier.history"].create(
            {
                "profile_id": self.profile.id,
                "date": self.eval_date - timedelta(days=200),
                "from_tier_id": self.tier_a.id,
                "to_tier_id": self.tier_b.id,
                "cause": "computed",
            }
        )
        tier_a = self._as_manager(self.tier_a)
        with self.assertRaisesRegex(UserError, "Archive them instead"):
            tier_a.unlink()
        self.assertTrue(self.tier_a.exists())
        tier_a.action_archive()
        self.assertFalse(self.tier_a.active)

    def test_delete_tier_of_partner(self):
        """A tier partners still point to is not deleted (the partner's
        stored tier would name a deleted record)."""
        self.env.cr.execute(
            "UPDATE res_partner SET commercial_tier_id = %s WHERE id = %s",
            [f'{{"{self.company.id}": {self.tier_a.id}}}', self.customer.id],
        )
        self.env["res.partner"].invalidate_model(["commercial_tier_id"])
        with self.assertRaisesRegex(UserError, "1 customers"):
            self._as_manager(self.tier_a).unlink()
        self.assertTrue(self.tier_a.exists())

    def test_delete_tier_of_reward(self):
        """A tier a reward is reserved to is not deleted (the reward would be
        open to every tier)."""
        reward = self.program.loyalty_program_id.reward_ids[:1]
        reward.customer_tier_ids = self.tier_a
        with self.assertRaisesRegex(UserError, "reserved to"):
            self._as_manager(self.tier_a).unlink()
        self.assertEqual(reward.customer_tier_ids, self.tier_a)

    def test_delete_unused_tier(self):
        """A tier nobody used is deleted."""
        tier = self.env["customer.tier"].create(
            {
                "name": "Unused",
                "code": "U",
                "program_id": self.program.id,
                "sequence": 1,
                "min_revenue": 100000,
                "min_orders": 10,
                "max_recency_days": 30,
            }
        )
        self._as_manager(tier).unlink()
        self.assertFalse(tier.exists())


@tagged("post_install", "-at_install")
class TestUninstall(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"loyalty_credit_on": "confirm", "loyalty_expiry_months": 0})
        cls.loyalty = cls.program.loyalty_program_id
        cls.loyalty.rule_ids.reward_point_amount = 0.01  # 1 point per 100
        cls.customer = cls._customer("Points Customer", user_id=cls.user_own.id)
        cls._order(cls.customer, 10000.0, fields.Date.today() - timedelta(days=5))
        cls.card = cls.env["loyalty.card"].search(
            [("program_id", "=", cls.loyalty.id), ("partner_id", "=", cls.customer.id)]
        )

    def _earning_programs(self):
        return self.env["loyalty.program"].search(
            [("program_type", "=", "loyalty"), ("company_id", "=", self.company.id)]
        )

    def _new_order_points(self):
        """Points per program a confirmed 10,000 order earns."""
        order = (
            self.env["sale.order"]
            .with_company(self.company)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "pricelist_id": self.pricelists[(self.usd, self.company)].id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": 10000.0,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        order._update_programs_and_rewards()
        order.action_confirm()
        return {
            line.coupon_id.program_id: line.points for line in order.coupon_point_ids
        }

    def test_uninstall_hook(self):
        """The points program stops earning; cards, points and history stay;
        data Odoo still uses is kept, the rest is left for Odoo to delete."""
        self.assertEqual(self.card.points, 100.0)
        history = self.card.history_ids
        self.assertTrue(history)
        followup = self.env.ref("customer_tier.mail_activity_type_tier_followup")
        self.customer.activity_schedule(
            activity_type_id=followup.id, user_id=self.user_own.id
        )
        region = self.env.ref("customer_tier.region_europe")
        freight = self.env.ref("customer_tier.product_tier_freight")

        indexes = (ORDER_FIGURES_INDEX, QUOTATION_INDEX, LINE_REVENUE_INDEX)
        find = SQL("SELECT indexname FROM pg_indexes WHERE indexname IN %s", indexes)
        self.assertEqual(len(self.env.execute_query(find)), 3)

        uninstall_hook(self.env)

        # the module's indexes on Odoo's orders and lines are gone
        self.assertFalse(self.env.execute_query(find))
        self.assertFalse(self.loyalty.active)
        self.assertFalse(self._earning_programs())
        self.assertEqual(self._new_order_points(), {})
        self.assertEqual(self.card.points, 100.0)
        self.assertEqual(self.card.history_ids, history)
        external = self.env["ir.model.data"].search(
            [
                (
                    "model",
                    "in",
                    ["mail.activity.type", "res.country.group", "product.product"],
                )
            ]
        )
        module = {(d.model, d.res_id): d.module for d in external}
        # used by an activity, by the archived program's rewards: kept
        self.assertEqual(module[("mail.activity.type", followup.id)], KEPT_MODULE)
        self.assertEqual(module[("product.product", freight.id)], KEPT_MODULE)
        # used by nothing: still the module's, deleted by the uninstall
        self.assertEqual(module[("res.country.group", region.id)], "customer_tier")
        self.assertTrue(region.exists())  # the tried deletion was rolled back

        # a reinstall gives the kept records their external ids back
        pre_init_hook(self.env)
        self.assertEqual(
            self.env.ref("customer_tier.mail_activity_type_tier_followup"), followup
        )
        self.assertEqual(self.env.ref("customer_tier.product_tier_freight"), freight)

    def test_reinstall_takes_points_program_back(self):
        """After an uninstall, the install's own code links the kept points
        program again: one program earns, once, and the customer keeps his
        points."""
        self.env["customer.tier.program"]._loyalty_uninstall()
        self.assertFalse(self._earning_programs())
        # a reinstall: a tier program without points program, rewards
        # without their tier columns (dropped with the module)
        self.program.loyalty_program_id = False
        self.loyalty.reward_ids.tier_reward_type = False

        self.env["customer.tier.program"]._loyalty_create_missing_programs()

        self.assertEqual(self.program.loyalty_program_id, self.loyalty)
        self.assertEqual(self._earning_programs(), self.loyalty)
        self.assertEqual(
            set(self.loyalty.reward_ids.mapped("tier_reward_type")),
            {"gift", "freight", "sample_fee"},
        )
        self.assertEqual(self.card.points, 100.0)
        self.assertEqual(self._new_order_points(), {self.loyalty: 100.0})
        self.assertEqual(self.card.points, 200.0)
        # the kept external id is used once
        self.program.loyalty_program_id = False
        self.env["customer.tier.program"]._loyalty_create_missing_programs()
        self.assertNotEqual(self.program.loyalty_program_id, self.loyalty)
