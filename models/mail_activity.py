from markupsafe import Markup

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

    def _action_done(self, feedback=False, attachment_ids=None):
        """A reorder check carries the customer's figures (revenue, orders,
        RFM scores, churn probability). Marked as done, Odoo copies its summary
        and note into a message on the partner, which every internal user of
        every company reads: log them on the tier profile instead (its record
        rules apply to its messages), and leave on the partner the activity
        type and the feedback only."""
        checks = self.filtered(
            lambda a: (
                a.customer_tier_activity == "reorder" and a.customer_tier_profile_id
            )
        )
        if checks:
            subtype = self.env.ref("mail.mt_note")
            self.env["mail.message"].sudo().create(
                [
                    {
                        "model": "customer.tier.profile",
                        "res_id": check.customer_tier_profile_id.id,
                        "message_type": "notification",
                        "subtype_id": subtype.id,
                        "author_id": self.env.user.partner_id.id,
                        "body": Markup("<p>%s</p>%s")
                        % (
                            self.env._(
                                "%(summary)s: done by %(user)s.",
                                summary=check.summary or check.activity_type_id.name,
                                user=self.env.user.name,
                            ),
                            check.note or "",
                        ),
                    }
                    for check in checks
                ]
            )
            checks.sudo().write({"summary": False, "note": False})
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
