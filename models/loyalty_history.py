from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    points_date = fields.Date(
        default=fields.Date.context_today,
        index=True,
        help="Day the points were earned or used. A credit expires a number of "
        "months after this day (tier points programs).",
    )
    points_expiration_date = fields.Date(
        string="Points Expire On",
        index=True,
        readonly=True,
        copy=False,
        help="Tier points programs: the part of this credit that is not used "
        "by then expires on this day (redemptions use the oldest points first).",
    )
    points_expiry_type = fields.Selection(
        [("expiry", "Expiry"), ("reversal", "Expiry Reversal")],
        readonly=True,
        copy=False,
        help="Expiry: points written off because they expired. Expiry "
        "reversal: expired points given back because the credit they came "
        "from was cancelled.",
    )
    points_expiry_done = fields.Boolean(
        readonly=True,
        copy=False,
        help="Technical: the expiry of this credit has been processed.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        months_by_card = self._tier_expiry_months_by_card(vals_list)
        for vals in vals_list:
            months = months_by_card.get(vals.get("card_id"))
            if (
                months
                and (vals.get("issued") or 0.0) > 0
                and not vals.get("points_expiry_type")
                and not vals.get("points_expiration_date")
            ):
                day = fields.Date.to_date(
                    vals.get("points_date")
                ) or fields.Date.context_today(self)
                vals["points_expiration_date"] = day + relativedelta(months=months)
        return super().create(vals_list)

    @api.model
    def _tier_expiry_months_by_card(self, vals_list):
        """Card id -> expiry months of its tier points program (0: none)."""
        card_ids = {vals["card_id"] for vals in vals_list if vals.get("card_id")}
        cards = self.env["loyalty.card"].sudo().browse(card_ids)
        return {
            card.id: card.program_id._tier_program().loyalty_expiry_months
            for card in cards
        }
