"""18.0.1.5.0: the ranking snapshot's entries are updated in place.

A full evaluation rewrites the rank, cumulative value and RFM counts
(``r_le``, ``f_le``, ``m_le``) of most entries every night, as the other
customers' figures shift them. The three RFM indexes carried the counts
(``INCLUDE``), so each of these updates wrote a new entry in all the
table's indexes. They are dropped here and created again without the
counts by the model's ``init()``, which also leaves half of each new page of
the table free (``fillfactor``): the nightly updates are then heap-only
(no index written). The pages written before keep their rows until the
table is rewritten (``VACUUM FULL``, at the administrator's choice); the
next full evaluations move the rows they update to pages with room.
"""

from odoo.tools import SQL

INDEXES = (
    "customer_tier_ranking_entry_last_index",
    "customer_tier_ranking_entry_orders_index",
    "customer_tier_ranking_entry_revenue_index",
)


def migrate(cr, version):
    if not version:
        return
    for name in INDEXES:
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
