"""18.0.1.4.0: the predicted figures of a profile (``prob_alive``,
``expected_orders_12m``, ``expected_value_12m``) are no longer stored: they
are computed when read, at the profile's evaluation date, from stored inputs
that move only with the customer's orders (filled by ``post-migrate.py``)
and the program's latest fit. Their columns go; the expected value of the
profiles of programs ranking by predicted value is kept first as the value
the customer was ranked by (``ranking_value``, new), which a refresh ranks
against until the next full evaluation.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

TABLE = "customer_tier_profile"
DROPPED = ("prob_alive", "expected_orders_12m", "expected_value_12m")


def migrate(cr, version):
    if not version:
        return
    if column_exists(cr, TABLE, "expected_value_12m"):
        if not column_exists(cr, TABLE, "ranking_value"):
            create_column(cr, TABLE, "ranking_value", "numeric")
        cr.execute(
            SQL(
                """
                UPDATE customer_tier_profile prof
                   SET ranking_value = prof.expected_value_12m
                  FROM customer_tier_program prog
                 WHERE prog.id = prof.program_id
                   AND prog.value_basis = 'predicted'
                   AND NOT prof.is_prospect
                """
            )
        )
    for column in DROPPED:
        if column_exists(cr, TABLE, column):
            cr.execute(
                SQL(
                    "ALTER TABLE %s DROP COLUMN %s",
                    SQL.identifier(TABLE),
                    SQL.identifier(column),
                )
            )
