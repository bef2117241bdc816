from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from .customer_tier_bounds import MAX_MONTHS, check_bounds, model_label
from .customer_tier_field_guard import check_fields_not_written

# Technical fields of the points expiry: written by the module only (a user
# who sets them moves or cancels the expiry of points).
EXPIRY_FIELDS = {"points_expiration_date", "points_expiry_type", "points_expiry_done"}
# The latest day points may be dated: its expiry, up to MAX_MONTHS later, must
# still be a date (31 December 9999 at most). No order, invoice or manual
# line of a real database comes near; a typo (9999) gets a clear message
# instead of an overflow.
MAX_POINTS_DATE = date.max - relativedelta(months=MAX_MONTHS)


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
        check_fields_not_written(self, vals_list, EXPIRY_FIELDS, derived=False)
        months_by_card = self._tier_expiry_months_by_card(vals_list)
        for vals in vals_list:
            months = months_by_card.get(vals.get("card_id"))
            day = fields.Date.to_date(
                vals.get("points_date")
            ) or fields.Date.context_today(self)
            if (
                months
                and day <= MAX_POINTS_DATE
                and (vals.get("issued") or 0.0) > 0
                and not vals.get("points_expiry_type")
                and not vals.get("points_expiration_date")
            ):
                # (a later day is refused by _check_points_date)
                vals["points_expiration_date"] = day + relativedelta(months=months)
        return super().create(vals_list)

    def write(self, vals):
        check_fields_not_written(self, vals, EXPIRY_FIELDS, derived=False)
        return super().write(vals)

    @api.constrains("points_date")
    def _check_points_date(self):
        check_bounds(self, {"points_date": (None, MAX_POINTS_DATE)}, model_label)

    @api.model
    def _tier_expiry_months_by_card(self, vals_list):
        """Card id -> expiry months of its tier points program (0: none)."""
        card_ids = {vals["card_id"] for vals in vals_list if vals.get("card_id")}
        cards = self.env["loyalty.card"].sudo().browse(card_ids)
        return {
            card.id: card.program_id._tier_program().loyalty_expiry_months
            for card in cards
        }
