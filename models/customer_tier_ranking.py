"""The ranking snapshot of a company: what a refresh scores one customer against.

A full evaluation ranks every buying customer (Pareto rank and cumulative
share, RFM cume_dist: module docstring of ``customer_tier_engine``). A
refresh of a few customers (an order confirmed) scores them against the
stored figures of the others, which keep them until the next full
evaluation. Reading the others from the profile table costs what the company
has customers; the snapshot makes it a bounded lookup:

* ``customer.tier.ranking``: one per company, written by the full
  evaluation: its date, the figure customers were ranked by
  (``value_key``), how many buying customers were ranked and their total
  (exact, and as the evaluation summed it in floating point), the revenue
  to outrank per tier (Pareto), and the state of a batched evaluation
  (``batching`` until its last batch, with the last partner written);
* ``customer.tier.ranking.entry``: one per ranked customer (``member``):
  its ranking value, rank and cumulative value (exact and floating point),
  its last order date, orders and revenue in the window, each with the
  number of ranked customers whose figure is at most as good (``*_le``),
  and its computed tier. Indexes on each order make "the ranked customer
  just above this value" one index seek. The figures that shift with the
  others' (rank, cumulative value, ``*_le``) are in no index: a full
  evaluation updates them in place (heap-only updates).

Exact meaning. The figures a refresh reads for the others are, as before,
their stored profiles: the snapshot stands for them. An entry is ``moved``
once the engine wrote its profile with other ranking figures than the
snapshot's (a refresh, a later batch of a batched evaluation; a customer
with no entry gets one, not a member, moved); the others' profiles hold the
snapshot's figures. A refresh reads the snapshot at the customer's values
(index seeks) and corrects it with the moved entries, read with their
current profile: the result is the figures the whole profile table gives,
in a number of queries and rows bounded by the moved customers (those
refreshed since the last full evaluation), not by the company's customers.

A refresh or a later batch also stores, on the entries of the profiles it
wrote, the rank and shares it scored them with where the snapshot's figures
differ (``shown_*``; the snapshot's own figures stay as they are, for the
others' refreshes): the profile shows what its refresh computed, the others
what the full evaluation did, as when the profiles stored them.

The next full evaluation rewrites the snapshot (and clears the moves and the
``shown_*`` figures). A
batched evaluation writes it in its first call, from every customer's
figures, and its later calls read the scores of their batch from it
(:meth:`TierEngine._plan_continue`); until the last batch is written the
snapshot stands for the evaluation in progress: a refresh meanwhile scores
against the figures of the day, not against the profiles not written yet.
"""

from bisect import bisect_right
from decimal import Decimal
from itertools import chain, islice

from psycopg2.extras import Json

from odoo import fields, models, tools
from odoo.tools import SQL

from .customer_tier_engine import array_literal, decimal, unnest_arrays

# Entries of the ranking snapshot written per statement by a full evaluation
# (Ranking.store): its memory and statements are bounded by it.
STORE_CHUNK = 10000
# The columns of an entry Ranking.store writes (the row of Ranking.entries,
# then ``member``), their types, and those compared with the stored entry.
ENTRY_COLUMNS = (
    "partner_id",
    "value",
    "rank",
    "cum",
    "cum_float",
    "last_order_date",
    "r_le",
    "order_count",
    "f_le",
    "revenue",
    "m_le",
    "computed_tier_id",
    "member",
)
ENTRY_TYPES = (
    "int4",
    "numeric",
    "int4",
    "numeric",
    "float8",
    "date",
    "int4",
    "int4",
    "int4",
    "numeric",
    "int4",
    "int4",
    "bool",
)
COMPARED = (*ENTRY_COLUMNS[1:], "moved")


class CustomerTierRanking(models.Model):
    _name = "customer.tier.ranking"
    _description = "Customer Tier Ranking Snapshot"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, ondelete="cascade"
    )
    program_id = fields.Many2one(
        "customer.tier.program", readonly=True, ondelete="cascade"
    )
    eval_date = fields.Date(string="Evaluation Date", readonly=True)
    value_key = fields.Char(string="Ranked By", readonly=True)
    member_count = fields.Integer(string="Ranked Customers", readonly=True)
    total = fields.Float(string="Total Value", digits=(32, 6), readonly=True)
    total_float = fields.Float(string="Total Value (as summed)", readonly=True)
    keep_at = fields.Json(string="Revenue to Outrank", readonly=True)
    state = fields.Selection(
        [("batching", "Batched Evaluation in Progress"), ("done", "Done")],
        readonly=True,
    )
    run_key = fields.Char(string="Run", readonly=True)
    cursor = fields.Integer(readonly=True, help="Last partner written.")
    pending_count = fields.Integer(
        string="Left to Write",
        readonly=True,
        help="Partners the batched evaluation has still to write: as its first "
        "call counted them, less the batches written since.",
    )

    _sql_constraints = [
        ("company_uniq", "unique(company_id)", "One ranking snapshot per company.")
    ]

    def _ranking(self, engine):
        """The SQL of the snapshot of ``engine``'s company."""
        return Ranking(engine)


# Percentage of each page of the entries a new row fills (the rest: room for
# the next full evaluation's heap-only updates, CustomerTierRankingEntry.init).
FILLFACTOR = 50


class CustomerTierRankingEntry(models.Model):
    _name = "customer.tier.ranking.entry"
    _description = "Customer Tier Ranking Snapshot Entry"
    _log_access = False

    # (plain ids: the full evaluation inserts one row per customer, and
    # foreign keys would check each)
    company_id = fields.Integer(string="Company ID", required=True)
    partner_id = fields.Integer(string="Partner ID", required=True)
    member = fields.Boolean(string="Ranked")
    moved = fields.Boolean(string="Moved Since")
    value = fields.Float(string="Ranking Value", digits=(32, 6))
    rank = fields.Integer()
    cum = fields.Float(string="Cumulative Value", digits=(32, 6))
    cum_float = fields.Float(string="Cumulative Value (as summed)")
    last_order_date = fields.Date()
    r_le = fields.Integer(string="Ranked at Most as Recent")
    order_count = fields.Integer(string="Orders (window)")
    f_le = fields.Integer(string="Ranked with at Most as Many Orders")
    revenue = fields.Float(string="Revenue (window)", digits=(32, 6))
    m_le = fields.Integer(string="Ranked with at Most as Much Revenue")
    computed_tier_id = fields.Integer(string="Computed Tier ID")
    # (empty: the snapshot's figures; set by a refresh or a later batch that
    # scored the profile otherwise: shown_sql)
    shown_rank = fields.Integer(string="Rank Shown")
    shown_share = fields.Float(string="Revenue Share Shown")
    shown_cumulative = fields.Float(string="Cumulative Share Shown")

    _sql_constraints = [
        (
            "company_partner_uniq",
            "unique(company_id, partner_id)",
            "One ranking entry per customer and company.",
        )
    ]

    def init(self):
        cr, table = self.env.cr, self._table
        # A full evaluation rewrites the rank, cumulative value and ``*_le``
        # counts of most entries (a new order or an order leaving the window
        # shifts the others'): they are in no index, and half of each page
        # is left free, so that these updates are heap-only (no index
        # written, the new version on the same page).
        cr.execute(
            SQL(
                "ALTER TABLE %s SET (fillfactor = %s)",
                SQL.identifier(table),
                FILLFACTOR,
            )
        )
        # ranking order (value desc, partner id): "the customer just above"
        # is one backward seek on a row comparison
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS customer_tier_ranking_entry_rank_index "
                "ON %s (company_id, (-value), partner_id) WHERE member",
                SQL.identifier(table),
            )
        )
        for name, column in (
            ("last", "last_order_date"),
            ("orders", "order_count"),
            ("revenue", "revenue"),
        ):
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON %s (company_id, %s) WHERE member",
                    SQL.identifier(f"customer_tier_ranking_entry_{name}_index"),
                    SQL.identifier(table),
                    SQL.identifier(column),
                )
            )
        tools.create_index(
            cr,
            "customer_tier_ranking_entry_tier_index",
            table,
            ["company_id", "computed_tier_id", "revenue"],
            where="member",
        )
        tools.create_index(
            cr,
            "customer_tier_ranking_entry_moved_index",
            table,
            ["company_id"],
            where="moved",
        )


# The Pareto figures a profile shows (customer.tier.profile), from the entry
# ``e`` of its customer and the header ``h`` of its company.
SHOWN = ("pareto_rank", "revenue_share", "cumulative_share")


def snapshot_sql(fname, entry="e", head="h"):
    """SQL: the snapshot's own figure ``fname`` (of :data:`SHOWN`) of the
    entry ``entry``: a member's rank, its ranking value and its cumulative
    value (as summed) over the total (as summed), as
    ``TierEngine._score_full`` computed them; 0 for a customer not ranked or
    a total of 0."""
    member = SQL.identifier(entry, "member")
    if fname == "pareto_rank":
        return SQL(
            "CASE WHEN %s THEN %s ELSE 0 END", member, SQL.identifier(entry, "rank")
        )
    total = SQL.identifier(head, "total_float")
    value = (
        SQL("%s::float8", SQL.identifier(entry, "value"))
        if fname == "revenue_share"
        else SQL.identifier(entry, "cum_float")
    )
    return SQL(
        "CASE WHEN %s AND %s <> 0 THEN %s / %s ELSE 0 END", member, total, value, total
    )


SHOWN_COLUMNS = {
    "pareto_rank": "shown_rank",
    "revenue_share": "shown_share",
    "cumulative_share": "shown_cumulative",
}


def shown_sql(fname, company, partner):
    """SQL: the figure ``fname`` (of :data:`SHOWN`) of the profile of the
    customer ``partner`` in the company ``company`` (SQL expressions): its
    entry's ``shown_*`` figure where set, else the snapshot's own
    (:func:`snapshot_sql`); 0 without an entry. One index seek on the
    entries, one on the headers."""
    return SQL(
        """COALESCE((SELECT COALESCE(e.%s, %s)
                       FROM customer_tier_ranking_entry e
                       LEFT JOIN customer_tier_ranking h ON h.company_id = e.company_id
                      WHERE e.company_id = %s AND e.partner_id = %s), 0)""",
        SQL.identifier(SHOWN_COLUMNS[fname]),
        snapshot_sql(fname),
        company,
        partner,
    )


def invalidate_shown(env):
    """Forget the cached figures of :data:`SHOWN` (the snapshot changed)."""
    env["customer.tier.profile"].invalidate_model(list(SHOWN))
    env["res.partner"].invalidate_model(["tier_revenue_share", "tier_cumulative_share"])


def exact(text):
    """A numeric read as text (None stays None)."""
    return None if text is None else Decimal(text)


class Ranking:
    """The SQL of the snapshot of one engine's company (pure helpers: the
    engine decides when to read and write)."""

    HEAD = (
        "id",
        "eval_date",
        "value_key",
        "member_count",
        "total",
        "total_float",
        "keep_at",
        "state",
        "run_key",
        "cursor",
        "pending_count",
    )

    def __init__(self, engine):
        self.engine = engine
        self.env = engine.env
        self.company_id = engine.company.id

    def head(self):
        """The company's snapshot header as a dict, or None."""
        # (numeric as text: exact, where Odoo reads numeric as float)
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM customer_tier_ranking WHERE company_id = %s",
                SQL(", ").join(
                    SQL("%s::text", SQL.identifier(c))
                    if c == "total"
                    else SQL.identifier(c)
                    for c in self.HEAD
                ),
                self.company_id,
            )
        )
        if not rows:
            return None
        head = dict(zip(self.HEAD, rows[0], strict=True))
        head["total"] = exact(head["total"])
        return head

    # ------------------------------------------------------------------
    # Write (full evaluation)
    # ------------------------------------------------------------------
    @staticmethod
    def entries(figures, key):
        """The entries of ``figures`` scored by ``_score_full`` (pareto_rank
        set), one row at a time in rank order (a generator): partner id,
        ranking value (``fig[key]``, None as 0), rank, cumulative value
        exact (Decimal, :func:`decimal` of each value) and as summed in
        floating point, last order date, orders and revenue in the window,
        each followed by the number of ranked customers whose figure is at
        most as good, and the computed tier. The last row's cumulative
        values are the totals."""
        ordered = sorted(figures, key=lambda pid: figures[pid]["pareto_rank"])
        lasts = sorted(f["last_order_date"] for f in figures.values())
        counts = sorted(f["order_count_window"] for f in figures.values())
        # (floats order as the decimals they are written as)
        revenues = sorted(f["revenue_window"] for f in figures.values())
        running = 0.0
        exact = decimal(0)
        for pid in ordered:
            fig = figures[pid]
            value = fig[key] or 0.0
            running += value
            exact += decimal(value)
            revenue = fig["revenue_window"]
            yield (
                pid,
                value,
                fig["pareto_rank"],
                exact,
                running,
                fig["last_order_date"],
                bisect_right(lasts, fig["last_order_date"]),
                fig["order_count_window"],
                bisect_right(counts, fig["order_count_window"]),
                revenue,
                bisect_right(revenues, revenue),
                fig.get("computed_tier_id"),
            )

    def store(self, figures, head_values, others=()):
        """Replace the company's snapshot with the entries of ``figures`` and
        of ``others`` (partners of the evaluation without figures, not
        members) and the header ``head_values``, in statements of at most
        :data:`STORE_CHUNK` entries each (one for a company of at most as
        many): the entries upserted where they differ (a rerun that changes
        nothing writes nothing), the members in rank order then the others;
        the moves and ``shown_*`` figures cleared. Each statement also
        deletes the entries of partners no longer there within one range of
        partner ids (the kept partners sorted, cut in as many slices: the
        ranges cover every partner id), and the last one upserts the header
        with the totals of the members (their count, the last cumulative
        values). The memory and the size of each statement are bounded by
        the chunk, not by the company."""
        key = head_values["value_key"]
        kept = sorted(chain(figures, others))
        members = ((*row, True) for row in self.entries(figures, key))
        # (the prospects of the evaluation: no figures, not members)
        rest = ((pid, *(None,) * 11, False) for pid in sorted(others))
        rows = chain(members, rest)
        count = len(figures)
        totals = (count, decimal(0), 0.0)
        slices = max(1, -(-len(kept) // STORE_CHUNK))
        for index in range(slices):
            chunk = list(islice(rows, STORE_CHUNK))
            # (the totals: the last member's cumulative values)
            for row in chunk:
                if row[-1]:
                    totals = (count, row[3], row[4])
            start, stop = index * STORE_CHUNK, (index + 1) * STORE_CHUNK
            lower = kept[start - 1] if index else None
            upper = kept[stop - 1] if index < slices - 1 else None
            last = index == slices - 1
            self._store_chunk(
                chunk,
                kept[start:stop],
                (lower, upper),
                self._head_upsert(head_values, totals) if last else None,
            )
            del chunk
        self.env["customer.tier.ranking"].invalidate_model()
        invalidate_shown(self.env)

    def _head_upsert(self, head_values, totals):
        """SQL: the upsert of the snapshot header ``head_values`` with the
        members' ``(count, exact total, float total)``."""
        count, exact_total, running = totals
        values = dict(
            head_values,
            member_count=count,
            total=exact_total,
            total_float=running,
        )
        head_names = ["company_id", "program_id", *values]
        return SQL(
            """
            INSERT INTO customer_tier_ranking (%(head_names)s, create_uid,
                create_date, write_uid, write_date)
            VALUES (%(head_values)s, %(uid)s, now() at time zone 'UTC',
                    %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (company_id) DO UPDATE SET %(head_updates)s,
                write_uid = EXCLUDED.write_uid,
                write_date = EXCLUDED.write_date
            """,
            head_names=SQL(", ").join(SQL.identifier(n) for n in head_names),
            head_values=SQL(", ").join(
                [
                    SQL("%s", self.company_id),
                    SQL("%s", self.engine.program.id),
                ]
                + [SQL("%s", self._param(n, v)) for n, v in values.items()]
            ),
            uid=self.env.uid,
            head_updates=SQL(", ").join(
                SQL("%s = EXCLUDED.%s", SQL.identifier(n), SQL.identifier(n))
                for n in head_names[1:]
            ),
        )

    def _store_chunk(self, rows, kept, bounds, head):
        """One statement of :meth:`store`: upsert the entry ``rows`` where
        they differ, delete the entries whose partner id is within
        ``bounds`` (``(lower, upper)``: above ``lower``, at most ``upper``,
        None for no bound) but not in ``kept``, and run the header upsert
        ``head`` (SQL) if any."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * 13
        lower, upper = bounds
        within = SQL(" AND ").join(
            [SQL("company_id = %s", self.company_id)]
            + ([SQL("partner_id > %s", lower)] if lower is not None else [])
            + ([SQL("partner_id <= %s", upper)] if upper is not None else [])
        )
        self.env.cr.execute(
            SQL(
                """
                WITH %(head)s gone AS (
                    DELETE FROM customer_tier_ranking_entry
                     WHERE %(within)s
                       AND partner_id <> ALL(%(pids)s::int4[])
                )
                INSERT INTO customer_tier_ranking_entry
                    (company_id, moved, %(names)s)
                SELECT %(company)s, FALSE, v.*
                  FROM unnest(%(arrays)s) AS v
                ON CONFLICT (company_id, partner_id) DO UPDATE
                   SET %(updates)s, shown_rank = NULL, shown_share = NULL,
                       shown_cumulative = NULL
                 WHERE (%(old)s) IS DISTINCT FROM (%(new)s)
                    OR customer_tier_ranking_entry.shown_rank IS NOT NULL
                """,
                head=SQL("head AS (%s),", head) if head is not None else SQL(),
                within=within,
                pids=array_literal(kept, "int4"),
                company=self.company_id,
                names=SQL(", ").join(SQL.identifier(n) for n in ENTRY_COLUMNS),
                arrays=unnest_arrays(columns, ENTRY_TYPES),
                updates=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", SQL.identifier(n), SQL.identifier(n))
                    for n in COMPARED
                ),
                old=SQL(", ").join(
                    SQL.identifier("customer_tier_ranking_entry", n) for n in COMPARED
                ),
                new=SQL(", ").join(
                    SQL("EXCLUDED.%s", SQL.identifier(n)) for n in COMPARED
                ),
            ),
            log_exceptions=False,
        )

    @staticmethod
    def _param(name, value):
        if name == "keep_at":
            return Json({str(k): v for k, v in (value or {}).items()})
        return value

    def update_head(self, **values):
        self.env.cr.execute(
            SQL(
                "UPDATE customer_tier_ranking SET %s WHERE company_id = %s",
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(n), v) for n, v in values.items()
                ),
                self.company_id,
            ),
            log_exceptions=False,
        )

    # ------------------------------------------------------------------
    # Moves (refresh, later batches)
    # ------------------------------------------------------------------
    def track(self, rows, key):
        """Mark moved the entries of ``rows`` (profile values just written)
        whose ranking figures differ from the snapshot's; a buying customer
        with no entry gets one (moved, not a member). Store on each entry of
        ``rows`` the rank and shares the row holds where they differ from the
        snapshot's own (``shown_*``, cleared where they are the same), so
        that the profile shows them. One statement, one index seek per
        row."""
        if not rows:
            return
        pids, counted, values, lasts, counts, revenues, tiers = ([] for _i in range(7))
        shown = {fname: [] for fname in SHOWN}
        for row in rows:
            buying = not row.get("is_prospect")
            pids.append(row["partner_id"])
            counted.append(buying)
            values.append((row.get(key) or 0.0) if buying else None)
            lasts.append(row.get("last_order_date") if buying else None)
            counts.append(row.get("order_count_window") if buying else None)
            revenues.append(row.get("revenue_window") if buying else None)
            tiers.append(row.get("computed_tier_id") if buying else None)
            for fname in SHOWN:
                shown[fname].append((row.get(fname) or 0) if buying else 0)
        # the row's figures, where the snapshot's own differ
        own = SQL("(%s, %s, %s)", *(SQL.identifier("v", fname) for fname in SHOWN))
        snapshot = SQL("(%s)", SQL(", ").join(snapshot_sql(f) for f in SHOWN))
        self.env.cr.execute(
            SQL(
                """
                WITH v AS (
                    SELECT * FROM unnest(%(arrays)s)
                        AS v(pid, counted, val, last, cnt, rev, tier,
                             pareto_rank, revenue_share, cumulative_share)
                ), j AS (
                    SELECT e.id, e.moved OR %(differs)s AS moved,
                           CASE WHEN %(own)s IS DISTINCT FROM %(snapshot)s
                                THEN v.pareto_rank END AS rank,
                           CASE WHEN %(own)s IS DISTINCT FROM %(snapshot)s
                                THEN v.revenue_share END AS share,
                           CASE WHEN %(own)s IS DISTINCT FROM %(snapshot)s
                                THEN v.cumulative_share END AS cumulative
                      FROM v
                      JOIN customer_tier_ranking_entry e
                        ON e.company_id = %(company)s AND e.partner_id = v.pid
                      LEFT JOIN customer_tier_ranking h
                        ON h.company_id = %(company)s
                ), moved AS (
                    UPDATE customer_tier_ranking_entry e
                       SET moved = j.moved, shown_rank = j.rank,
                           shown_share = j.share, shown_cumulative = j.cumulative
                      FROM j
                     WHERE e.id = j.id
                       AND (e.moved, e.shown_rank, e.shown_share,
                            e.shown_cumulative)
                           IS DISTINCT FROM (j.moved, j.rank, j.share, j.cumulative)
                )
                INSERT INTO customer_tier_ranking_entry
                    (company_id, partner_id, member, moved, shown_rank,
                     shown_share, shown_cumulative)
                SELECT %(company)s, v.pid, FALSE, TRUE, v.pareto_rank,
                       v.revenue_share, v.cumulative_share
                  FROM v
                 WHERE v.counted
                   AND NOT EXISTS (
                       SELECT 1 FROM customer_tier_ranking_entry e
                        WHERE e.company_id = %(company)s AND e.partner_id = v.pid)
                """,
                arrays=unnest_arrays(
                    [
                        pids,
                        counted,
                        values,
                        lasts,
                        counts,
                        revenues,
                        tiers,
                        *shown.values(),
                    ],
                    (
                        "int4",
                        "bool",
                        "numeric",
                        "date",
                        "int4",
                        "numeric",
                        "int4",
                        "int4",
                        "float8",
                        "float8",
                    ),
                ),
                differs=SQL(
                    "(e.member, e.value, e.last_order_date, e.order_count, "
                    "e.revenue, e.computed_tier_id) IS DISTINCT FROM "
                    "(v.counted, v.val, v.last, v.cnt, v.rev, v.tier)"
                ),
                own=own,
                snapshot=snapshot,
                company=self.company_id,
            ),
            log_exceptions=False,
        )
        invalidate_shown(self.env)

    # ------------------------------------------------------------------
    # Read (refresh, later batches)
    # ------------------------------------------------------------------
    def moved(self, partner_ids, key):
        """The moved entries and those of ``partner_ids``: partner id ->
        dict of the snapshot's figures (``member``...) and the current
        profile's (``cur_*``, ``counted``)."""
        names = (
            "partner_id",
            "member",
            "moved",
            "value",
            "last",
            "cnt",
            "rev",
            "tier",
            "rank",
            "cum_float",
            "r_le",
            "f_le",
            "m_le",
            "counted",
            "cur_value",
            "cur_last",
            "cur_cnt",
            "cur_rev",
            "cur_tier",
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT e.partner_id, e.member, e.moved, e.value::text,
                       e.last_order_date, e.order_count, e.revenue::text,
                       e.computed_tier_id, e.rank, e.cum_float, e.r_le, e.f_le,
                       e.m_le, COALESCE(NOT p.is_prospect, FALSE),
                       COALESCE(p.%(key)s, 0)::text, p.last_order_date,
                       p.order_count_window, p.revenue_window::text,
                       p.computed_tier_id
                  FROM customer_tier_ranking_entry e
                  LEFT JOIN customer_tier_profile p
                    ON p.partner_id = e.partner_id AND p.company_id = e.company_id
                 WHERE e.company_id = %(company)s
                   AND (e.moved OR e.partner_id = ANY(%(pids)s))
                """,
                key=SQL.identifier(key),
                company=self.company_id,
                pids=list(partner_ids),
            )
        )
        result = {}
        for row in rows:
            entry = dict(zip(names, row, strict=True))
            for name in ("value", "rev", "cur_value", "cur_rev"):
                entry[name] = exact(entry[name])
            result[row[0]] = entry
        return result

    def seek(self, targets):
        """For each ``(pid, value, last, orders, revenue)`` of ``targets``:
        the rank and exact cumulative value of the member ranked just above
        it, and the ``*_le`` count of the member at or below each of its
        RFM figures (None where there is none). One statement, four index
        seeks per target."""
        if not targets:
            return {}
        rows = self.env.execute_query(self.seek_query(targets))
        return {
            pid: (rank, exact(cum), r_le, f_le, m_le)
            for pid, rank, cum, r_le, f_le, m_le in rows
        }

    def seek_query(self, targets):
        """The statement of :meth:`seek`."""
        columns = list(zip(*targets, strict=True))
        return SQL(
            """
                SELECT t.pid, a.rank, a.cum::text, r.r_le, f.f_le, m.m_le
                  FROM unnest(%(arrays)s) AS t(pid, val, last, cnt, rev)
                  LEFT JOIN LATERAL (
                      SELECT e.rank, e.cum FROM customer_tier_ranking_entry e
                       WHERE e.company_id = %(company)s AND e.member
                         AND (-e.value, e.partner_id) < (-t.val, t.pid)
                       ORDER BY -e.value DESC, e.partner_id DESC LIMIT 1
                  ) a ON TRUE
                  LEFT JOIN LATERAL (
                      SELECT e.r_le FROM customer_tier_ranking_entry e
                       WHERE e.company_id = %(company)s AND e.member
                         AND e.last_order_date <= t.last
                       ORDER BY e.last_order_date DESC LIMIT 1
                  ) r ON TRUE
                  LEFT JOIN LATERAL (
                      SELECT e.f_le FROM customer_tier_ranking_entry e
                       WHERE e.company_id = %(company)s AND e.member
                         AND e.order_count <= t.cnt
                       ORDER BY e.order_count DESC LIMIT 1
                  ) f ON TRUE
                  LEFT JOIN LATERAL (
                      SELECT e.m_le FROM customer_tier_ranking_entry e
                       WHERE e.company_id = %(company)s AND e.member
                         AND e.revenue <= t.rev
                       ORDER BY e.revenue DESC LIMIT 1
                  ) m ON TRUE
                """,
            arrays=unnest_arrays(
                columns, ("int4", "numeric", "date", "int4", "numeric")
            ),
            company=self.company_id,
        )

    def tier_bounds(self, tier_ids, excluded):
        """Pareto's revenue to outrank, from the snapshot: the lowest window
        revenue of the members computed in each of ``tier_ids`` and the
        highest of all, leaving out the partners ``excluded`` (the moved and
        refreshed ones, which the caller counts at their current figures).
        Returns ``({tier id: lowest}, highest)``."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT t.id, (
                    SELECT e.revenue FROM customer_tier_ranking_entry e
                     WHERE e.company_id = %(company)s AND e.member
                       AND e.computed_tier_id = t.id
                       AND e.partner_id <> ALL(%(excluded)s)
                     ORDER BY e.revenue LIMIT 1)
                  FROM unnest(%(tiers)s::int4[]) AS t(id)
                UNION ALL
                SELECT NULL, (
                    SELECT e.revenue FROM customer_tier_ranking_entry e
                     WHERE e.company_id = %(company)s AND e.member
                       AND e.partner_id <> ALL(%(excluded)s)
                     ORDER BY e.revenue DESC LIMIT 1)
                """,
                company=self.company_id,
                excluded=list(excluded),
                tiers=list(tier_ids),
            )
        )
        lowest = {tid: low for tid, low in rows if tid is not None and low is not None}
        highest = next((high for tid, high in rows if tid is None), None)
        return lowest, highest

    # ------------------------------------------------------------------
    # Batches
    # ------------------------------------------------------------------
    def next_batch(self, eval_date, batch_size, after, evaluated_too, counted):
        """The next ``batch_size`` partners of the evaluation in progress
        after the partner ``after`` (profiles and entries, by partner id),
        with those not yet evaluated for ``eval_date`` only unless
        ``evaluated_too``; a moved entry before ``after`` counts too. Returns
        ``(partner ids, remaining)``: ``remaining`` is 0 when no partner is
        left after the batch, else ``counted`` (what the evaluation had left
        before this batch: :meth:`TierEngine._plan_continue`) less the batch,
        at least 1.

        One statement over three disjoint parts in partner order (the
        profiles after ``after``, the entries after it without a profile, the
        moved entries before it), each read in partner order up to the batch
        and one more (to tell whether any is left), merged and cut as much;
        the entries are read up to the profile that would come after the
        batch (the profiles alone fill it up to there), so the statement
        reads what the batch has partners, not what the evaluation has
        left."""
        pending = (
            SQL()
            if evaluated_too
            else SQL("AND prof.full_evaluation_date IS DISTINCT FROM %s", eval_date)
        )
        moved = (
            SQL()
            if evaluated_too
            else SQL(
                """
                UNION ALL
                SELECT e.partner_id FROM customer_tier_ranking_entry e
                  LEFT JOIN customer_tier_profile prof
                    ON prof.partner_id = e.partner_id
                   AND prof.company_id = %(company)s
                 WHERE e.company_id = %(company)s AND e.moved
                   -- (an expression: the moved entries' own index, not a
                   -- range of every entry before the batch)
                   AND e.partner_id + 0 <= %(after)s %(pending)s
                """,
                company=self.company_id,
                after=after or 0,
                pending=pending,
            )
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT u.pid
                  FROM ((SELECT prof.partner_id AS pid FROM customer_tier_profile prof
                          WHERE prof.company_id = %(company)s
                            AND prof.partner_id > %(after)s %(pending)s
                          ORDER BY prof.partner_id
                          LIMIT %(limit)s)
                        UNION ALL
                        (SELECT e.partner_id FROM customer_tier_ranking_entry e
                          WHERE e.company_id = %(company)s
                            AND e.partner_id > %(after)s
                            AND e.partner_id <= COALESCE(
                                (SELECT prof.partner_id
                                   FROM customer_tier_profile prof
                                  WHERE prof.company_id = %(company)s
                                    AND prof.partner_id > %(after)s %(pending)s
                                  ORDER BY prof.partner_id
                                  OFFSET %(batch)s LIMIT 1), 2147483647)
                            AND NOT EXISTS (
                                SELECT 1 FROM customer_tier_profile prof
                                 WHERE prof.partner_id = e.partner_id
                                   AND prof.company_id = %(company)s)
                          ORDER BY e.partner_id
                          LIMIT %(limit)s)
                        %(moved)s) u
                 ORDER BY u.pid
                 LIMIT %(limit)s
                """,
                company=self.company_id,
                after=after or 0,
                pending=pending,
                moved=moved,
                batch=batch_size,
                limit=batch_size + 1,
            )
        )
        batch = [row[0] for row in rows[:batch_size]]
        if len(rows) <= batch_size:
            return batch, 0
        return batch, max((counted or 0) - len(batch), 1)
