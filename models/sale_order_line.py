from odoo import api, fields, models
from odoo.exceptions import UserError


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
