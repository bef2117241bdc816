"""Bounds of the numbers and dates users type in this module.

Each bound is defined once here and checked where the value is entered (a
constraint of the program, the tiers, the partner inputs, the key dates and
the wizards), so that an extreme value gets a clear message instead of
breaking order confirmation, the recompute, the follow-ups or the workbook
later (a 100,000-month window, an evaluation date in year 1 or 9999, a
horizon of 100 million days all overflow Python's dates).
"""

from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tools import format_date, formatLang

# Business dates (evaluation dates, workbook periods): from 2000 (no order of
# an export company's Odoo database is older, and the XLSX date cells need
# dates after 1900) to a year ahead (a forecast of next year's tiers).
MIN_DATE = date(2000, 1, 1)
DATE_AHEAD = relativedelta(years=1)
# Key dates (birthdays, founding days of long-established customers).
MIN_KEY_DATE = date(1800, 1, 1)
# A manual override ends within ten years (no end date: no end).
OVERRIDE_AHEAD = relativedelta(years=10)
# Periods in months (evaluation window, points expiry): ten years.
MAX_MONTHS = 120
# Day counts of conditions and cadences (recency, follow-up interval,
# downgrade grace): ten years.
MAX_DAYS = 3660
# Look-ahead and notice periods (follow-ups ahead, key-date reminders, points
# expiring soon, reorders upcoming): one year.
MAX_NOTICE_DAYS = 366
# Amounts in any currency: a trillion, the largest power of ten Odoo rounds
# to the cent exactly (1e13 is stored as 10000000000000.01).
MAX_AMOUNT = 1e12
# Counts of orders or customers.
MAX_COUNT = 1_000_000
# Records written per batch of a scheduled run.
MAX_BATCH_SIZE = 100_000
# Orders per year of a frequent buyer: at most one a day.
MAX_ORDERS_PER_YEAR = 365
# Multipliers and factors (points, overdue reorders).
MAX_FACTOR = 100
# Percentages, scores and score weights.
MAX_PERCENT = 100


def max_business_date(record):
    """The latest business date a user may enter (today + one year)."""
    return fields.Date.context_today(record) + DATE_AHEAD


def model_label(record):
    """Label of a record without a name of its own (wizards): its model's
    description, in the user's language."""
    return record.env["ir.model"].sudo()._get(record._name).name


def format_bound(env, value):
    """A bound or value as shown in a message (localised)."""
    if isinstance(value, date):
        return format_date(env, value)
    digits = 0 if float(value).is_integer() else 2
    return formatLang(env, value, digits=digits)


def check_bounds(records, bounds, label=None):
    """Raise a ``ValidationError`` naming the first value of ``records`` that
    lies outside its bounds.

    ``bounds``: field name -> ``(low, high)``, inclusive (numbers, or dates
    for date fields; empty dates are not checked). ``low`` is ``None`` where
    an older constraint of the field already refuses the values below it,
    with its own message. ``label``: record -> the name shown in the message
    (default: its display name).
    """
    for record in records:
        for name, (low, high) in bounds.items():
            value = record[name]
            if value is False or value is None:
                continue
            if (low is None or low <= value) and value <= high:
                continue
            env = record.env
            values = {
                "record": label(record) if label else record.display_name,
                "field": record._fields[name]._description_string(env),
                "high": format_bound(env, high),
            }
            if low is None:
                raise ValidationError(
                    env._("%(record)s: %(field)s can be at most %(high)s.", **values)
                )
            raise ValidationError(
                env._(
                    "%(record)s: %(field)s must lie between %(low)s and %(high)s.",
                    low=format_bound(env, low),
                    **values,
                )
            )
