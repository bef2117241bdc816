from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        Program = self.env["customer.tier.program"].sudo()
        for company in companies:
            Program._create_default_program(company)
        return companies
