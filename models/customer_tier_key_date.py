import calendar
from datetime import date, timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .customer_tier_bounds import MIN_KEY_DATE, check_bounds, max_business_date

KEY_DATE_KINDS = [
    ("birthday", "Birthday"),
    ("anniversary", "Company Anniversary"),
    ("other", "Other"),
]


def occurrence_in_year(key_date, year):
    """The day ``key_date`` recurs on in ``year``.

    29 February recurs on 28 February in years that are not leap years, so the
    reminder still comes in the right month and before the day itself.
    """
    if key_date.month == 2 and key_date.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return key_date.replace(year=year)


def next_occurrence(key_date, today):
    """First yearly occurrence of ``key_date`` on or after ``today`` (never
    before ``key_date`` itself)."""
    occurrence = occurrence_in_year(key_date, today.year)
    if occurrence < today:
        occurrence = occurrence_in_year(key_date, today.year + 1)
    return max(occurrence, key_date)


def reminder_due(key_date, reminded_date, today, remind_days):
    """The occurrence of ``key_date`` to remind of on ``today``, or None.

    A reminder is due from ``remind_days`` before the next occurrence up to the
    occurrence itself, once per occurrence (``reminded_date`` is the
    occurrence reminded last).
    """
    occurrence = next_occurrence(key_date, today)
    if occurrence - timedelta(days=remind_days) > today:
        return None
    if reminded_date and reminded_date >= occurrence:
        return None
    return occurrence


class CustomerTierKeyDate(models.Model):
    """A yearly date of a key contact that deserves a personal touch.

    The daily follow-up run schedules one reminder activity per occurrence,
    ``key_date_remind_days`` (tier program) before it, with the occurrence as
    deadline. 29 February recurs on 28 February in non-leap years.
    """

    _name = "customer.tier.key.date"
    _inherit = ["customer.tier.owned.line"]
    _description = "Key Date of a Key Contact"
    _owner_field = "profile_id"
    # set by the key-date reminders of the follow-up run only
    _unwritable_fields = ("reminded_date",)
    _check_company_auto = True
    _order = "profile_id, date_month, date_day, id"

    profile_id = fields.Many2one(
        "customer.tier.profile",
        string="Tier Profile",
        required=True,
        ondelete="cascade",
        index=True,
    )
    partner_id = fields.Many2one(
        related="profile_id.partner_id", string="Customer", store=True, index=True
    )
    company_id = fields.Many2one(
        related="profile_id.company_id", store=True, precompute=True, index=True
    )
    user_id = fields.Many2one(related="profile_id.user_id", string="Salesperson")
    contact_id = fields.Many2one(
        "res.partner",
        required=True,
        domain="[('commercial_partner_id', '=', partner_id)]",
        help="The customer itself (company anniversary) or one of its contacts.",
    )
    kind = fields.Selection(KEY_DATE_KINDS, required=True, default="birthday")
    name = fields.Char(
        string="Label", help="What the date is, e.g. founding day, wedding day."
    )
    date = fields.Date(required=True, help="The original date; it recurs yearly.")
    date_month = fields.Integer(
        compute="_compute_date_parts", store=True, aggregator=None
    )
    date_day = fields.Integer(
        compute="_compute_date_parts", store=True, aggregator=None
    )
    next_date = fields.Date(
        string="Next Occurrence",
        compute="_compute_next_date",
        help="Next yearly occurrence (29 February: 28 February in non-leap years).",
    )
    reminded_date = fields.Date(
        string="Last Reminded Occurrence",
        readonly=True,
        copy=False,
        help="Occurrence the last reminder activity was scheduled for.",
    )
    note = fields.Char()

    @api.depends("date")
    def _compute_date_parts(self):
        for key_date in self:
            key_date.date_month = key_date.date.month if key_date.date else 0
            key_date.date_day = key_date.date.day if key_date.date else 0

    @api.depends("date")
    @api.depends_context("tz")
    def _compute_next_date(self):
        today = fields.Date.context_today(self)
        for key_date in self:
            key_date.next_date = (
                next_occurrence(key_date.date, today) if key_date.date else False
            )

    @api.depends("kind", "name", "contact_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for key_date in self:
            label = key_date.name or kinds.get(key_date.kind) or ""
            key_date.display_name = (
                f"{label} - {key_date.contact_id.name}"
                if key_date.contact_id
                else label
            )

    @api.constrains("date")
    def _check_date_bounds(self):
        check_bounds(self, {"date": (MIN_KEY_DATE, max_business_date(self))})

    @api.constrains("contact_id", "profile_id")
    def _check_contact(self):
        for key_date in self:
            partner = key_date.profile_id.partner_id
            if key_date.contact_id.commercial_partner_id != partner:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is not a contact of %(customer)s.",
                        contact=key_date.contact_id.display_name,
                        customer=partner.display_name,
                    )
                )
