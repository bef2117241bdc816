"""18.0.1.3.0: a full evaluation writes only the profiles whose values changed,
so no stored column of a profile may change every day.

* ``evaluation_date`` is no longer stored: it is computed from the program's
  last full evaluation, the profile's own (``full_evaluation_date``) and its
  last refresh, ``refresh_date``. The stored dates become the refresh dates:
  a stored evaluation date is at least the profile's full evaluation date,
  so the computed date of every profile is the stored one;
* ``recency_days`` is no longer stored: it is computed from the evaluation
  date and the last order date (the same number).

The figures are otherwise as stored; ``orders_write_date`` (new) stays empty
until the next full evaluation, which then computes every customer's product
preference again (the program's ``last_run_at`` is empty as well).
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, rename_column


def migrate(cr, version):
    if not version:
        return
    table = "customer_tier_profile"
    if column_exists(cr, table, "evaluation_date") and not column_exists(
        cr, table, "refresh_date"
    ):
        rename_column(cr, table, "evaluation_date", "refresh_date")
    if column_exists(cr, table, "recency_days"):
        cr.execute(
            SQL("ALTER TABLE %s DROP COLUMN recency_days", SQL.identifier(table))
        )
