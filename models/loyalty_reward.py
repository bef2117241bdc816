from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LoyaltyReward(models.Model):
    _inherit = "loyalty.reward"

    customer_tier_ids = fields.Many2many(
        "customer.tier",
        string="Customer Tiers",
        domain="[('kind', '=', 'customer'), ('company_id', '=', company_id)]",
        help="Tier points programs: only customers of these tiers may redeem "
        "this reward. Empty: every tier that may redeem points.",
    )
    tier_reward_type = fields.Selection(
        [
            ("gift", "Free goods"),
            ("freight", "Freight share"),
            ("sample_fee", "Sample and courier fee waiver"),
        ],
        help="What the reward stands for in the tier points scheme. The "
        "products of a sample and courier fee waiver follow the sample fee "
        "products of the tier program.",
    )
    is_tier_points_program = fields.Boolean(related="program_id.is_tier_points_program")

    @api.constrains("customer_tier_ids", "program_id")
    def _check_customer_tiers(self):
        for reward in self:
            company = reward.company_id
            wrong = reward.customer_tier_ids.filtered(
                lambda t, company=company: (
                    t.kind != "customer" or t.company_id != company
                )
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "Reward %(reward)s: %(tiers)s are not customer tiers of "
                        "the program's company.",
                        reward=reward.description,
                        tiers=", ".join(wrong.mapped("display_name")),
                    )
                )
