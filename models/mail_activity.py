from odoo import fields, models

TIER_ACTIVITY_KINDS = [
    ("followup", "Tier follow-up"),
    ("reorder", "Reorder check"),
    ("key_date", "Key date reminder"),
    ("plan", "Tier entry plan"),
]


class MailActivity(models.Model):
    _inherit = "mail.activity"

    customer_tier_profile_id = fields.Many2one(
        "customer.tier.profile",
        string="Tier Profile",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="Tier profile whose follow-up cadence, reorder alert or key date "
        "scheduled this activity.",
    )
    customer_tier_activity = fields.Selection(
        TIER_ACTIVITY_KINDS,
        string="Tier Activity",
        readonly=True,
        help="Why the tier program scheduled this activity; the daily run "
        "reuses an open follow-up instead of scheduling another.",
    )
    customer_tier_key_date_id = fields.Many2one(
        "customer.tier.key.date",
        string="Key Date",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
    )
    customer_tier_id = fields.Many2one(
        related="customer_tier_profile_id.tier_id", string="Customer Tier"
    )
