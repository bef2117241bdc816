from odoo import api, fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    customer_tier_program_ids = fields.One2many(
        "customer.tier.program",
        "loyalty_program_id",
        string="Customer Tier Programs",
        groups="customer_tier.group_customer_tier_user",
    )
    is_tier_points_program = fields.Boolean(
        string="Tier Points Program",
        compute="_compute_is_tier_points_program",
        help="The company's tier program credits points through this program: "
        "points per unit of untaxed amount in company currency times the "
        "customer's tier multiplier, with expiry and rewards by tier.",
    )

    @api.depends_context("uid")
    def _compute_is_tier_points_program(self):
        linked = set(
            self.env["customer.tier.program"]
            .sudo()
            .with_context(active_test=False)
            .search([("loyalty_program_id", "in", self.ids)])
            .loyalty_program_id.ids
        )
        for program in self:
            program.is_tier_points_program = program.id in linked

    def _tier_program(self):
        """The customer tier program crediting points through this program
        (sudo, archived or not; empty when there is none)."""
        Program = (
            self.env["customer.tier.program"].sudo().with_context(active_test=False)
        )
        if not self:
            return Program
        self.ensure_one()
        return Program.search([("loyalty_program_id", "=", self.id)], limit=1)
