from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

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
