from odoo import api, fields, models
from odoo.tools import float_compare, format_amount


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
        [
            ("warn", "Warn"),
            ("fee", "Add a service fee"),
            ("block", "Block confirmation"),
        ],
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

    def action_confirm(self):
        res = super().action_confirm()
        self._refresh_customer_tiers()
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda o: o.state == "sale")
        res = super()._action_cancel()
        confirmed._refresh_customer_tiers()
        return res

    def _refresh_customer_tiers(self):
        """Refresh the tier profile of the orders' customers, per company."""
        Program = self.env["customer.tier.program"].sudo()
        for company, orders in self.grouped("company_id").items():
            program = Program.search([("company_id", "=", company.id)], limit=1)
            if program:
                program._engine().refresh_partners(
                    orders.partner_id.commercial_partner_id.ids
                )
