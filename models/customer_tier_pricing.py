"""Sales policies per tier: pricelist, minimum order, small-order fee, sample
fees.

* pricelist: when a customer changes tier, its pricelist in the company
  becomes the new tier's (one statement per run), unless a user set another
  pricelist on it by hand: that one is kept and the profile flagged
  (``pricelist_manual``). A tier without a pricelist leaves it alone;
* minimum order: a quotation whose untaxed amount (fee lines left out) is
  below the tier's minimum (company currency, converted at the order's rate)
  shows the amount missing, gets one service fee line kept in sync (fixed
  amount or percentage), or cannot be confirmed, as the tier says; a manager
  exempts a customer on its profile (``min_order_exempt``);
* sample fees: order lines of the program's sample and courier fee products
  are free for customers of a tier that waives them.
"""

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare, format_amount

from .customer_tier_bounds import MAX_AMOUNT, check_bounds
from .customer_tier_engine import EngineFeature

# What a quotation below its tier's minimum order gets (the tier's setting,
# shown again on the order).
MIN_ORDER_POLICIES = [
    ("warn", "Warn"),
    ("fee", "Add a service fee"),
    ("block", "Block confirmation"),
]
# Range of the policy amounts a manager types on a tier (inclusive). The lower
# bounds left at None are refused by the SQL constraint sales_policy_positive,
# which bounds the fee percentage on both sides.
TIER_BOUNDS = {
    "min_order_amount": (None, MAX_AMOUNT),
    "fee_fixed": (None, MAX_AMOUNT),
}


class PricingFeature(EngineFeature):
    """Customers' pricelists follow their new tier.

    Sequence 20: after the prediction (10), before the follow-up (30), as the
    side effects ran before the contract was declared."""

    name = "pricing"
    sequence = 20

    def after_write(self, rows, changes, eval_date, full):
        if changes:
            self.program._apply_tier_pricelists(changes, eval_date)


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    sample_fee_product_ids = fields.Many2many(
        "product.product",
        string="Sample and Courier Fee Products",
        check_company=True,
        help="Order lines of these products are free for customers whose tier "
        "waives sample fees.",
    )

    @api.model
    @tools.ormcache("company_id")
    def _sample_fee_product_ids(self, company_id):
        """Sample/courier fee products of the company's program (cached: read
        for every order line whose price is computed)."""
        program = self.sudo().search([("company_id", "=", company_id)], limit=1)
        return frozenset(program.sample_fee_product_ids.ids)

    @api.model_create_multi
    def create(self, vals_list):
        programs = super().create(vals_list)
        self.env.registry.clear_cache()
        return programs

    def write(self, vals):
        res = super().write(vals)
        if {"sample_fee_product_ids", "company_id", "active"} & vals.keys():
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _engine_features(self):
        return [*super()._engine_features(), PricingFeature]

    def _apply_tier_pricelists(self, changes, eval_date):
        """Make the customers' pricelist follow their new tier, in bulk.

        A customer's pricelist in the company follows its tier when it is
        empty, or is the one the program put there last, or is another tier's
        pricelist of the program. Any other pricelist was set by a user: it is
        kept and the profile is flagged. Tiers without a pricelist leave the
        customer's pricelist alone (a pricelist the program put there stays).
        """
        self.ensure_one()
        self.env.flush_all()
        tiers = (
            self.with_context(active_test=False).sudo().tier_ids | self.sudo().grade_ids
        )
        tier_pricelist = {t.id: t.pricelist_id.id for t in tiers if t.pricelist_id}
        if not tier_pricelist:
            return
        managed = set(tier_pricelist.values())
        company_key = str(self.company_id.id)
        partner_ids = [c[0] for c in changes]
        state = {
            pid: (current, applied, profile_id)
            for pid, current, applied, profile_id in self.env.execute_query(
                SQL(
                    """
                    SELECT p.id,
                           (p.specific_property_product_pricelist ->> %(key)s)::int,
                           prof.tier_pricelist_id, prof.id
                      FROM res_partner p
                      JOIN customer_tier_profile prof
                        ON prof.partner_id = p.id AND prof.company_id = %(company)s
                     WHERE p.id = ANY(%(partners)s)
                    """,
                    key=company_key,
                    company=self.company_id.id,
                    partners=partner_ids,
                )
            )
        }
        to_set = []  # (partner, pricelist)
        flags = []  # (partner, applied pricelist, manual flag)
        notes = []
        Pricelist = self.env["product.pricelist"].sudo()
        for pid, _old, new, _cause in changes:
            if pid not in state:
                continue
            current, applied, profile_id = state[pid]
            target = tier_pricelist.get(new)
            if not target:
                flags.append((pid, applied, False))
                continue
            if current and current != applied and current not in managed:
                flags.append((pid, applied, current != target))
                continue
            flags.append((pid, target, False))
            if current != target:
                to_set.append((pid, target))
                notes.append((profile_id, current, target))
        if to_set:
            values = SQL(", ").join(
                SQL("(%s::int, %s::int)", pid, pl) for pid, pl in to_set
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE res_partner p
                       SET specific_property_product_pricelist =
                           COALESCE(p.specific_property_product_pricelist, '{}'::jsonb)
                           || jsonb_build_object(%(key)s, v.pricelist)
                      FROM (VALUES %(values)s) AS v(partner, pricelist)
                     WHERE p.commercial_partner_id = v.partner
                    """,
                    key=company_key,
                    values=values,
                )
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_history h SET pricelist_id = v.pricelist
                      FROM (VALUES %(values)s) AS v(partner, pricelist)
                     WHERE h.partner_id = v.partner AND h.company_id = %(company)s
                       AND h.date = %(date)s
                       AND h.id = (SELECT MAX(h2.id) FROM customer_tier_history h2
                                    WHERE h2.partner_id = v.partner
                                      AND h2.company_id = %(company)s)
                    """,
                    values=values,
                    company=self.company_id.id,
                    date=eval_date,
                )
            )
            self.env["res.partner"].invalidate_model(
                ["specific_property_product_pricelist", "property_product_pricelist"]
            )
            self.env["customer.tier.history"].invalidate_model(["pricelist_id"])
        if flags:
            values = SQL(", ").join(
                SQL("(%s::int, %s::int, %s::bool)", pid, pl, manual)
                for pid, pl, manual in flags
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET tier_pricelist_id = v.pricelist, pricelist_manual = v.manual
                      FROM (VALUES %(values)s) AS v(partner, pricelist, manual)
                     WHERE prof.partner_id = v.partner AND prof.company_id = %(company)s
                    """,
                    values=values,
                    company=self.company_id.id,
                )
            )
            self.env["customer.tier.profile"].invalidate_model(
                ["tier_pricelist_id", "pricelist_manual"]
            )
        if notes:
            # on the profile's chatter (its record rules apply), not on the
            # partner that users of every company read
            names = {
                pl.id: pl.display_name
                for pl in Pricelist.browse({pl for n in notes for pl in n[1:] if pl})
            }
            self.env["customer.tier.profile"]._post_notes(
                [
                    (
                        profile_id,
                        self.env._(
                            "Pricelist changed from %(old)s to %(new)s to follow the "
                            "customer tier (%(company)s).",
                            old=names.get(old) or self.env._("none"),
                            new=names[new],
                            company=self.company_id.name,
                        ),
                    )
                    for profile_id, old, new in notes
                ]
            )


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Tier Pricelist",
        check_company=True,
        help="When a customer enters this tier, its pricelist in this company "
        "becomes this one, unless a user set another pricelist on the customer "
        "by hand. Empty: the customer's pricelist is left alone.",
    )
    min_order_amount = fields.Monetary(
        string="Minimum Order",
        aggregator=None,
        currency_field="currency_id",
        help="Untaxed order amount, in company currency, below which the "
        "minimum-order policy applies. 0 means no minimum.",
    )
    min_order_policy = fields.Selection(
        MIN_ORDER_POLICIES,
        string="Below Minimum",
        default="warn",
        help="Warn: the quotation shows the amount missing. Add a service fee: a "
        "fee line is added while the order is below the minimum. Block: the "
        "quotation cannot be confirmed below the minimum.",
    )
    fee_product_id = fields.Many2one(
        "product.product",
        string="Service Fee Product",
        check_company=True,
        domain="[('type', '=', 'service')]",
        help="Product of the small-order fee line.",
    )
    fee_type = fields.Selection(
        [("fixed", "Fixed amount"), ("percent", "Percentage of the order")],
        default="fixed",
    )
    fee_fixed = fields.Monetary(
        string="Fee Amount",
        aggregator=None,
        currency_field="currency_id",
        help="Fixed fee in company currency (converted to the order currency).",
    )
    fee_percent = fields.Float(
        string="Fee (%)",
        aggregator=None,
        help="Fee as a percentage of the untaxed order amount.",
    )
    waive_sample_fee = fields.Boolean(
        string="Waive Sample Fees",
        help="Sample and courier fee lines (products listed on the program) are "
        "brought to zero for customers of this tier.",
    )

    _sql_constraints = [
        (
            "sales_policy_positive",
            "CHECK(min_order_amount >= 0 AND fee_fixed >= 0 "
            "AND fee_percent >= 0 AND fee_percent <= 100)",
            "Minimum order and fees cannot be negative; a fee percentage is at "
            "most 100.",
        ),
    ]

    @api.constrains(
        "min_order_amount", "min_order_policy", "fee_product_id", "fee_type"
    )
    def _check_fee_setup(self):
        for tier in self:
            if (
                tier.min_order_amount
                and tier.min_order_policy == "fee"
                and not tier.fee_product_id
            ):
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s adds a service fee below its minimum order: "
                        "choose the fee product.",
                        tier=tier.display_name,
                    )
                )

    @api.constrains(*TIER_BOUNDS)
    def _check_value_bounds_pricing(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, TIER_BOUNDS)


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    min_order_exempt = fields.Boolean(
        string="Exempt From Minimum Order",
        tracking=True,
        help="Set by a manager: no minimum-order warning, fee or block for this "
        "customer.",
    )
    tier_pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Pricelist Set by Tier",
        readonly=True,
        help="Pricelist the tier program last put on the customer.",
    )
    pricelist_manual = fields.Boolean(
        string="Hand-set Pricelist Kept",
        readonly=True,
        help="The customer has a pricelist set by hand that differs from its "
        "tier's pricelist: it is kept.",
    )


class SaleOrder(models.Model):
    _inherit = "sale.order"

    customer_tier_id = fields.Many2one(
        "customer.tier",
        compute="_compute_customer_tier_policy",
        help="Tier of the customer in the order's company.",
    )
    tier_min_order_amount = fields.Monetary(
        string="Tier Minimum Order",
        compute="_compute_customer_tier_policy",
        help="Minimum order of the customer's tier, in the order currency.",
    )
    tier_min_order_missing = fields.Monetary(
        string="Missing to Minimum",
        compute="_compute_customer_tier_policy",
        help="Untaxed amount still missing to reach the tier's minimum order "
        "(service fee lines not counted), in the order currency.",
    )
    tier_min_order_policy = fields.Selection(
        MIN_ORDER_POLICIES,
        string="Below Minimum Policy",
        compute="_compute_customer_tier_policy",
    )
    tier_min_order_exempt = fields.Boolean(
        string="Exempt From Minimum",
        compute="_compute_customer_tier_policy",
    )

    def _tier_profile_exempt(self):
        """Map (commercial partner id, company id) -> exempt flag, in one query."""
        partners = self.partner_id.commercial_partner_id
        profiles = (
            self.env["customer.tier.profile"]
            .sudo()
            .search_read(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "in", self.company_id.ids),
                    ("min_order_exempt", "=", True),
                ],
                ["partner_id", "company_id"],
            )
        )
        return {(p["partner_id"][0], p["company_id"][0]) for p in profiles}

    def _tier_base_amount(self):
        """Untaxed amount without the tier fee lines, in order currency."""
        self.ensure_one()
        return sum(
            line.price_subtotal
            for line in self.order_line
            if not line.is_tier_fee and not line.display_type
        )

    @api.depends(
        "partner_id",
        "company_id",
        "currency_id",
        "currency_rate",
        "order_line.price_subtotal",
        "order_line.is_tier_fee",
    )
    @api.depends_context("company")
    def _compute_customer_tier_policy(self):
        tiers = {
            order: order.partner_id.commercial_partner_id.with_company(
                order.company_id or self.env.company
            )
            .sudo()
            .commercial_tier_id
            for order in self
        }
        # Exemptions only matter where a tier sets a minimum (one query then).
        with_minimum = self.filtered(lambda o: tiers[o].min_order_amount)
        exempt = with_minimum._tier_profile_exempt() if with_minimum else set()
        for order in self:
            partner = order.partner_id.commercial_partner_id
            company = order.company_id or self.env.company
            tier = tiers[order]
            order.customer_tier_id = tier
            order.tier_min_order_policy = tier.min_order_policy if tier else False
            order.tier_min_order_exempt = (partner.id, company.id) in exempt
            rate = order.currency_rate or 1.0
            minimum = tier.min_order_amount * rate if tier else 0.0
            order.tier_min_order_amount = minimum
            missing = minimum - order._tier_base_amount() if minimum else 0.0
            order.tier_min_order_missing = (
                max(order.currency_id.round(missing), 0.0) if order.currency_id else 0.0
            )

    def _tier_fee_amount(self):
        """Fee in order currency for the customer's tier."""
        self.ensure_one()
        tier = self.customer_tier_id
        if tier.fee_type == "percent":
            amount = self._tier_base_amount() * tier.fee_percent / 100.0
        else:
            amount = tier.fee_fixed * (self.currency_rate or 1.0)
        return self.currency_id.round(amount)

    def _sync_tier_fee_line(self):
        """Add, update or remove the small-order fee line (one at most)."""
        Line = self.env["sale.order.line"].with_context(customer_tier_fee_sync=True)
        for order in self.with_context(customer_tier_fee_sync=True):
            if order.state not in ("draft", "sent"):
                continue
            tier = order.customer_tier_id
            fee_lines = order.order_line.filtered("is_tier_fee")
            has_goods = any(
                not line.is_tier_fee and not line.display_type and line.product_id
                for line in order.order_line
            )
            needed = (
                tier
                and tier.min_order_policy == "fee"
                and tier.fee_product_id
                and has_goods
                and not order.tier_min_order_exempt
                and order.tier_min_order_missing > 0
            )
            if not needed:
                if fee_lines:
                    fee_lines.unlink()
                continue
            amount = order._tier_fee_amount()
            keep, extra = fee_lines[:1], fee_lines[1:]
            if extra:
                extra.unlink()
            if keep:
                updates = {}
                if keep.product_id != tier.fee_product_id:
                    updates["product_id"] = tier.fee_product_id.id
                if (
                    float_compare(
                        keep.price_unit,
                        amount,
                        precision_rounding=order.currency_id.rounding,
                    )
                    or keep.product_uom_qty != 1
                ):
                    updates.update(price_unit=amount, product_uom_qty=1)
                if updates:
                    keep.write(updates)
            else:
                Line.create(
                    {
                        "order_id": order.id,
                        "product_id": tier.fee_product_id.id,
                        "product_uom_qty": 1,
                        "price_unit": amount,
                        "is_tier_fee": True,
                        "sequence": 99999,
                        "name": self.env._(
                            "Small-order service fee (minimum order %(minimum)s)",
                            minimum=format_amount(
                                self.env, order.tier_min_order_amount, order.currency_id
                            ),
                        ),
                    }
                )

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        if not self.env.context.get("customer_tier_fee_sync"):
            orders._sync_tier_fee_line()
        return orders

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get("customer_tier_fee_sync") and (
            {"order_line", "partner_id", "pricelist_id", "currency_id", "company_id"}
            & vals.keys()
        ):
            self._sync_tier_fee_line()
        return res

    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error:
            return error
        tier = self.customer_tier_id
        if (
            tier
            and tier.min_order_policy == "block"
            and not self.tier_min_order_exempt
            and self.tier_min_order_missing > 0
        ):
            return self.env._(
                "%(customer)s is a %(tier)s customer with a minimum order of "
                "%(minimum)s: add %(missing)s to this order before confirming it.",
                customer=self.partner_id.commercial_partner_id.display_name,
                tier=tier.display_name,
                minimum=format_amount(
                    self.env, self.tier_min_order_amount, self.currency_id
                ),
                missing=format_amount(
                    self.env, self.tier_min_order_missing, self.currency_id
                ),
            )
        return False


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    is_tier_fee = fields.Boolean(
        string="Small-order Fee",
        readonly=True,
        copy=False,
        help="Service fee line added because the order is below the minimum "
        "order of the customer's tier; kept in sync by the order.",
    )

    def _get_display_price(self):
        price = super()._get_display_price()
        if self._is_waived_sample_fee():
            return 0.0
        return price

    def _is_waived_sample_fee(self):
        """Sample/courier fee product for a customer whose tier waives it."""
        self.ensure_one()
        order = self.order_id
        if not self.product_id or not order.partner_id:
            return False
        sample_fees = self.env["customer.tier.program"]._sample_fee_product_ids(
            order.company_id.id
        )
        if self.product_id.id not in sample_fees:
            return False
        tier = (
            order.partner_id.commercial_partner_id.with_company(order.company_id)
            .sudo()
            .commercial_tier_id
        )
        return bool(tier.waive_sample_fee)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("customer_tier_fee_sync"):
            self._check_fee_flag(vals_list)
        lines = super().create(vals_list)
        if not self.env.context.get("customer_tier_fee_sync"):
            lines.order_id._sync_tier_fee_line()
        return lines

    def write(self, vals):
        if not self.env.context.get("customer_tier_fee_sync"):
            self._check_fee_flag([vals])
        res = super().write(vals)
        if not self.env.context.get("customer_tier_fee_sync") and (
            {"product_uom_qty", "price_unit", "discount", "product_id"} & vals.keys()
        ):
            self.order_id._sync_tier_fee_line()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        if not self.env.context.get("customer_tier_fee_sync"):
            orders.exists()._sync_tier_fee_line()
        return res

    def _check_fee_flag(self, vals_list):
        """Only the order itself (or a manager) flags fee lines."""
        if self.env.su or not any("is_tier_fee" in vals for vals in vals_list):
            return
        if not self.env.user.has_group("customer_tier.group_customer_tier_manager"):
            raise UserError(
                self.env._("Only the minimum-order policy adds small-order fee lines.")
            )
