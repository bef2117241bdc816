"""18.0.1.4.0: two groups of profile figures that moved for most customers
every day are no longer stored.

1. The rank and shares (``revenue_share``, ``cumulative_share``,
   ``pareto_rank``) move for most customers whenever one customer's revenue
   moves (the company total moves): a full evaluation rewrote nearly every
   profile for them. They are now read from the company's ranking snapshot
   (``customer_tier_ranking.py``), which holds the full evaluation's
   figures, and on each entry the figures a refresh or a later batch gave
   its profile (``shown_*``, new).

   Before the columns are dropped, every profile whose stored figures
   differ from what its snapshot gives keeps them on its entry (a profile
   refreshed since the last full evaluation), and a buying customer's
   profile with no entry gets one, not ranked, holding its stored figures:
   a database with a snapshot shows the same figures at once. A company
   with no snapshot yet (no full evaluation since 18.0.1.3.0) has no entry:
   each of its profiles gets one that holds its stored figures, and shows
   them until the next full evaluation (the nightly scheduled action)
   writes the snapshot; its refreshes meanwhile score against the profile
   table, as before.

2. The predicted figures (``prob_alive``, ``expected_orders_12m``,
   ``expected_value_12m``) age with the customer's history: they are now
   computed when read, at the profile's evaluation date, from stored inputs
   that move only with the customer's orders (filled by
   ``post-migrate.py``) and the program's latest fit. The expected value of
   the profiles of programs ranking by predicted value is kept first as the
   value the customer was ranked by (``ranking_value``, new), which a
   refresh ranks against until the next full evaluation.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, table_exists

from odoo.addons.customer_tier.models.customer_tier_ranking import (
    SHOWN,
    SHOWN_COLUMNS,
    snapshot_sql,
)

PROFILE = "customer_tier_profile"
ENTRY = "customer_tier_ranking_entry"
PREDICTED = ("prob_alive", "expected_orders_12m", "expected_value_12m")


def migrate(cr, version):
    if not version:
        return
    if all(column_exists(cr, PROFILE, c) for c in SHOWN):
        _keep_shares(cr)
        _drop(cr, SHOWN)
    if column_exists(cr, PROFILE, "expected_value_12m"):
        _keep_ranking_value(cr)
    _drop(cr, PREDICTED)


def _drop(cr, columns):
    for column in columns:
        if column_exists(cr, PROFILE, column):
            cr.execute(
                SQL(
                    "ALTER TABLE %s DROP COLUMN %s",
                    SQL.identifier(PROFILE),
                    SQL.identifier(column),
                )
            )


def _keep_shares(cr):
    """The stored rank and shares that the snapshot does not give, kept on
    the profiles' entries (1. above)."""
    if not table_exists(cr, ENTRY):
        return
    for fname, pg_type in zip(SHOWN, ("int4", "float8", "float8"), strict=True):
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s",
                SQL.identifier(ENTRY),
                SQL.identifier(SHOWN_COLUMNS[fname]),
                SQL(pg_type),
            )
        )
    stored = SQL(", ").join(
        SQL("COALESCE(%s, 0)", SQL.identifier("p", f)) for f in SHOWN
    )
    snapshot = SQL(", ").join(snapshot_sql(f) for f in SHOWN)
    cr.execute(
        SQL(
            """
            UPDATE customer_tier_ranking_entry e
               SET (shown_rank, shown_share, shown_cumulative) = (%(stored)s)
              FROM customer_tier_profile p
              LEFT JOIN customer_tier_ranking h ON h.company_id = p.company_id
             WHERE e.company_id = p.company_id AND e.partner_id = p.partner_id
               AND (%(stored)s) IS DISTINCT FROM (%(snapshot)s)
            """,
            stored=stored,
            snapshot=snapshot,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO customer_tier_ranking_entry
                (company_id, partner_id, member, moved, shown_rank,
                 shown_share, shown_cumulative)
            SELECT p.company_id, p.partner_id, FALSE, TRUE, %(stored)s
              FROM customer_tier_profile p
             WHERE NOT p.is_prospect
               AND (%(stored)s) IS DISTINCT FROM (0, 0, 0)
               AND NOT EXISTS (
                   SELECT 1 FROM customer_tier_ranking_entry e
                    WHERE e.company_id = p.company_id
                      AND e.partner_id = p.partner_id)
            """,
            stored=stored,
        )
    )


def _keep_ranking_value(cr):
    """The expected value of the profiles of programs ranking by predicted
    value, kept as the value they were ranked by (2. above)."""
    if not column_exists(cr, PROFILE, "ranking_value"):
        create_column(cr, PROFILE, "ranking_value", "numeric")
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
