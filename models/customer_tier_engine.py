"""The tier engine: figures, scores and tiers of a program, set-based.

One parameterised SQL aggregate reads the confirmed orders of a company (or of a
few customers for an incremental refresh); scoring runs in plain Python over the
result; profiles are written with bulk ``INSERT ... ON CONFLICT`` statements,
history rows with one ``INSERT`` and the notes on the profiles' chatter with
one batched ``mail.message`` create. Nothing loops over partners through the ORM.

Exact meaning of the figures:

* counted orders: ``sale.order`` in state ``sale`` of the program's company,
  dated (UTC date of ``date_order``) on or before the evaluation date;
* customer: the commercial partner of the order's ``partner_id``;
* money: ``amount_untaxed`` and ``margin`` divided by the order's stored
  ``currency_rate`` (as ``sale.report`` does), i.e. in company currency;
* window: orders dated after ``evaluation date - N months`` and on or before
  the evaluation date;
* recency: days from the last counted order to the evaluation date;
* reorder cycle: (last order date - first order date) / (orders - 1), the mean
  gap between consecutive orders, for two orders or more;
* revenue share and cumulative (Pareto) share: customers ranked by window
  revenue (ties by partner id); the cumulative share is the revenue of every
  customer ranked at or above one, over the company total. A feature may rank
  by another figure instead (``value_key``: the program's predicted 12-month
  value), which the tiers' minimum revenue then applies to as well;
* RFM scores: ``ceil(5 * cume_dist)`` among the company's buying customers,
  where cume_dist is the share of customers whose value is at most as good
  (recency: days since last order, fewer is better; frequency: orders in the
  window; monetary: revenue in the window);
* revenue basis *invoiced* (``customer.tier.program.revenue_basis``; exact
  rules in :mod:`.customer_tier_value_basis`, with the one SQL definition of
  each: ``counted_moves``, ``move_in_window``, ``line_cost``): revenue,
  margin (window and lifetime) and the average order come instead from the
  posted customer invoices less the posted credit notes of the company,
  dated by ``invoice_date`` in the same window, at each document's rate
  (``-balance`` of the product lines), less the cost of the invoiced lines;
  the window revenue is never below 0. Orders, dates, recency, frequency and
  cycle stay those of the counted orders, and shares, ranks and RFM scores
  follow the invoiced revenue.

Steady state (the nightly full evaluation over mostly unchanged data):

* reads: the counted orders once (:meth:`TierEngine.aggregate_query` with
  ``inputs``: the figures, and in the same scan the prediction's inputs and
  the marker of each customer's orders), the stored profiles once (every
  column the run writes), the company's prospects, the open quotations
  (prospect feature), and the order lines only of the customers whose orders
  changed or left the window (:meth:`TierEngine.stale_partners`; all of them
  after a change of the program, a product or a category);
* writes: only the profiles that differ from their stored values
  (:meth:`TierEngine.changed_rows`), with the columns that differ
  (:meth:`TierEngine.update_profiles`; new profiles through the upsert), the
  history rows of the tier changes, the partner tier of the customers whose
  tier moved, and the date of the run on the program. No stored column moves
  with the calendar alone: the evaluation date (``last_run_date`` on the
  program, ``refresh_date`` of a refreshed profile) and the recency are
  computed when read, and so are the prediction's figures (probability
  active, expected orders and value, which age with the customer's
  history: computed from inputs that move only with its orders,
  customer_tier_prediction.py). The company-wide figures (rank, revenue
  share and cumulative share), which move for most customers whenever one
  customer's window revenue moves (the company total moves), are kept in
  memory for the tiers and reasons and stored in the ranking snapshot only
  (``customer_tier_ranking.py``: its entries written where they changed),
  which the profiles read them from. What still moves for many customers
  as days pass is the predicted value a program ranking by it ranks by
  (``ranking_value``): the profiles whose values move are written, the
  others not;
* hooks see only the rows written (a feature may ask for a row to be
  written: ``keep_row``).

Every query of counted orders, of this module or of a feature, writes these
rules with the one SQL definition of each: :func:`counted_orders`,
:func:`in_window` (:func:`window_bounds`), :data:`ORDER_RATE`,
:func:`counted_lines` (order lines that count in line revenue); the RFM
score is :func:`cume_score`.

Extension contract. A feature is a subclass of :class:`EngineFeature`,
declared in its own file, that states:

* ``name``: a unique key (:meth:`TierEngine.feature` returns the instance);
* ``sequence``: its place in the run, lower first (ties by name); every hook
  of every feature runs in this one order;
* ``columns``: the profile columns it fills in the figures or rows (the
  upsert writes them, ``None`` where a row lacks one); ``full_columns``:
  columns it fills on a full evaluation only (a refresh keeps them as stored);
* ``partner_columns``: column -> SQL expression on the partner (alias ``p``)
  that the upsert copies into the profile (read when the upsert runs: a
  property may build an expression from the program);
* ``ranks``: whether, on a full evaluation, its ``extend_figures`` may
  replace the figures customers are ranked and scored by
  (:meth:`TierEngine.rank_by`, :meth:`TierEngine.rescore`; a property when
  the program decides). The first call of a batched evaluation hands the
  features every customer's figures only when one of them ranks; else
  the figures (and ``engine.state``, ``engine.prospects``) of its batch only
  (:meth:`TierEngine._plan_opening`).

The engine's columns are the core :data:`PROFILE_COLUMNS` plus the declared
columns of the program's features, fixed when the engine is built. The hooks
(no-ops by default), in the order of a run (on a full evaluation, the rows
the hooks after ``extend_figures`` receive are those that differ from their
stored profile, or that a feature's ``keep_row(row, old)`` asks to write):

1. ``extend_figures(figures, eval_date, full)`` in :meth:`TierEngine.plan`,
   before the tiers are computed: add the feature's figures to ``figures``
   (customer id -> dict) and to the prospect rows ``engine.prospects`` (a
   feature grades a prospect by setting its ``computed_tier_id``); may switch
   the ranking figure with :meth:`TierEngine.rank_by`, or have the customers
   ranked and scored again on figures it replaced with
   :meth:`TierEngine.rescore`. Reads the orders; writes nothing to the
   database (``plan()`` stays pure).
2. ``before_write(rows, eval_date, full)`` in :meth:`TierEngine.run`, once the
   tiers are decided: fill the columns that depend on the new tier in
   ``rows`` (a list of profile value dicts) so that one upsert writes
   everything. Writes nothing to the database.
3. ``after_write(rows, changes, eval_date, full)`` once the profiles and the
   history are written: side effects (pricelists, activities, relation
   tables, the program's fit). ``changes`` are ``(partner id, old tier id,
   new tier id, cause)``. Tier changes made through the ORM (a manual
   override) call this hook alone, with no rows and ``full`` False
   (:meth:`TierEngine.after_write`).

``full`` is True for a full evaluation (possibly one batch of it: restrict
per-partner queries with :meth:`TierEngine.feature_scope` or
:meth:`TierEngine.in_batch`), False for a refresh of a few customers. On a
full evaluation, a per-customer feature computes again only the customers
:meth:`TierEngine.is_stale` names, and keeps the stored values of the others
(``engine.state``: the stored profiles the plan read).

State: the engine builds one instance of each feature per engine
(``self.engine``, ``self.program``): what a feature computes in one hook for a
later one lives on its instance (e.g. the prediction's fit, the follow-up's
pending checks), never on the engine or in private keys of the figures.
Another feature reads it through ``engine.feature(name)``.

The module's features, in their order: revenue basis 5 (the money figures
every later feature and the tiers read), prediction 10 (its churn flag is set
before the follow-up opens churn episodes on it), pricing 20, follow-up 30,
prospect 40, dimension 50 (the order the side effects always ran in).

Adding a feature: write the subclass in the feature's file and add it to
the program's list, the Odoo way (another module can do the same)::

    class CustomerTierProgram(models.Model):
        _inherit = "customer.tier.program"

        def _engine_features(self):
            return [*super()._engine_features(), MyFeature]
"""

import ast
import math
from bisect import bisect_right
from collections import namedtuple
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import table_columns

from odoo.addons.base.models.res_lang import intersperse

# Columns of customer_tier_profile the engine writes, in order.
PROFILE_COLUMNS = (
    "partner_id",
    "company_id",
    "program_id",
    "is_prospect",
    "refresh_date",
    "full_evaluation_date",
    "revenue_window",
    "margin_window",
    "order_count_window",
    "revenue_total",
    "margin_total",
    "order_count",
    "first_order_date",
    "last_order_date",
    "average_order_value",
    "orders_per_year",
    "reorder_cycle_days",
    "expected_order_date",
    "reorder_overdue",
    "frequency_class",
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "rfm_segment_id",
    "computed_tier_id",
    "assigned_tier_id",
    "manual_tier_id",
    "manual_reason",
    "manual_end_date",
    "tier_id",
    "tier_sequence",
    "tier_since",
    "manual_differs",
    "downgrade_tier_id",
    "downgrade_count",
    "downgrade_since",
    "at_risk",
    "revenue_to_keep",
)
# Columns of customer_tier_profile a full evaluation writes (a refresh keeps
# them as stored): the marker of the customer's counted orders (the latest
# ``write_date`` among them, from the one scan of the orders), which tells the
# next full evaluation whether the customer's orders changed.
FULL_PROFILE_COLUMNS = ("orders_write_date",)
# Figures a customer's per-customer features are computed from: when one of
# them differs from the stored profile (or the profile is new), the features
# compute the customer again (TierEngine.stale); else they keep what is stored.
INPUT_COLUMNS = (
    "is_prospect",
    "order_count",
    "revenue_total",
    "margin_total",
    "first_order_date",
    "last_order_date",
    "order_count_window",
    "revenue_window",
    "margin_window",
    "orders_write_date",
)
# Money figures of INPUT_COLUMNS, which the invoiced revenue basis replaces.
MONEY_COLUMNS = ("revenue_total", "margin_total", "revenue_window", "margin_window")
# Columns of customer_tier_profile the upsert copies from the partner (alias
# ``p``): column -> SQL expression (features add theirs: partner_columns).
PARTNER_COLUMNS = {
    "user_id": SQL("p.user_id"),
    "country_id": SQL("p.country_id"),
    "industry_id": SQL("p.industry_id"),
}
# Columns an upsert must not overwrite on an existing row.
KEEP_ON_CONFLICT = {"partner_id", "company_id"}
# Columns the engine reads back from existing profiles.
STATE_COLUMNS = (
    "id",
    "partner_id",
    "is_prospect",
    "full_evaluation_date",
    "assigned_tier_id",
    "manual_tier_id",
    "manual_reason",
    "manual_end_date",
    "tier_id",
    "tier_since",
    "downgrade_tier_id",
    "downgrade_count",
    "downgrade_since",
    "revenue_window",
    "order_count_window",
    "last_order_date",
)
UPSERT_CHUNK = 5000
# Rows of the company's aggregate of orders turned into figures at a time by
# the first call of a batched evaluation (TierEngine._ranked_figures).
RANKED_CHUNK = 10000
# Order amount in company currency: divided by the stored currency rate, as
# sale.report does (a missing or zero rate counts as 1).
ORDER_RATE = SQL(
    "(CASE COALESCE(so.currency_rate, 0) WHEN 0 THEN 1.0 ELSE so.currency_rate END)"
)


def window_bounds(eval_date, months):
    """``(start, end)`` of the window of ``months`` months ending on
    ``eval_date``: orders dated on or after ``start`` and before ``end``, i.e.
    after ``eval_date - months`` and on or before ``eval_date``."""
    start = eval_date - relativedelta(months=months)
    return start + timedelta(days=1), eval_date + timedelta(days=1)


def counted_orders(company_id, eval_date):
    """SQL condition: the order ``so`` is a counted order (module docstring):
    confirmed (state ``sale``), of the company, dated on or before
    ``eval_date``. The one definition every query of counted orders uses."""
    return SQL(
        "so.state = 'sale' AND so.company_id = %s AND so.date_order < %s",
        company_id,
        eval_date + timedelta(days=1),
    )


def in_window(eval_date, months):
    """SQL condition: a counted order ``so`` (:func:`counted_orders`, which
    bounds its date by ``eval_date``) is dated in the window of ``months``
    months ending on ``eval_date`` (:func:`window_bounds`). The end bound is
    not repeated: PostgreSQL would count its selectivity twice."""
    start, _end = window_bounds(eval_date, months)
    return SQL("so.date_order >= %s", start)


def counted_lines():
    """SQL condition: the line ``sol`` of a counted order counts in the line
    revenue (product preferences): a product line (not a note or section),
    neither a down payment nor a tier fee."""
    return SQL(
        "sol.display_type IS NULL"
        " AND NOT COALESCE(sol.is_downpayment, FALSE)"
        " AND NOT COALESCE(sol.is_tier_fee, FALSE)"
    )


def partner_filter(partner_ids, column="p.commercial_partner_id"):
    """``AND <column> = ANY(ids)``, or nothing for a company-wide query."""
    if partner_ids is None:
        return SQL()
    return SQL("AND %s = ANY(%s)", SQL(column), list(partner_ids))


# Array casts of the column types the engine writes through unnest().
ARRAY_CASTS = {
    "int4": SQL("int4[]"),
    "numeric": SQL("numeric[]"),
    "float8": SQL("float8[]"),
    "date": SQL("date[]"),
    "bool": SQL("bool[]"),
    "varchar": SQL("varchar[]"),
    "text": SQL("text[]"),
    "timestamp": SQL("timestamp[]"),
}


def _quote(value):
    if value is None or value is False:
        return "NULL"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _integer(value):
    return "NULL" if value is None or value is False else str(int(value))


def _number(value):
    if value is None or value is False:
        return "NULL"
    # float() first: numpy's float64 repr is "np.float64(...)"; a Decimal
    # keeps its exact text
    return repr(float(value)) if isinstance(value, float) else str(value)


def _date(value):
    # str() of a date is its ISO form, which needs no quotes in an array
    return "NULL" if value is None or value is False else str(value)


def _boolean(value):
    return "NULL" if value is None else ("t" if value else "f")


# How each column type writes one element of an array literal.
ARRAY_ELEMENT = {
    "int4": _integer,
    "numeric": _number,
    "float8": _number,
    "date": _date,
    "bool": _boolean,
}

# The same for an array whose values are all of one plain type (no empty
# value): per column type, the plain types and what writes one value of each
# (as ARRAY_ELEMENT does).
PLAIN_ELEMENT = {
    "int4": {int: str},
    "numeric": {float: repr, Decimal: str},
    "float8": {float: repr},
    "date": {date: str},
}


def array_literal(values, pg_type="text"):
    """PostgreSQL's text form of a one-dimensional array (``{1,NULL,"a b"}``).

    A whole column travels as one string parameter that PostgreSQL parses
    with ``array_in``: much cheaper on both sides than psycopg2's
    ``ARRAY[v1, v2, ...]``, which adapts every value and makes the server
    parse one constant per value. ``None`` (and ``False`` outside boolean
    columns, as the ORM writes an empty value) is ``NULL``; numbers are
    written as they are, booleans as ``t``/``f``, dates in ISO format,
    anything else is quoted (backslash and double quote escaped).
    """
    kind = pg_type.lower()
    classes = set(map(type, values))
    plain = len(classes) == 1 and PLAIN_ELEMENT.get(kind, {}).get(classes.pop())
    if plain:
        # (every value of one plain type: one C call per value)
        return "{" + ",".join(map(plain, values)) + "}"
    element = ARRAY_ELEMENT.get(kind, _quote)
    return "{" + ",".join(map(element, values)) + "}"


def unnest_arrays(columns, types):
    """``%s::type[], ...``: the arguments of an ``unnest()`` (one typed array
    of values per column, sent as its text form: :func:`array_literal`), so
    that a set of rows travels as a few strings instead of one SQL fragment
    per value."""
    return SQL(", ").join(
        SQL("%s::%s", array_literal(values, pg_type), ARRAY_CASTS[pg_type.lower()])
        for values, pg_type in zip(columns, types, strict=True)
    )


@contextmanager
def transaction_setting(env, name, value):
    """Run the statements of the block with PostgreSQL's setting ``name``
    at ``value`` (set for the transaction, then put back as it was)."""
    previous = env.execute_query(
        SQL("SELECT current_setting(%s), set_config(%s, %s, true)", name, name, value)
    )[0][0]
    yield
    env.execute_query(SQL("SELECT set_config(%s, %s, true)", name, previous))


@contextmanager
def without_jit(env):
    """Run the statements of the block without PostgreSQL's JIT compilation
    (``jit`` set for the transaction, then put back as it was)."""
    previous = env.execute_query(
        SQL("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    )[0][0]
    yield
    # (on an error the rollback of the transaction or savepoint restores it)
    env.cr.execute(SQL("SELECT set_config('jit', %s, true)", previous))


EPSILON = 1e-9


def _same(stored, new):
    """Whether a stored column value equals the value the engine computed:
    NULL and False are the same empty value (as the ORM writes it), a
    stored numeric equals the float written into it (the engine writes
    floats' shortest text, which reads back as the same float)."""
    if stored == new:
        return True
    if stored is None or stored is False:
        return new is None or new is False
    if isinstance(stored, Decimal) and new is not None and new is not False:
        return float(stored) == float(new)
    return False


def values_of(columns):
    """A function returning the tuple of the values of ``columns`` (a
    non-empty sequence) in a mapping: a plain tuple comparison of two
    mappings' values is the fast path of :func:`_same` (equal values are
    the same), one C call per mapping."""
    get = itemgetter(*columns)
    return get if len(columns) > 1 else lambda mapping: (get(mapping),)


def _differs(values, old, new):
    """Whether the mappings ``old`` and ``new`` may differ in the values
    ``values`` (:func:`values_of`) reads: not plainly equal, or a value
    missing from ``new`` (:func:`_same` decides)."""
    try:
        return values(old) != values(new)
    except KeyError:
        return True


def decimal(value):
    """The exact value PostgreSQL stores for a figure written by the engine
    (a float travels as its shortest repr; a Decimal is read back as is);
    None counts as 0, as the ranking reads a missing figure."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def cume_score(at_or_below, n):
    """The RFM score of a value that ``at_or_below`` of ``n`` values are at
    most as good as: ``ceil(5 * cume_dist)``, 1..5 (module docstring)."""
    return max(1, min(5, math.ceil(5 * at_or_below / n - EPSILON)))


def cume_scores(values):
    """Map each value to its :func:`cume_score` among ``values``."""
    ordered = sorted(values)
    n = len(ordered)
    return {value: cume_score(bisect_right(ordered, value), n) for value in set(values)}


# What the assignment of every profile of one plan shares (set once per plan,
# TierEngine._assign_run): the evaluation date, whether the evaluation is full
# (a downgrade counts its grace on full evaluations only), whether computed
# tiers apply (the program applies them automatically or the run forces it),
# under the Pareto method, the revenue to outrank per tier
# (TierEngine._keep_amounts; empty otherwise) and whether the run is a
# re-classification (a manager's, after a change of method or bounds: computed
# tiers apply at once, downgrades without grace, cause ``reclassify``).
AssignRun = namedtuple("AssignRun", "eval_date full apply keep_at reclassify")
# Downgrade grace state (pending lower tier, evaluations below, since) and
# manual override (tier, reason, end date) of a profile that has none.
NO_GRACE = (None, 0, None)
NO_OVERRIDE = (None, None, None)


class _Formats:
    """Numbers and amounts written as ``odoo.tools.formatLang`` and
    ``format_amount`` write them (grouping, separators and currency symbol of
    one language), with the language looked up once: the reasons of a first
    evaluation format tens of thousands of figures, and the tools look the
    language up on every call."""

    def __init__(self, env, currency):
        lang = env["res.lang"]._get_data(code=env.lang)
        self.grouping = ast.literal_eval(lang.grouping)
        self.thousands_sep = lang.thousands_sep or ""
        self.decimal_point = lang.decimal_point
        self.separators = str.maketrans(
            {",": self.thousands_sep, ".": self.decimal_point}
        )
        self.currency = currency
        symbol = currency.symbol or ""
        if currency.position == "before":
            self.money = f"{symbol}\N{NO-BREAK SPACE}%s"
        else:
            self.money = f"%s\N{NO-BREAK SPACE}{symbol}"

    def number(self, value, digits=0):
        """``formatLang(env, value, digits=digits)``."""
        if self.grouping == [3, 0]:
            # groups of three, as most languages group (en_US, zh_CN ...):
            # Python's own grouping, its separators swapped for the language's
            return format(value, f",.{digits}f").translate(self.separators)
        parts = ("%.*f" % (digits, value)).split(".")
        parts[0] = intersperse(parts[0], self.grouping, self.thousands_sep)[0]
        return self.decimal_point.join(parts)

    def amount(self, value):
        """``fmt.amount(value)``."""
        currency = self.currency
        text = self.number(currency.round(value), currency.decimal_places)
        text = text.replace(" ", "\N{NO-BREAK SPACE}").replace(
            "-", "-\N{ZERO WIDTH NO-BREAK SPACE}"
        )
        return self.money % text


class RankedFigures:
    """What the first call of a batched evaluation keeps of one customer's
    figures (:meth:`TierEngine._plan_opening`): the figures it is ranked,
    scored and given its computed tier by, and what the ranking snapshot
    stores; read and written as the figures dict is (``fig[key]``,
    ``fig.get(key)``), in a fraction of its memory."""

    # the figures read (as TierEngine._figures computes them)
    FIGURES = (
        "revenue_window",
        "margin_window",
        "order_count_window",
        "last_order_date",
        "recency_days",
    )
    # the figures scoring and the tiers add (_score_full, computed_tier)
    SCORES = (
        "pareto_rank",
        "revenue_share",
        "cumulative_share",
        "rfm_recency_score",
        "rfm_frequency_score",
        "rfm_monetary_score",
        "rfm_segment_id",
    )
    __slots__ = (*FIGURES, *SCORES, "computed_tier_id")

    def __init__(self, fig):
        for key in self.FIGURES:
            setattr(self, key, fig[key])

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key, value):
        setattr(self, key, value)

    def get(self, key, default=None):
        return getattr(self, key, default)

    def scores(self):
        """The scores, as ``(key, value)`` pairs (to update a figures dict)."""
        return ((key, getattr(self, key)) for key in self.SCORES)


class EngineFeature:
    """A feature of the engine: what it declares and its hooks (the contract
    is in the module docstring). One instance per engine: the instance holds
    the feature's state between its hooks."""

    # unique key (TierEngine.feature)
    name = None
    # place in the run, lower first (ties by name)
    sequence = 100
    # profile columns the feature fills (figures or rows)
    columns = ()
    # profile columns it fills on a full evaluation only
    full_columns = ()
    # profile column -> SQL expression on the partner (alias ``p``), read by
    # the upsert (a property when an expression depends on the program)
    partner_columns = {}
    # whether extend_figures may replace the ranking figures of a full
    # evaluation (rank_by, rescore): then a batched evaluation's first call
    # hands it every customer's figures (a property when the program decides)
    ranks = False

    def __init__(self, engine):
        self.engine = engine
        self.program = engine.program
        self.env = engine.env

    def extend_figures(self, figures, eval_date, full):
        """Add the feature's figures before the tiers are computed."""

    def keep_row(self, row, old):
        """Whether a full evaluation must write ``row`` (and run the later
        hooks on it) although the plan left its values as stored in ``old``
        (e.g. a check that waits for a condition outside the figures)."""
        return False

    def before_write(self, rows, eval_date, full):
        """Fill the columns that depend on the decided tiers in ``rows``."""

    def after_write(self, rows, changes, eval_date, full):
        """Side effects once profiles and history are written."""


def _prefetched_fields(model):
    """The fields Odoo reads together when one of them is read: the stored
    columns of ``model`` that are prefetched."""
    return [
        name
        for name, field in model._fields.items()
        if field.store and field.column_type and field.prefetch is True
    ]


class TierEngine:
    """Evaluate one ``customer.tier.program``."""

    def __init__(self, program):
        program.ensure_one()
        self.program = program
        self.env = program.env
        self.cr = program.env.cr
        self.company = program.company_id
        self.currency = self.company.currency_id
        # The active tiers and grades, best first: the fields of both read in
        # one query (a one-customer refresh builds an engine), the program's
        # lists of tiers and grades cached for the features that ask again.
        program_su = program.sudo()
        (program_su.tier_ids | program_su.grade_ids).fetch(
            _prefetched_fields(self.env["customer.tier"])
        )
        self.tiers = program_su._customer_tiers()
        self.grades = program_su._prospect_grades()
        self.tier_by_id = {t.id: t for t in self.tiers | self.grades}
        # (what the assignment of each customer reads of the tiers and the
        # program, as plain values: an ORM field access costs more than the
        # decision itself)
        self.tier_kind = {tid: t.kind for tid, t in self.tier_by_id.items()}
        self.tier_sequence = {tid: t.sequence for tid, t in self.tier_by_id.items()}
        self.method = program.method
        # per run: the language, formats and tier names of the move reasons
        self._reason_env_cache = None
        self._formats_cache = {}
        self._tier_names = {}
        self.rank = {t.id: (t.sequence, t.id) for t in self.tiers | self.grades}
        self.segments = program.sudo().segment_ids.sorted(lambda s: (s.sequence, s.id))
        # The rules as plain tuples: scoring reads them once per customer, and
        # an ORM field access costs more than the comparison itself.
        self.segment_rules = [
            (s.r_min, s.r_max, s.fm_min, s.fm_max, s.id) for s in self.segments
        ]
        rfm = self.method == "rfm"
        self.tier_rules = [
            (
                tier,
                tier.min_revenue,
                tier.min_orders,
                tier.max_recency_days,
                tier.min_margin,
                tier.pareto_max_share,
                # (read only when used: one query)
                frozenset(tier.rfm_segment_ids.ids if rfm else ()),
            )
            for tier in self.tiers[:-1]
        ]
        # The program's features (EngineFeature), in their order of run.
        feature_classes = sorted(
            program._engine_features(), key=lambda cls: (cls.sequence, cls.name)
        )
        self.features = [cls(self) for cls in feature_classes]
        self._features_by_name = {f.name: f for f in self.features}
        # Profile columns the upsert writes: the core's and the features'
        # (those of full_columns on a full evaluation only).
        self.columns = tuple(
            dict.fromkeys(
                PROFILE_COLUMNS + tuple(c for f in self.features for c in f.columns)
            )
        )
        self.full_columns = tuple(
            dict.fromkeys(
                FULL_PROFILE_COLUMNS
                + tuple(c for f in self.features for c in f.full_columns)
            )
        )
        # Prospect rows of the current plan (partner id -> figures), open to
        # features in extend_figures: a feature may grade a prospect by
        # setting its ``computed_tier_id`` (customer_tier_prospect.py).
        self.prospects = {}
        # Figure that ranks customers (Pareto) and meets the tiers' minimum
        # revenue; a feature may switch it with rank_by()
        # (customer_tier_prediction.py).
        self.value_key = "revenue_window"
        # Whether a feature replaced, in the current plan's extend_figures,
        # figures the ranks and scores read (rescore()).
        self.scores_stale = False
        # Whether the current plan is a full evaluation (the upsert writes the
        # features' full_columns then).
        self.full = None
        # Partners of the batch a batched full evaluation writes (None: all).
        self.batch_ids = None
        self.batch_remaining = 0
        # Stored state of the profiles the current plan read (partner id ->
        # column -> value; a full evaluation reads every written column).
        self.state = {}
        # Per customer: repeat purchase days, their revenue and the lifetime
        # revenue (unrounded), first and last order day, from the one scan
        # of the orders of a plan (aggregate_query with inputs): every
        # customer's on a full evaluation, even when the features see only a
        # batch (the prediction's fit reads them all).
        self.order_days = {}
        # Customers whose per-customer features a full evaluation computes
        # again (stale_partners); None: every customer.
        self.stale = None
        # Rows of a full evaluation that differ from their stored profile:
        # partner id -> the columns the plan changed (changed_rows), and the
        # columns it compared.
        self.differing = {}
        self.compared = set()
        # The ranking snapshot (customer_tier_ranking.py) of the current
        # plan: its header as read (None: not read, False: none), the moved
        # entries read, what run() writes, whether the plan continues a
        # batched evaluation.
        self._head = None
        self._moved_cache = None
        self._snapshot = None
        self._continued = False

    # ------------------------------------------------------------------
    # Features
    # ------------------------------------------------------------------
    def feature(self, name):
        """The instance of the feature ``name`` (None when the program has
        no such feature)."""
        return self._features_by_name.get(name)

    def rank_by(self, key):
        """Rank customers (Pareto shares) and apply the tiers' minimum revenue
        on the figure ``key`` instead of the window revenue (a feature's
        extend_figures; the engine then scores again)."""
        self.value_key = key

    def rescore(self):
        """Rank and score the customers again once the features' figures are
        in: a feature's extend_figures replaced figures the shares, ranks and
        RFM scores read (window revenue: customer_tier_value_basis.py)."""
        self.scores_stale = True

    def invoiced_basis(self):
        """Whether the money figures are invoiced, net of credit notes (the
        revenue basis feature, customer_tier_value_basis.py): the reasons say
        so."""
        feature = self.feature("revenue_basis")
        return bool(feature and feature.invoiced)

    def extend_figures(self, figures, eval_date, full):
        """Run the features' extend_figures hooks, in order."""
        for feature in self.features:
            feature.extend_figures(figures, eval_date, full)

    def before_write(self, rows, eval_date, full):
        """Run the features' before_write hooks, in order."""
        for feature in self.features:
            feature.before_write(rows, eval_date, full)

    def after_write(self, rows, changes, eval_date, full):
        """Run the features' after_write hooks, in order. Tier changes made
        through the ORM (overrides) call it alone: ``rows`` empty, ``full``
        False."""
        for feature in self.features:
            feature.after_write(rows, changes, eval_date, full)

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------
    def _window(self, eval_date):
        return window_bounds(eval_date, self.program.window_months)

    def in_batch(self, partner_ids):
        """``partner_ids`` restricted to the batch being planned, if any."""
        if self.batch_ids is None:
            return list(partner_ids)
        return [pid for pid in partner_ids if pid in self.batch_ids]

    def feature_scope(self, figures, full):
        """Partners whose feature figures a feature must compute: ``None``
        for all the company's (an unbatched full evaluation), else a list
        (the batch's, or the refreshed customers)."""
        if full and self.batch_ids is None:
            return None
        return self.in_batch(figures)

    def aggregate_query(self, eval_date, partner_ids=None, inputs=False):
        """The one aggregate of counted orders per commercial partner: order
        count, revenue and margin (lifetime), first and last order date,
        order count, revenue and margin in the window.

        With ``inputs`` (every plan: a full evaluation or a refresh), the
        same scan of the orders also returns the inputs of the per-customer
        features: the repeat
        purchase days (distinct order dates minus one), the revenue of the
        days after the first one (the prediction's) and the latest
        ``write_date`` of the counted orders (the marker that tells whether
        the customer's orders changed: :meth:`stale_partners`). The orders
        are sorted once by customer: the first order day of each is a
        window over that sort, the aggregate reads the same sorted rows.
        """
        rate = ORDER_RATE
        window = in_window(eval_date, self.program.window_months)
        if not inputs:
            return SQL(
                """
                SELECT p.commercial_partner_id,
                       COUNT(*),
                       SUM(so.amount_untaxed / %(rate)s),
                       SUM(COALESCE(so.margin, 0) / %(rate)s),
                       MIN(so.date_order)::date,
                       MAX(so.date_order)::date,
                       COUNT(*) FILTER (WHERE %(in_window)s),
                       COALESCE(SUM(so.amount_untaxed / %(rate)s)
                                FILTER (WHERE %(in_window)s), 0),
                       COALESCE(SUM(COALESCE(so.margin, 0) / %(rate)s)
                                FILTER (WHERE %(in_window)s), 0)
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE %(counted)s
                       %(partner_filter)s
                 GROUP BY p.commercial_partner_id
                """,
                rate=rate,
                in_window=window,
                counted=counted_orders(self.company.id, eval_date),
                partner_filter=partner_filter(partner_ids),
            )
        return SQL(
            """
            SELECT so.pid,
                   COUNT(*),
                   SUM(so.amount),
                   SUM(so.margin),
                   MIN(so.day),
                   MAX(so.day),
                   COUNT(*) FILTER (WHERE so.in_window),
                   COALESCE(SUM(so.amount) FILTER (WHERE so.in_window), 0),
                   COALESCE(SUM(so.margin) FILTER (WHERE so.in_window), 0),
                   COUNT(DISTINCT so.day) - 1,
                   COALESCE(SUM(so.amount) FILTER (WHERE so.day > so.first_day), 0),
                   MAX(so.write_date)
              FROM (SELECT p.commercial_partner_id AS pid,
                           so.date_order::date AS day,
                           so.amount_untaxed / %(rate)s AS amount,
                           COALESCE(so.margin, 0) / %(rate)s AS margin,
                           %(in_window)s AS in_window,
                           so.write_date,
                           MIN(so.date_order::date) OVER (
                               PARTITION BY p.commercial_partner_id) AS first_day
                      FROM sale_order so
                      JOIN res_partner p ON p.id = so.partner_id
                     WHERE %(counted)s
                           %(partner_filter)s) AS so
             GROUP BY so.pid
            """,
            rate=rate,
            in_window=window,
            counted=counted_orders(self.company.id, eval_date),
            partner_filter=partner_filter(partner_ids),
        )

    def _prospect_ids(self):
        """Commercial partners marked as customers with no profile yet.

        A partner is a prospect of the company when Odoo counts it as a customer
        (``customer_rank`` > 0: it has a quotation, or was created as a
        customer), it is active, it is not a company's own partner, and it is
        owned by the company, or shared and either worked by the company (it
        has an order of the company in any state) or worked by no other
        company (no order of another company, and no salesperson or one who
        works in the company): a shared customer or prospect of another
        company is not this company's prospect until this company quotes it.
        Partners that already have a profile of the company are left out
        (their callers keep them through their profile): the probes of their
        orders run for the partners without one only.
        """
        # The planner prices the per-partner EXISTS probes far above what they
        # cost and would JIT-compile the statement for another 0.5 s: compile
        # nothing for this one. The partners without a profile are selected
        # first (MATERIALIZED: the profiles' partners hashed once), so that
        # the probes run for them only: on a steady day, 20,000 customers all
        # with a profile, 4,000 buffers instead of 163,000, 34 ms instead of
        # 150 ms (EXPLAIN ANALYZE, medians).
        with without_jit(self.env):
            rows = self.env.execute_query(
                SQL(
                    """
                    WITH profiled AS MATERIALIZED (
                        SELECT partner_id FROM customer_tier_profile
                         WHERE company_id = %(company)s
                    ), candidates AS MATERIALIZED (
                        SELECT p.id, p.company_id, p.user_id
                          FROM res_partner p
                         WHERE p.active
                           AND p.id = p.commercial_partner_id
                           AND p.customer_rank > 0
                           AND NOT EXISTS (SELECT 1 FROM profiled
                                            WHERE profiled.partner_id = p.id)
                    )
                    SELECT p.id
                      FROM candidates p
                     WHERE NOT EXISTS (SELECT 1 FROM res_company c
                                        WHERE c.partner_id = p.id)
                       AND (p.company_id = %(company)s
                            OR (p.company_id IS NULL
                                AND (EXISTS (
                                        SELECT 1 FROM sale_order so
                                          JOIN res_partner c ON c.id = so.partner_id
                                         WHERE c.commercial_partner_id = p.id
                                           AND so.company_id = %(company)s)
                                     OR (NOT EXISTS (
                                            SELECT 1 FROM sale_order so
                                              JOIN res_partner c ON c.id = so.partner_id
                                             WHERE c.commercial_partner_id = p.id
                                               AND so.company_id <> %(company)s)
                                         AND (p.user_id IS NULL
                                              OR EXISTS (
                                                SELECT 1 FROM res_company_users_rel r
                                                 WHERE r.user_id = p.user_id
                                                   AND r.cid = %(company)s))))))
                    """,
                    company=self.company.id,
                )
            )
        return {row[0] for row in rows}

    def _load_state(self, partner_ids=None, full=False):
        """The stored profiles of the company (or of ``partner_ids``):
        partner id -> column -> value, of :data:`STATE_COLUMNS`; with
        ``full``, of every column a full evaluation writes as well, which
        :meth:`changed_rows` compares the new values with."""
        names = STATE_COLUMNS
        if full:
            names = tuple(
                dict.fromkeys(
                    (*STATE_COLUMNS, "refresh_date", *self.columns, *self.full_columns)
                )
            )
        # (numeric read as float8: the float Odoo's numeric reader makes of
        # it, parsed by the driver)
        columns = SQL(", ").join(
            SQL("%s::float8", SQL.identifier(c))
            if kind.startswith("numeric")
            else SQL.identifier(c)
            for c, kind in zip(names, self._column_types(names), strict=True)
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM customer_tier_profile WHERE company_id = %s %s",
                columns,
                self.company.id,
                partner_filter(partner_ids, "partner_id"),
            )
        )
        return {row[1]: dict(zip(names, row, strict=True)) for row in rows}

    # ------------------------------------------------------------------
    # Figures and scores
    # ------------------------------------------------------------------
    def _figures(self, agg_rows, eval_date, order_days=None):
        """The figures of the customers of ``agg_rows`` (rows of
        :meth:`aggregate_query`): partner id -> figures dict. With the
        features' inputs, each customer's order inputs go to ``order_days``
        (default: a new ``self.order_days``)."""
        program = self.program
        years = program.window_months / 12.0
        frequent = program.frequent_orders_per_year - EPSILON
        overdue_factor = program.reorder_overdue_factor
        dp = self.currency.decimal_places
        figures = {}
        if order_days is None:
            order_days = self.order_days = {}
        for (
            partner_id,
            count,
            revenue,
            margin,
            first,
            last,
            count_w,
            revenue_w,
            margin_w,
            *inputs,
        ) in agg_rows:
            revenue_w = round(float(revenue_w), dp)
            cycle = (last - first).days / (count - 1) if count > 1 else 0.0
            recency = (eval_date - last).days
            orders_per_year = count_w / years
            if count == 1:
                frequency = "one_time"
            elif orders_per_year >= frequent:
                frequency = "frequent"
            else:
                frequency = "occasional"
            figures[partner_id] = {
                "is_prospect": False,
                "revenue_window": revenue_w,
                "margin_window": round(float(margin_w), dp),
                "order_count_window": count_w,
                "revenue_total": round(float(revenue), dp),
                "margin_total": round(float(margin), dp),
                "order_count": count,
                "first_order_date": first,
                "last_order_date": last,
                "recency_days": recency,
                "average_order_value": round(revenue_w / count_w, dp)
                if count_w
                else 0.0,
                "orders_per_year": round(orders_per_year, 2),
                "reorder_cycle_days": round(cycle, 1) if count > 1 else 0.0,
                "expected_order_date": (
                    last + timedelta(days=round(cycle)) if count > 1 else None
                ),
                "reorder_overdue": bool(
                    count > 1 and recency > cycle * overdue_factor + EPSILON
                ),
                "frequency_class": frequency,
            }
            if inputs:
                # (aggregate_query with inputs)
                repeat_days, repeat_revenue, orders_written = inputs
                # (floats: the prediction reads them as such)
                order_days[partner_id] = (
                    repeat_days,
                    float(repeat_revenue),
                    float(revenue),
                    first,
                    last,
                )
                figures[partner_id]["orders_write_date"] = orders_written
        return figures

    @staticmethod
    def _prospect_figures():
        return {
            "is_prospect": True,
            "revenue_window": 0.0,
            "margin_window": 0.0,
            "order_count_window": 0,
            "revenue_total": 0.0,
            "margin_total": 0.0,
            "order_count": 0,
            "first_order_date": None,
            "last_order_date": None,
            "recency_days": 0,
            "average_order_value": 0.0,
            "orders_per_year": 0.0,
            "reorder_cycle_days": 0.0,
            "expected_order_date": None,
            "reorder_overdue": False,
            "frequency_class": None,
            "revenue_share": 0.0,
            "cumulative_share": 0.0,
            "pareto_rank": 0,
            "rfm_recency_score": 0,
            "rfm_frequency_score": 0,
            "rfm_monetary_score": 0,
            "rfm_segment_id": None,
        }

    def _score_full(self, figures):
        """Pareto ranks/shares and RFM scores over all buying customers."""
        key = self.value_key
        ranked = sorted(figures.items(), key=lambda kv: (-kv[1][key], kv[0]))
        total = sum(f[key] for _pid, f in ranked)
        running = 0.0
        for rank, (_pid, fig) in enumerate(ranked, start=1):
            running += fig[key]
            fig["pareto_rank"] = rank
            fig["revenue_share"] = fig[key] / total if total else 0.0
            fig["cumulative_share"] = running / total if total else 0.0
        if not figures:
            return
        r_scores = cume_scores([-f["recency_days"] for f in figures.values()])
        f_scores = cume_scores([f["order_count_window"] for f in figures.values()])
        m_scores = cume_scores([f["revenue_window"] for f in figures.values()])
        for fig in figures.values():
            fig["rfm_recency_score"] = r_scores[-fig["recency_days"]]
            fig["rfm_frequency_score"] = f_scores[fig["order_count_window"]]
            fig["rfm_monetary_score"] = m_scores[fig["revenue_window"]]
            fig["rfm_segment_id"] = self._segment(fig)

    def _score_incremental(self, figures, eval_date):
        """Shares and RFM scores of a few customers against the stored others.

        The other customers keep their stored figures until the next full
        evaluation. Read from the company's ranking snapshot when it ranks
        by the same figure (:meth:`_score_snapshot`: index seeks, a cost
        that does not grow with the customers), else from the profile table
        (:meth:`_score_scan`); both give the same figures.
        """
        if not figures:
            return
        head = self._head_for_scores()
        if head:
            self._score_snapshot(figures, head)
        else:
            self._score_scan(figures)

    def _score_snapshot(self, figures, head):
        """:meth:`_score_scan`'s figures, from the ranking snapshot.

        For each customer: the snapshot's rank, cumulative value and RFM
        counts at its figures (index seeks: :meth:`Ranking.seek`), corrected
        with the moved entries (the snapshot's figures out, the current
        profile's in) and without the refreshed customers themselves, as the
        profile table would give them. Exact: sums in decimal, as
        PostgreSQL sums the stored amounts.
        """
        key = self.value_key
        own = list(figures.items())
        moved = self._moved(list(figures), key)
        ranking = self._ranking()
        seeks = ranking.seek(
            [
                (
                    pid,
                    fig[key] or 0.0,
                    fig["last_order_date"],
                    fig["order_count_window"],
                    fig["revenue_window"],
                )
                for pid, fig in own
            ]
        )
        # the snapshot's figures that no longer stand (moved or refreshed
        # customers), and the current figures of the moved others
        gone = [
            (pid, e["value"], e["last"], e["cnt"], e["rev"])
            for pid, e in moved.items()
            if e["member"] and (e["moved"] or pid in figures)
        ]
        current = [
            (pid, e["cur_value"], e["cur_last"], e["cur_cnt"], e["cur_rev"])
            for pid, e in moved.items()
            if e["moved"] and e["counted"] and pid not in figures
        ]
        others_cnt = head["member_count"] - len(gone) + len(current)
        others_total = (
            head["total"]
            - sum((g[1] for g in gone), Decimal(0))
            + sum((c[1] for c in current), Decimal(0))
        )
        for pid, fig in own:
            val = decimal(fig[key])
            last = fig["last_order_date"]
            cnt = fig["order_count_window"]
            rev = decimal(fig["revenue_window"])
            rank, cum, r_le, f_le, m_le = seeks.get(pid) or (None,) * 5
            above_cnt, above_rev = rank or 0, cum or Decimal(0)
            r_le, f_le, m_le = r_le or 0, f_le or 0, m_le or 0
            for sign, rows in ((-1, gone), (1, current)):
                for other, o_val, o_last, o_cnt, o_rev in rows:
                    if o_val > val or (o_val == val and other < pid):
                        above_cnt += sign
                        above_rev += sign * o_val
                    if o_last is not None and o_last <= last:
                        r_le += sign
                    if o_cnt is not None and o_cnt <= cnt:
                        f_le += sign
                    if o_rev is not None and o_rev <= rev:
                        m_le += sign
            self._score_one(
                pid,
                fig,
                own,
                (above_rev, above_cnt, others_total, others_cnt, r_le, f_le, m_le),
            )

    def _score_one(self, pid, fig, own, counts):
        """Rank, shares and RFM scores of one refreshed customer from what
        the others give (``counts``: revenue and number of others ranked
        above, their total and number, the number at most as good in
        recency, frequency and money) and its refreshed peers ``own``."""
        key = self.value_key
        above_rev, above_cnt, others_total, others_cnt, r_le, f_le, m_le = counts
        rev = fig["revenue_window"]
        val = fig[key]
        # other refreshed customers ranked above this one
        peers_above = [f for p, f in own if p != pid and (f[key], -p) > (val, -pid)]
        total = float(others_total) + sum(f[key] for _p, f in own)
        cumulative = float(above_rev) + sum(f[key] for f in peers_above) + val
        fig["pareto_rank"] = above_cnt + len(peers_above) + 1
        fig["revenue_share"] = val / total if total else 0.0
        fig["cumulative_share"] = cumulative / total if total else 0.0
        n = others_cnt + len(own)
        peers = [f for p, f in own]
        r_at = r_le + sum(
            1 for f in peers if f["last_order_date"] <= fig["last_order_date"]
        )
        f_at = f_le + sum(
            1 for f in peers if f["order_count_window"] <= fig["order_count_window"]
        )
        m_at = m_le + sum(1 for f in peers if f["revenue_window"] <= rev)
        fig["rfm_recency_score"] = cume_score(r_at, n)
        fig["rfm_frequency_score"] = cume_score(f_at, n)
        fig["rfm_monetary_score"] = cume_score(m_at, n)
        fig["rfm_segment_id"] = self._segment(fig)

    def _score_scan(self, figures):
        """Shares and RFM scores of a few customers against the stored
        others, read from the whole profile table (one query): the
        definition :meth:`_score_snapshot` gives from the snapshot."""
        if not figures:
            return
        key = self.value_key
        values = SQL(", ").join(
            SQL(
                "(%s, %s::numeric, %s::int, %s::date, %s::numeric)",
                pid,
                fig["revenue_window"],
                fig["order_count_window"],
                fig["last_order_date"],
                fig[key],
            )
            for pid, fig in figures.items()
        )
        # ranking figure of the stored others (window revenue unless switched)
        stored = SQL("COALESCE(p.%s, 0)", SQL.identifier(key))
        others = SQL(
            "p.company_id = %s AND NOT p.is_prospect AND p.partner_id <> ALL(%s)",
            self.company.id,
            list(figures),
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT v.pid,
                       COALESCE(SUM(%(stored)s) FILTER (
                           WHERE %(stored)s > v.val
                              OR (%(stored)s = v.val AND p.partner_id < v.pid)), 0),
                       COUNT(p.id) FILTER (
                           WHERE %(stored)s > v.val
                              OR (%(stored)s = v.val AND p.partner_id < v.pid)),
                       COALESCE(SUM(%(stored)s), 0),
                       COUNT(p.id),
                       COUNT(p.id) FILTER (WHERE p.last_order_date <= v.last),
                       COUNT(p.id) FILTER (WHERE p.order_count_window <= v.cnt),
                       COUNT(p.id) FILTER (WHERE p.revenue_window <= v.rev)
                  FROM (VALUES %(values)s) AS v(pid, rev, cnt, last, val)
                  LEFT JOIN customer_tier_profile p ON %(others)s
                 GROUP BY v.pid
                """,
                stored=stored,
                values=values,
                others=others,
            )
        )
        own = list(figures.items())
        for pid, *counts in rows:
            above_rev, above_cnt, others_total, others_cnt, r_le, f_le, m_le = counts
            self._score_one(
                pid,
                figures[pid],
                own,
                (above_rev, above_cnt, others_total, others_cnt, r_le, f_le, m_le),
            )

    def _segment(self, fig):
        r_score = fig["rfm_recency_score"]
        fm_score = (fig["rfm_frequency_score"] + fig["rfm_monetary_score"] + 1) // 2
        for r_min, r_max, fm_min, fm_max, segment_id in self.segment_rules:
            if r_min <= r_score <= r_max and fm_min <= fm_score <= fm_max:
                return segment_id
        return None

    # ------------------------------------------------------------------
    # Tier assignment
    # ------------------------------------------------------------------
    @staticmethod
    def _threshold_checks(rule, value, orders, recency, margin):
        """Whether a customer meets each condition of a threshold tier's
        ``rule``: (revenue or ranking value, orders, days since the last
        order, margin), ``None`` where the tier sets no such condition (0).
        The one definition of the threshold rule: the scoring and the
        reasons of the moves read it."""
        _tier, min_rev, min_orders, max_recency, min_margin, _p, _s = rule
        return (
            value >= min_rev - EPSILON if min_rev else None,
            orders >= min_orders if min_orders else None,
            recency <= max_recency if max_recency else None,
            margin >= min_margin - EPSILON if min_margin else None,
        )

    def _threshold_tier(self, fig):
        value = fig[self.value_key]
        orders = fig["order_count_window"]
        recency = fig["recency_days"]
        margin = fig["margin_window"]
        for rule in self.tier_rules:
            if False not in self._threshold_checks(
                rule, value, orders, recency, margin
            ):
                return rule[0]
        return self.tiers[-1]

    def _pareto_tier(self, fig):
        fallback = self.tiers[-1]
        if fig[self.value_key] <= 0:
            return fallback
        share = fig["cumulative_share"] * 100.0
        for tier, *_thresholds, max_share, _segments in self.tier_rules:
            if max_share and share <= max_share + EPSILON:
                return tier
        for tier, *_thresholds, max_share, _segments in self.tier_rules:
            if not max_share:
                return tier
        return fallback

    def _rfm_tier(self, fig):
        segment_id = fig.get("rfm_segment_id")
        if segment_id:
            for tier, *_rules, segment_ids in self.tier_rules:
                if segment_id in segment_ids:
                    return tier
        return self.tiers[-1]

    def computed_tier(self, fig):
        method = self.method
        if method == "pareto":
            return self._pareto_tier(fig)
        if method == "rfm":
            return self._rfm_tier(fig)
        return self._threshold_tier(fig)

    def _better(self, tier_a, tier_b):
        """True when tier_a ranks strictly better than tier_b."""
        return self.rank[tier_a] < self.rank[tier_b]

    def _keep_amounts(self, figures, partner_ids=None):
        """Pareto: per customer tier, the window revenue a customer must
        outrank to be computed in that tier (or a better one) again: that of
        the weakest customer computed in the tier or a better one, else that
        of the top customer. An incremental evaluation (``partner_ids``) reads
        the other customers from their stored profiles (one query).
        """
        weakest = {}
        top = 0.0
        for fig in figures.values():
            rev = fig["revenue_window"]
            top = max(top, rev)
            tid = fig.get("computed_tier_id")
            if tid:
                weakest[tid] = min(weakest.get(tid, rev), rev)
        head = self._head_for_scores() if partner_ids is not None else None
        if head:
            # the stored others from the snapshot (index seeks), the moved
            # ones at their current figures
            moved = self._moved(list(partner_ids), self.value_key)
            excluded = set(moved) | set(partner_ids)
            lowest, highest = self._ranking().tier_bounds(self.tiers.ids, excluded)
            rows = [(tid, low, None) for tid, low in lowest.items()]
            rows.append((None, None, highest))
            rows.extend(
                (e["cur_tier"], e["cur_rev"], e["cur_rev"])
                for pid, e in moved.items()
                if e["moved"] and e["counted"] and pid not in partner_ids
            )
            for tid, low, high in rows:
                if high is not None:
                    top = max(top, float(high))
                if tid and low is not None:
                    low = float(low)
                    weakest[tid] = min(weakest.get(tid, low), low)
        elif partner_ids is not None:
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT computed_tier_id, MIN(revenue_window), MAX(revenue_window)
                      FROM customer_tier_profile
                     WHERE company_id = %s AND NOT is_prospect
                       AND partner_id <> ALL(%s)
                     GROUP BY computed_tier_id
                    """,
                    self.company.id,
                    list(partner_ids),
                )
            )
            for tid, low, high in rows:
                top = max(top, float(high or 0.0))
                if tid:
                    low = float(low or 0.0)
                    weakest[tid] = min(weakest.get(tid, low), low)
        keep_at = {}
        outrank = None
        for tier in self.tiers:
            if tier.id in weakest:
                low = weakest[tier.id]
                outrank = low if outrank is None else min(outrank, low)
            keep_at[tier.id] = top if outrank is None else outrank
        return keep_at

    def _assign_run(self, eval_date, full, force_apply, keep_at, reclassify=False):
        """The :class:`AssignRun` of a plan (program settings read once); a
        re-classification always applies."""
        return AssignRun(
            eval_date,
            full,
            bool(self.program.auto_apply or force_apply or reclassify),
            keep_at,
            bool(reclassify),
        )

    def _assign(self, fig, old, run):
        """Decide the assigned and effective tier of one profile.

        ``old`` is the profile's stored state (None for a new profile),
        ``run`` the plan's :class:`AssignRun`. In the order of the rule: the
        tier the profile holds (:meth:`_held_tier`), the tier it is assigned
        now with the cause and the downgrade grace (:meth:`_assigned_tier`),
        the revenue to keep that tier (:meth:`_keep_amount`), the manual
        override (:meth:`_override_state`), the effective tier (the override,
        else the assigned tier) and the cause of its move (:meth:`_cause`).

        Returns the profile values to write and the change
        ``(old tier, new tier, cause)``, or None when the effective tier
        stays.
        """
        old = old or {}
        computed = fig.get("computed_tier_id")
        held = self._held_tier(old)
        assigned, cause, grace, spent = self._assigned_tier(fig, old, held, run)
        if assigned == held:
            cause = None  # (the assigned tier stays: no move of its own)
        pending, count, since = grace
        manual, reason, end_date = self._override_state(fig, old, run.eval_date)
        effective = manual or assigned
        values = {
            "downgrade_tier_id": pending,
            "downgrade_count": count,
            "downgrade_since": since,
            "assigned_tier_id": assigned,
            "revenue_to_keep": self._keep_amount(fig, assigned, pending, run.keep_at),
            "manual_tier_id": manual,
            "manual_reason": reason,
            "manual_end_date": end_date,
            "tier_id": effective,
            "tier_sequence": self.tier_sequence[effective] if effective else None,
            "manual_differs": bool(manual and manual != computed),
            "at_risk": bool(pending),
        }
        if spent:
            # (for the reason of the move; plan() takes it out)
            values["grace_spent"] = spent
        old_effective = old.get("tier_id")
        if effective == old_effective:
            values["tier_since"] = old.get("tier_since")
            return values, None
        values["tier_since"] = run.eval_date
        return values, (old_effective, effective, self._cause(old, manual, cause))

    def _held_tier(self, old):
        """The tier the profile was assigned, None when it has none or that
        tier left the program (archived or removed)."""
        held = old.get("assigned_tier_id")
        return held if held in self.tier_by_id else None

    def _assigned_tier(self, fig, old, held, run):
        """``(assigned tier, cause, grace, grace spent)`` of one profile, the
        first rule that applies deciding:

        1. a prospect: :meth:`_prospect_step`;
        2. a customer holding no tier or a prospect grade:
           :meth:`_first_tier_step`;
        3. computed tiers not applied (neither automatically nor forced): the
           held tier stays, the grace as it was;
        4. a computed tier as good as the held one or better (upgrade):
           applies at once (cause ``computed``, ``reclassify`` in a
           re-classification), any grace ends;
        5. a worse one (downgrade): :meth:`_downgrade_step`.

        ``grace`` is the downgrade grace state after the decision: ``(pending
        lower tier, evaluations below the tier, date since)``; ``grace
        spent``, only when the grace ran out: ``(evaluations, date since)``.
        """
        computed = fig.get("computed_tier_id")
        if fig["is_prospect"]:
            return self._prospect_step(computed, held, run)
        if not held or self.tier_kind[held] != "customer":
            return self._first_tier_step(computed, old)
        grace = (
            old.get("downgrade_tier_id"),
            old.get("downgrade_count") or 0,
            old.get("downgrade_since"),
        )
        if not run.apply:
            return held, None, grace, None
        if computed == held or self._better(computed, held):
            cause = "reclassify" if run.reclassify else "computed"
            return computed, cause, NO_GRACE, None
        return self._downgrade_step(computed, held, grace, old, run)

    def _prospect_step(self, computed, held, run):
        """A prospect takes the grade its score gives (None: ungraded) at
        once, without grace: cause ``initial`` when it held no tier, else
        ``computed``; without application a grade it holds stays."""
        if held and self.tier_kind[held] == "prospect" and not run.apply:
            return held, None, NO_GRACE, None
        return computed, "computed" if held else "initial", NO_GRACE, None

    def _first_tier_step(self, computed, old):
        """A customer without a customer tier takes its computed tier at once,
        without grace: cause ``first_order`` when it was a prospect (its first
        counted order), else ``initial``."""
        cause = "first_order" if old.get("is_prospect") else "initial"
        return computed, cause, NO_GRACE, None

    def _downgrade_step(self, computed, held, grace, old, run):
        """A worse computed tier: an incremental evaluation keeps the held
        tier and the grace as they are (downgrades wait for the next full
        evaluation); in a re-classification (``run.reclassify``, a full
        evaluation a manager applies after changing the method or the bounds)
        it applies at once whatever the grace (cause ``reclassify``) and any
        pending grace ends; without grace (length 0) it applies at once (cause
        ``computed``) and any pending grace ends; else the grace counts
        (:meth:`_grace_step`)."""
        if not run.full:
            return held, None, grace, None
        if run.reclassify:
            return computed, "reclassify", NO_GRACE, None
        if self.program.grace_length <= 0:
            return computed, "computed", NO_GRACE, None
        return self._grace_step(computed, held, grace, old, run)

    def _grace_step(self, computed, held, grace, old, run):
        """Downgrade grace, on a full evaluation below the held tier: the
        count starts at 1 and ``since`` at the evaluation date on the first
        one; each later one on another date than the last full evaluation
        adds 1 (a rerun of the same date counts once), ``since`` stays. The
        grace is spent once the count (unit evaluations), or the days from
        ``since`` to the evaluation date (unit days), reaches the program's
        grace length: the computed tier applies (cause ``grace``) and the
        grace ends. Until then the held tier stays, at risk, with the
        computed tier pending."""
        pending, count, since = grace
        eval_date = run.eval_date
        if pending:
            same_run = old.get("full_evaluation_date") == eval_date
            count += 0 if same_run else 1
            since = since or eval_date
        else:
            count, since = 1, eval_date
        program = self.program
        if program.grace_unit == "days":
            spent = (eval_date - since).days >= program.grace_length
        else:
            spent = count >= program.grace_length
        if spent:
            return computed, "grace", NO_GRACE, (count, since)
        return held, None, (computed, count, since), None

    def _keep_amount(self, fig, assigned, pending, keep_at):
        """Revenue still needed in the window to qualify for the assigned
        tier again, while a downgrade is pending (else 0): threshold, the
        tier's minimum revenue (if it sets one) less the window revenue;
        Pareto, the revenue to outrank (``keep_at``: :meth:`_keep_amounts`)
        less the window revenue, plus the currency's smallest unit; RFM, 0.
        Past revenue only: 0 when a feature ranks by another figure
        (``value_key``; nothing to "bring" for a predicted value). Rounded to
        the currency, never negative."""
        keep = 0.0
        if pending and assigned and self.value_key == "revenue_window":
            tier = self.tier_by_id[assigned]
            method = self.method
            if method == "threshold" and tier.min_revenue:
                keep = tier.min_revenue - fig["revenue_window"]
            elif method == "pareto" and assigned in keep_at:
                keep = (
                    keep_at[assigned]
                    - fig["revenue_window"]
                    + 10**-self.currency.decimal_places
                )
        return round(max(keep, 0.0), self.currency.decimal_places)

    def _override_state(self, fig, old, eval_date):
        """``(manual tier, reason, end date)`` the profile keeps: the stored
        override, which ends (all three empty) once its end date has passed
        (before the evaluation date: the plan ends it, so a preview shows the
        end as a move), or when its tier left the program or is of the other
        kind than the partner (a grade on a customer, a customer tier on a
        prospect)."""
        manual = old.get("manual_tier_id")
        if manual:
            kind = "prospect" if fig["is_prospect"] else "customer"
            end_date = old.get("manual_end_date")
            if (
                (end_date and end_date < eval_date)
                or manual not in self.tier_by_id
                or self.tier_kind[manual] != kind
            ):
                return NO_OVERRIDE
        return manual, old.get("manual_reason"), old.get("manual_end_date")

    def _cause(self, old, manual, cause):
        """The cause of a move of the effective tier: ``manual`` under an
        override; ``override_end`` when the stored override ended (unless the
        move is the customer's first tier or first order); else the cause of
        the assignment, ``computed`` when it has none (the assigned tier stays
        but the effective one moves)."""
        if manual:
            return "manual"
        if old.get("manual_tier_id") and cause not in ("first_order", "initial"):
            return "override_end"
        return cause or "computed"

    # ------------------------------------------------------------------
    # Reason of a move, in words (history and profile notes)
    # ------------------------------------------------------------------
    def _reason_env(self):
        """The environment the reasons are written in: the running user's
        language (the context's, else the user's, else the company's)."""
        if self._reason_env_cache is None:
            env = self.env
            if not env.lang:
                lang = env.user.lang or self.company.partner_id.lang or "en_US"
                env = env(context=dict(env.context, lang=lang))
            self._reason_env_cache = env
        return self._reason_env_cache

    def _formats(self, env):
        """The number and amount formats of ``env``'s language (one per run)."""
        formats = self._formats_cache.get(env.lang)
        if formats is None:
            formats = self._formats_cache[env.lang] = _Formats(env, self.currency)
        return formats

    def _move_reason(self, fig, change, grace_spent=None, env=None):
        """The reason in words of a move ``(old tier id, new tier id, cause)``
        (None for a manual override: the manager's reason stays), from the
        figures the tiers were decided on."""
        old_id, new_id, cause = change
        if cause == "manual":
            return None
        env = env or self._reason_env()
        if fig["is_prospect"]:
            # the grade's score, as the prospect scoring explains it
            text = fig.get("prospect_score_explanation") or ""
            return text.splitlines()[0] if text else None
        method = self.method
        if method == "pareto":
            reason = self._reason_pareto(fig, old_id, new_id, env)
        elif method == "rfm":
            reason = self._reason_rfm(fig, new_id, env)
        else:
            reason = self._reason_threshold(fig, old_id, new_id, env)
        if cause == "grace" and old_id in self.tier_by_id:
            count, since = grace_spent or (1, None)
            old = self._tier_name(old_id, env)
            if self.program.grace_unit == "days" and since:
                spent = env._(
                    "Grace ran out after %(days)s days below %(tier)s.",
                    days=self._formats(env).number(
                        (fig["evaluation_date"] - since).days
                    ),
                    tier=old,
                )
            else:
                spent = env._(
                    "Grace ran out after %(count)s evaluations below %(tier)s.",
                    count=count,
                    tier=old,
                )
            reason = f"{spent} {reason}"
        computed = fig.get("computed_tier_id")
        if new_id and computed and new_id != computed:
            # an override ended while the tier is at risk: kept for the grace
            reason += " " + env._(
                "%(tier)s is kept during the grace period.",
                tier=self._tier_name(new_id, env),
            )
        return reason

    def _tier_name(self, tier_id, env):
        if not tier_id:
            return env._("No tier")
        key = (tier_id, env.lang)
        if key not in self._tier_names:
            tier = self.tier_by_id[tier_id].with_context(lang=env.lang)
            self._tier_names[key] = tier.display_name
        return self._tier_names[key]

    @staticmethod
    def _join_conditions(texts, env):
        """``a, b, c`` with the language's separator."""
        joined = texts[0] if texts else ""
        for text in texts[1:]:
            joined = env._(
                "%(conditions)s, %(condition)s", conditions=joined, condition=text
            )
        return joined

    def _threshold_conditions(self, fig, rule, env):
        """``(met, text)`` of each condition a threshold tier sets, with the
        customer's figure and the bound."""
        _tier, min_rev, min_orders, max_recency, min_margin, _p, _s = rule
        fmt = self._formats(env)
        value = fig[self.value_key]
        orders = fig["order_count_window"]
        days = fig["recency_days"]
        margin = fig["margin_window"]
        checks = self._threshold_checks(rule, value, orders, days, margin)
        revenue_met, orders_met, recency_met, margin_met = checks

        def at_least(met):
            return "≥" if met else "<"

        conditions = []
        if revenue_met is not None:
            params = {
                "value": fmt.amount(value),
                "op": at_least(revenue_met),
                "bound": fmt.amount(min_rev),
            }
            if self.value_key != "revenue_window":
                text = env._(
                    "predicted 12-month value %(value)s %(op)s %(bound)s", **params
                )
            elif self.invoiced_basis():
                text = env._(
                    "invoiced revenue in window %(value)s %(op)s %(bound)s", **params
                )
            else:
                text = env._("revenue in window %(value)s %(op)s %(bound)s", **params)
            conditions.append((revenue_met, text))
        if orders_met is not None:
            text = env._(
                "%(count)s orders in window %(op)s %(bound)s",
                count=fmt.number(orders),
                op=at_least(orders_met),
                bound=fmt.number(min_orders),
            )
            conditions.append((orders_met, text))
        if recency_met is not None:
            text = env._(
                "last order %(days)s days ago %(op)s %(bound)s",
                days=fmt.number(days),
                op="≤" if recency_met else ">",
                bound=fmt.number(max_recency),
            )
            conditions.append((recency_met, text))
        if margin_met is not None:
            params = {
                "value": fmt.amount(margin),
                "op": at_least(margin_met),
                "bound": fmt.amount(min_margin),
            }
            if self.invoiced_basis():
                text = env._(
                    "invoiced margin in window %(value)s %(op)s %(bound)s", **params
                )
            else:
                text = env._("margin in window %(value)s %(op)s %(bound)s", **params)
            conditions.append((margin_met, text))
        return conditions

    def _reason_threshold(self, fig, old_id, new_id, env):
        """Thresholds: down, the conditions of each tier left that are no
        longer met; else the conditions of the new tier, met, or those of the
        tier above it, missed (the fallback tier has none)."""
        rules = {rule[0].id: rule for rule in self.tier_rules}
        kind = self.tier_kind[new_id] if new_id else None
        same_kind = old_id in self.tier_kind and self.tier_kind[old_id] == kind
        parts = []
        if same_kind and new_id and self._better(old_id, new_id):
            # down: every tier from the old one to the one above the new
            for rule in self.tier_rules:
                tid = rule[0].id
                if self._better(tid, new_id) and not self._better(tid, old_id):
                    missed = [
                        t
                        for met, t in self._threshold_conditions(fig, rule, env)
                        if not met
                    ]
                    if missed:
                        parts.append(
                            env._(
                                "No longer meets %(tier)s: %(conditions)s",
                                tier=self._tier_name(tid, env),
                                conditions=self._join_conditions(missed, env),
                            )
                        )
        if not parts and new_id in rules:
            conditions = self._threshold_conditions(fig, rules[new_id], env)
            if all(met for met, _t in conditions):
                params = {
                    "tier": self._tier_name(new_id, env),
                    "conditions": self._join_conditions(
                        [t for _m, t in conditions], env
                    )
                    or env._("no condition"),
                }
                if same_kind and self._better(new_id, old_id):
                    parts.append(env._("Now meets %(tier)s: %(conditions)s", **params))
                else:
                    parts.append(env._("Meets %(tier)s: %(conditions)s", **params))
        if not parts and self.tier_rules:
            # the fallback tier (or a tier kept at risk): what the tier above
            # the computed one misses
            computed = fig.get("computed_tier_id") or new_id
            above = [r for r in self.tier_rules if self._better(r[0].id, computed)]
            if above:
                rule = above[-1]
                missed = [
                    t
                    for met, t in self._threshold_conditions(fig, rule, env)
                    if not met
                ]
                parts.append(
                    env._(
                        "Does not meet %(tier)s: %(conditions)s",
                        tier=self._tier_name(rule[0].id, env),
                        conditions=self._join_conditions(missed, env),
                    )
                )
        if not parts:
            return ""
        reason = parts[0]
        for part in parts[1:]:
            reason = env._("%(reasons)s; %(reason)s", reasons=reason, reason=part)
        return env._("%(reason)s.", reason=reason)

    def _reason_pareto(self, fig, old_id, new_id, env):
        """Pareto: whether the customer's cumulative share is within or beyond
        the bound of the tier it left, entered, or passed. The share itself
        is not written: the reason is stored on the history and the
        profile's chatter, which salespeople limited to their own customers
        read, and a company-wide share would tell them other customers'
        revenue (the profile's share fields are the company-wide readers')."""
        predicted = self.value_key != "revenue_window"
        computed = fig.get("computed_tier_id") or new_id
        if fig[self.value_key] <= 0:
            if predicted:
                return env._(
                    "No predicted value: %(tier)s.", tier=self._tier_name(computed, env)
                )
            if self.invoiced_basis():
                return env._(
                    "No invoiced revenue in window: %(tier)s.",
                    tier=self._tier_name(computed, env),
                )
            return env._(
                "No revenue in window: %(tier)s.", tier=self._tier_name(computed, env)
            )
        share = fig["cumulative_share"] * 100.0
        bounds = {r[0].id: r[5] for r in self.tier_rules if r[5]}
        if old_id in bounds and share > bounds[old_id] + EPSILON:
            tier_id, within = old_id, False
        elif computed in bounds:
            tier_id, within = computed, True
        else:
            # the rest: beyond the widest bound
            tier_id = next(iter(reversed(list(bounds))), None)
            within = False
        if not tier_id:
            return env._("No tier sets a cumulative share bound.")
        bound = bounds[tier_id]
        params = {
            "bound": self._formats(env).number(bound, 0 if bound.is_integer() else 1),
            "tier": self._tier_name(tier_id, env),
        }
        if predicted and within:
            return env._(
                "Cumulative share of predicted 12-month value within the "
                "%(bound)s %% bound of %(tier)s.",
                **params,
            )
        if predicted:
            return env._(
                "Cumulative share of predicted 12-month value beyond the "
                "%(bound)s %% bound of %(tier)s.",
                **params,
            )
        if within:
            return env._(
                "Cumulative share within the %(bound)s %% bound of %(tier)s.", **params
            )
        return env._(
            "Cumulative share beyond the %(bound)s %% bound of %(tier)s.", **params
        )

    def _reason_rfm(self, fig, new_id, env):
        """RFM: the customer's scores, its segment and the tier it maps to."""
        computed = fig.get("computed_tier_id") or new_id
        scores = {
            "r": fig.get("rfm_recency_score"),
            "f": fig.get("rfm_frequency_score"),
            "m": fig.get("rfm_monetary_score"),
            "tier": self._tier_name(computed, env),
        }
        segment_id = fig.get("rfm_segment_id")
        segment = next((s for s in self.segments if s.id == segment_id), None)
        if not segment:
            return env._(
                "RFM scores R %(r)s, F %(f)s, M %(m)s fall in no segment: "
                "%(tier)s, the fallback.",
                **scores,
            )
        name = segment.with_context(lang=env.lang).name
        if any(segment_id in r[6] for r in self.tier_rules):
            return env._(
                "RFM segment %(segment)s (R %(r)s, F %(f)s, M %(m)s) maps to %(tier)s.",
                segment=name,
                **scores,
            )
        return env._(
            "RFM segment %(segment)s (R %(r)s, F %(f)s, M %(m)s) maps to no tier: "
            "%(tier)s, the fallback.",
            segment=name,
            **scores,
        )

    # ------------------------------------------------------------------
    # Steady state: what changed since the stored profiles
    # ------------------------------------------------------------------
    def stale_partners(self, figures, state):
        """Customers whose per-customer features (product categories) a full
        evaluation must compute again, or None for every customer: those
        with no profile yet, and those whose inputs (:data:`INPUT_COLUMNS`:
        the figures of their orders, window included, and the marker of
        their counted orders) differ from the stored profile, i.e. an order
        of theirs was confirmed, cancelled, changed or left the window since
        the profile was written. Every customer when the program, a product
        or a product category changed since the program's last full
        evaluation (``last_run_at``), or when there was none."""
        last_run = self.program.last_run_at
        if not last_run:
            return None
        changed = self.env.execute_query(
            SQL(
                """
                SELECT EXISTS (SELECT 1 FROM customer_tier_program
                                WHERE id = %(program)s AND write_date > %(since)s)
                    OR EXISTS (SELECT 1 FROM product_category
                                WHERE write_date > %(since)s)
                    OR EXISTS (SELECT 1 FROM product_template
                                WHERE write_date > %(since)s)
                    OR EXISTS (SELECT 1 FROM product_product
                                WHERE write_date > %(since)s)
                """,
                program=self.program.id,
                since=last_run,
            )
        )[0][0]
        if changed:
            return None
        inputs = INPUT_COLUMNS
        if self.invoiced_basis():
            # the stored money is invoiced (customer_tier_value_basis.py), the
            # figures' the orders': the orders' counts, dates and marker tell
            # whether an order changed
            inputs = tuple(c for c in INPUT_COLUMNS if c not in MONEY_COLUMNS)
        stale = set()
        stored = values_of(inputs)
        for pid, fig in figures.items():
            old = state.get(pid)
            if old is None:
                stale.add(pid)
            elif _differs(stored, old, fig) and any(
                not _same(old.get(c), fig.get(c)) for c in inputs
            ):
                stale.add(pid)
        return stale

    def is_stale(self, pid):
        """Whether the features compute ``pid`` again (:meth:`stale_partners`)."""
        return self.stale is None or pid in self.stale

    def changed_rows(self, rows, eval_date, batched=False):
        """The rows of a full evaluation that differ from their stored
        profile, or that a feature must write anyway
        (``EngineFeature.keep_row``): a row equal in every column the plan
        decided (the columns ``rows`` hold, except the date of the full
        evaluation unless ``batched``: a batch marks its rows with it) is
        left as stored, and no hook sees it. A profile refreshed or fully
        evaluated after ``eval_date`` (an evaluation of an earlier date) is
        written again."""
        state = self.state
        compared = [
            c
            for c in dict.fromkeys(self.columns + self.full_columns)
            if c not in KEEP_ON_CONFLICT and (batched or c != "full_evaluation_date")
        ]
        changed = []
        self.differing = differing = {}
        # (the features that may keep a row, asked of each unchanged one)
        keepers = [
            f.keep_row
            for f in self.features
            if type(f).keep_row is not EngineFeature.keep_row
        ]
        # (rows of one shape, a buying customer's or a prospect's, compare
        # the same columns)
        shapes = {}
        for row in rows:
            shape = tuple(row)
            if shape not in shapes:
                present = [c for c in compared if c in row]
                shapes[shape] = present, present and values_of(present)
            present, values = shapes[shape]
            old = state.get(row["partner_id"])
            if old is None:
                changed.append(row)
                continue
            columns = (
                [c for c in present if not _same(old.get(c), row[c])]
                if present and _differs(values, old, row)
                else []
            )
            if (
                columns
                or (old["full_evaluation_date"] or eval_date) > eval_date
                or any(keep(row, old) for keep in keepers)
            ):
                differing[row["partner_id"]] = columns
                changed.append(row)
        # (the columns the hooks fill later are compared by update_profiles)
        self.compared = {c for present, _values in shapes.values() for c in present}
        return changed

    # ------------------------------------------------------------------
    # Plan (pure) and write
    # ------------------------------------------------------------------
    def plan(
        self,
        eval_date=None,
        partner_ids=None,
        force_apply=False,
        batch_size=None,
        reclassify=False,
        batch_after=None,
    ):
        """Compute everything, write nothing.

        Returns ``(rows, changes)``: ``rows`` maps partner id to the full
        profile values; ``changes`` is a list of
        ``(partner_id, old_tier_id, new_tier_id, cause)``.

        With ``batch_size`` (full evaluation only), the figures and scores
        still cover every customer (ranks and shares need them all), but the
        rows are those of the next batch only: the first ``batch_size``
        profiles, by partner id, not yet evaluated for ``eval_date``
        (``self.batch_ids``; ``self.batch_remaining`` counts the others).
        Features restrict their own queries to them (:meth:`in_batch`). The
        first call keeps of the others only what ranks and scores them
        (:meth:`_plan_opening`), unless a feature ranks (``ranks``); the
        later ones read their scores from the snapshot it wrote
        (:meth:`_plan_continue`).
        With ``batch_after`` (a partner id), the batch is the next profiles
        by partner id after it, evaluated for ``eval_date`` or not (a
        recompute a manager applied, run in batches by the scheduled action:
        ``customer.tier.recompute.request``).

        ``reclassify`` (full evaluation only) plans a re-classification:
        computed tiers apply at once, downgrades without grace
        (:meth:`_downgrade_step`).
        """
        if not self.tiers:
            raise UserError(
                self.env._(
                    "The tier program %(program)s has no active customer tier.",
                    program=self.program.name,
                )
            )
        eval_date = eval_date or fields.Date.context_today(self.program)
        full = partner_ids is None
        self.env.flush_all()
        self._head = None
        self._moved_cache = None
        self._snapshot = None
        self._continued = False
        if full and batch_size:
            head = self._ranking().head()
            if self._continues(head, eval_date, reclassify, batch_after):
                return self._plan_continue(
                    head, eval_date, batch_size, force_apply, reclassify
                )
            if not any(feature.ranks for feature in self.features):
                planned = self._plan_opening(
                    eval_date, batch_size, force_apply, reclassify, batch_after
                )
                if planned is not None:
                    return planned
        # (with the features' inputs, a refresh as well: the prediction's)
        agg_rows = self.env.execute_query(
            self.aggregate_query(eval_date, partner_ids, inputs=True)
        )
        figures = self._figures(agg_rows, eval_date)
        deferred = False
        if full:
            self._score_full(figures)
            state = self._load_state(full=True)
            candidates = set(state) | self._prospect_ids()
            self.stale = self.stale_partners(figures, state)
        else:
            # (a snapshot ranked by a feature's figure, e.g. the predicted
            # value: scored once the feature switched to it, below)
            deferred = self._ranked_by_another()
            if not deferred:
                self._score_incremental(figures, eval_date)
            state = self._load_state(partner_ids)
            candidates = set(partner_ids)
            self.stale = None
        self.state = state
        everyone = sorted(candidates | set(figures))
        self.full = full
        self.batch_ids = None
        self.batch_remaining = 0
        if full and batch_size:
            everyone = self._select_batch(
                everyone,
                {pid: old["full_evaluation_date"] for pid, old in state.items()},
                eval_date,
                batch_size,
                batch_after,
            )
        self.prospects = {
            pid: dict(self._prospect_figures(), computed_tier_id=None)
            for pid in candidates - set(figures)
        }
        # Features add their figures, before the tiers are computed from them.
        self.scores_stale = False
        self.extend_figures(figures, eval_date, full)
        if self.scores_stale or self.value_key != "revenue_window" or deferred:
            # a feature switched the ranking figure or replaced figures the
            # scores read (or the refresh waited for it): rank and score again
            if full:
                self._score_full(figures)
            else:
                self._score_incremental(figures, eval_date)
        for fig in figures.values():
            fig["computed_tier_id"] = self.computed_tier(fig).id
        weakest = (
            self._keep_amounts(figures, partner_ids) if self.method == "pareto" else {}
        )
        if full:
            # the ranking snapshot run() writes (customer_tier_ranking.py)
            self._snapshot = self._snapshot_of(
                figures,
                (candidates - set(state) - set(figures)) if batch_size else (),
                eval_date,
                weakest,
                reclassify,
                batch_after,
                batched=bool(batch_size),
            )
        return self._decide(
            figures, state, everyone, eval_date, full, force_apply, reclassify, weakest
        )

    def _select_batch(self, everyone, evaluated, eval_date, batch_size, batch_after):
        """The batch of a batched full evaluation among ``everyone`` (sorted
        partner ids), set on ``self.batch_ids`` and ``self.batch_remaining``
        and returned sorted: the first ``batch_size`` not evaluated yet for
        ``eval_date`` (``evaluated``: partner id -> its profile's date of
        full evaluation), or, with ``batch_after``, the first after it."""
        if batch_after is not None:
            pending = [pid for pid in everyone if pid > batch_after]
        else:
            pending = [pid for pid in everyone if evaluated.get(pid) != eval_date]
        self.batch_ids = set(pending[:batch_size])
        self.batch_remaining = len(pending) - len(self.batch_ids)
        return sorted(self.batch_ids)

    def _snapshot_of(self, figures, others, eval_date, weakest, *run, batched):
        """What :meth:`_write_ranking` stores of a full evaluation (or of a
        batched one's first call): the scored ``figures`` of every customer,
        the ``others`` (partners without figures) and the header."""
        reclassify, batch_after = run
        return {
            "figures": figures,
            "others": others,
            "head": {
                "eval_date": eval_date,
                "value_key": self.value_key,
                "keep_at": weakest,
                "state": "batching" if self.batch_remaining else "done",
                "run_key": self._run_key(reclassify, batch_after) if batched else None,
                "cursor": max(self.batch_ids, default=0)
                if self.batch_ids is not None
                else None,
                "pending_count": self.batch_remaining if batched else None,
            },
        }

    def _plan_opening(
        self, eval_date, batch_size, force_apply, reclassify, batch_after
    ):
        """The first call of a batched evaluation (:meth:`plan`), in memory
        bounded by its batch: every customer is ranked and scored, given its
        computed tier and written to the snapshot from its
        :class:`RankedFigures` (read from the company's aggregate of orders
        a chunk at a time); the figures dicts, the stored profiles in full,
        the prospect rows and the features' figures are those of the batch
        only (:meth:`_batch_figures`). Same figures, scores and tiers as the
        whole figures give (the features do not rank: ``ranks``); None,
        for :meth:`plan` to rank the whole figures, when a feature replaced
        the ranking figures all the same."""
        self.full = True
        evaluated = self._evaluation_dates()
        ranked = self._ranked_figures(eval_date)
        candidates = set(evaluated) | self._prospect_ids()
        batch = self._select_batch(
            sorted(candidates | ranked.keys()),
            evaluated,
            eval_date,
            batch_size,
            batch_after,
        )
        self._score_full(ranked)
        figures = self._batch_figures(eval_date, batch, ranked)
        self.scores_stale = False
        self.extend_figures(figures, eval_date, True)
        if self.scores_stale or self.value_key != "revenue_window":
            return None
        # (every customer's order inputs served the features: the
        # prediction's fit; the batch's are kept)
        self.order_days = {pid: self.order_days[pid] for pid in figures}
        for pid, fig in ranked.items():
            batch_fig = figures.get(pid)
            if batch_fig is not None:
                batch_fig["computed_tier_id"] = self.computed_tier(batch_fig).id
                fig.computed_tier_id = batch_fig["computed_tier_id"]
            else:
                fig.computed_tier_id = self.computed_tier(fig).id
        weakest = self._keep_amounts(ranked) if self.method == "pareto" else {}
        self._snapshot = self._snapshot_of(
            ranked,
            candidates - set(evaluated) - set(ranked),
            eval_date,
            weakest,
            reclassify,
            batch_after,
            batched=True,
        )
        return self._decide(
            figures,
            self.state,
            batch,
            eval_date,
            True,
            force_apply,
            reclassify,
            weakest,
        )

    def _evaluation_dates(self):
        """Partner id -> date of full evaluation of the company's stored
        profiles: all the first call of a batched evaluation reads of the
        profiles outside its batch."""
        return dict(
            self.env.execute_query(
                SQL(
                    "SELECT partner_id, full_evaluation_date FROM customer_tier_profile"
                    " WHERE company_id = %s",
                    self.company.id,
                )
            )
        )

    def _ranked_figures(self, eval_date):
        """Every customer's :class:`RankedFigures` (partner id -> them), from
        the company's aggregate of orders read :data:`RANKED_CHUNK` rows at a
        time (their figures dicts dropped chunk by chunk); every customer's
        order inputs go to ``self.order_days``.

        The rows come from a cursor of the transaction (``DECLARE``, then
        ``FETCH``): other statements may run between two chunks (the ORM
        reading a field for the figures), and the statement is planned for
        all its rows (``cursor_tuple_fraction`` 1), as when run alone."""
        self.order_days = {}
        ranked = {}
        with transaction_setting(self.env, "cursor_tuple_fraction", "1"):
            self.cr.execute(
                SQL(
                    "DECLARE ranked_figures NO SCROLL CURSOR FOR %s",
                    self.aggregate_query(eval_date, inputs=True),
                )
            )
        fetch = SQL("FETCH %s FROM ranked_figures", RANKED_CHUNK)
        while rows := self.env.execute_query(fetch):
            figures = self._figures(rows, eval_date, self.order_days)
            for pid, fig in figures.items():
                ranked[pid] = RankedFigures(fig)
        self.cr.execute(SQL("CLOSE ranked_figures"))
        return ranked

    def _batch_figures(self, eval_date, batch, ranked):
        """The figures dicts of the batch's customers (its own aggregate of
        orders: the same figures as the company's), with the scores
        ``ranked`` gave them; the batch's stored profiles in full
        (``self.state``), the customers whose features are computed again
        (``self.stale``) and the batch's prospect rows (``self.prospects``)."""
        customers = [pid for pid in batch if pid in ranked]
        agg_rows = (
            self.env.execute_query(
                self.aggregate_query(eval_date, customers, inputs=True)
            )
            if customers
            else []
        )
        # (the order inputs of everyone stay those of the company's scan)
        figures = self._figures(agg_rows, eval_date, order_days={})
        for pid, fig in figures.items():
            fig.update(ranked[pid].scores())
        self.state = self._load_state(batch, full=True)
        self.stale = self.stale_partners(figures, self.state)
        self.prospects = {
            pid: dict(self._prospect_figures(), computed_tier_id=None)
            for pid in batch
            if pid not in ranked
        }
        return figures

    def _decide(self, figures, state, everyone, eval_date, full, *assign):
        """Assign the tiers of ``everyone`` from their scored figures (or
        prospect rows) and stored state: ``(rows, changes)`` of :meth:`plan`."""
        force_apply, reclassify, weakest = assign
        rows = {}
        changes = []
        run = self._assign_run(
            eval_date, full, force_apply, weakest, reclassify=reclassify and full
        )
        for pid in everyone:
            fig = figures.get(pid) or self.prospects[pid]
            old = state.get(pid)
            values, change = self._assign(fig, old, run)
            grace_spent = values.pop("grace_spent", None)
            # (the figures dict becomes the row: no copy of every customer's
            # figures; what the snapshot reads of it stays as scored)
            row = fig
            row.update(values)
            row.update(
                partner_id=pid,
                company_id=self.company.id,
                program_id=self.program.id,
                # (not stored: the profile's evaluation date is the program's
                # last full evaluation, or the later refresh of the customer)
                evaluation_date=eval_date,
                refresh_date=None if full else eval_date,
                full_evaluation_date=(
                    eval_date
                    if full
                    else (old.get("full_evaluation_date") if old else None)
                ),
            )
            rows[pid] = row
            if change:
                row["move_reason"] = self._move_reason(row, change, grace_spent)
                changes.append((pid, *change))
        return rows, changes

    # ------------------------------------------------------------------
    # Ranking snapshot (customer_tier_ranking.py): batches and refreshes
    # ------------------------------------------------------------------
    def _ranking(self):
        return self.env["customer.tier.ranking"]._ranking(self)

    @staticmethod
    def _run_key(reclassify, batch_after):
        """What tells a batched evaluation from another of the same date."""
        mode = "after" if batch_after is not None else "pending"
        return f"{mode}:{'reclassify' if reclassify else 'evaluate'}"

    def _continues(self, head, eval_date, reclassify, batch_after):
        """Whether a batched call continues the evaluation whose first call
        wrote the snapshot ``head``: same date, same kind of run, not done,
        the same ranking figure, and (a recompute request) the batch follows
        the partner its last batch ended with."""
        return bool(
            head
            and head["state"] == "batching"
            and head["eval_date"] == eval_date
            and head["run_key"] == self._run_key(reclassify, batch_after)
            and (batch_after is None or batch_after == head["cursor"])
        )

    def _plan_continue(self, head, eval_date, batch_size, force_apply, reclassify):
        """A later call of a batched evaluation: the next batch, its figures
        aggregated for its customers only, scored from the snapshot the
        first call wrote (the first call's ranks and shares; a customer
        whose figures changed since is scored against it as a refresh
        would), with the first call's revenue to outrank. Costs what the
        batch has customers."""
        ranking = self._ranking()
        self._head = head
        self._continued = True
        batch, remaining = ranking.next_batch(
            eval_date,
            batch_size,
            head["cursor"],
            evaluated_too=head["run_key"].startswith("after"),
            counted=head["pending_count"],
        )
        self.full = True
        self.batch_ids = set(batch)
        self.batch_remaining = remaining
        agg_rows = (
            self.env.execute_query(self.aggregate_query(eval_date, batch, inputs=True))
            if batch
            else []
        )
        figures = self._figures(agg_rows, eval_date)
        # (the batch's stored profiles, every column the run compares, and
        # the customers whose per-customer features are computed again)
        state = self._load_state(batch, full=True)
        self.state = state
        self.stale = self.stale_partners(figures, state)
        self.prospects = {
            pid: dict(self._prospect_figures(), computed_tier_id=None)
            for pid in set(batch) - set(figures)
        }
        self.extend_figures(figures, eval_date, True)
        # (the ranking figure of the day, whatever the batch's predictions)
        self.value_key = head["value_key"]
        self._score_from_snapshot(figures, head)
        for fig in figures.values():
            fig["computed_tier_id"] = self.computed_tier(fig).id
        weakest = {int(k): v for k, v in (head["keep_at"] or {}).items()}
        return self._decide(
            figures, state, batch, eval_date, True, force_apply, reclassify, weakest
        )

    def _score_from_snapshot(self, figures, head):
        """Scores of a batch: a customer whose ranking figures are the
        snapshot's takes the scores the first call gave it (rank, shares
        and RFM scores as :meth:`_score_full` computed them); the others are
        scored against the snapshot (:meth:`_score_snapshot`)."""
        if not figures:
            return
        key = self.value_key
        moved = self._moved(list(figures), key)
        n = head["member_count"]
        total = head["total_float"]
        changed = {}
        for pid, fig in figures.items():
            entry = moved.get(pid)
            if not (
                entry
                and entry["member"]
                and not entry["moved"]
                and entry["value"] == decimal(fig[key])
                and entry["last"] == fig["last_order_date"]
                and entry["cnt"] == fig["order_count_window"]
                and entry["rev"] == decimal(fig["revenue_window"])
            ):
                changed[pid] = fig
                continue
            fig["pareto_rank"] = entry["rank"]
            fig["revenue_share"] = fig[key] / total if total else 0.0
            fig["cumulative_share"] = entry["cum_float"] / total if total else 0.0
            fig["rfm_recency_score"] = cume_score(entry["r_le"], n)
            fig["rfm_frequency_score"] = cume_score(entry["f_le"], n)
            fig["rfm_monetary_score"] = cume_score(entry["m_le"], n)
            fig["rfm_segment_id"] = self._segment(fig)
        if changed:
            self._score_snapshot(changed, head)

    def _ranked_by_another(self):
        """Whether the snapshot ranks by another figure than the engine's
        (before a feature switched it: :meth:`rank_by`)."""
        if self._head is None:
            self._head = self._ranking().head() or False
        return bool(self._head and self._head["value_key"] != self.value_key)

    def _head_for_scores(self):
        """The snapshot header when a refresh can score from it (it ranks by
        the engine's ranking figure), else None."""
        if self._head is None:
            self._head = self._ranking().head() or False
        head = self._head
        return head if head and head["value_key"] == self.value_key else None

    def _moved(self, partner_ids, key):
        """The moved entries and those of ``partner_ids`` (one query per
        plan and ranking figure)."""
        if self._moved_cache is None or self._moved_cache[0] != key:
            self._moved_cache = (key, self._ranking().moved(partner_ids, key))
        return self._moved_cache[1]

    def run(
        self,
        eval_date=None,
        partner_ids=None,
        batch_size=None,
        force_apply=False,
        run_ref=None,
        reclassify=False,
        batch_after=None,
    ):
        """Evaluate and write. ``batch_size`` bounds the profiles written
        (full evaluation only): profiles already evaluated for ``eval_date``
        are skipped, so the next call continues where this one stopped.
        ``run_ref`` marks the history rows of this run (e.g. the recompute
        wizard's Apply, which then shows exactly them). ``reclassify``: a
        re-classification (:meth:`plan`); ``batch_after``: the batch
        follows this partner id (:meth:`plan`).

        Returns a dict with ``written``, ``remaining`` and ``changes``.
        """
        eval_date = eval_date or fields.Date.context_today(self.program)
        # Overrides whose end date has passed end in the plan (cause
        # override_end), like any other move: the preview shows them.
        full = partner_ids is None
        rows, changes = self.plan(
            eval_date,
            partner_ids,
            force_apply=force_apply,
            batch_size=batch_size if full else None,
            reclassify=reclassify,
            batch_after=batch_after if full else None,
        )
        # (a batched plan holds the rows of its batch only)
        remaining = self.batch_remaining
        written = list(rows.values())
        if full:
            # the steady state: rows equal to their stored profile are left
            # as they are (a batch still writes the date of the evaluation
            # on each of its rows: its progress)
            written = self.changed_rows(written, eval_date, batched=bool(batch_size))
        # Features fill the columns that depend on the assigned tier.
        self.before_write(written, eval_date, full)
        self.write_profiles(written)
        if changes:
            self.write_changes(changes, rows, eval_date, run_ref=run_ref)
        self._write_ranking(written, remaining)
        # Side effects of the new state (pricelists, activities ...), once
        # profiles and history are written.
        self.after_write(written, changes, eval_date, full)
        if full and not remaining:
            # (unchanged when a later call of the day finds nothing left: no
            # write, so no conflict with a concurrent run that wrote it too)
            # (the date is written once per date: no conflict with a
            # concurrent run that wrote it too; the time of the run, which
            # the next run compares the products' changes with, only when
            # some inputs were computed again)
            self.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_program
                       SET last_run_date = %(date)s,
                           last_run_at = CASE WHEN %(renew)s OR last_run_at IS NULL
                                              THEN %(now)s ELSE last_run_at END
                     WHERE id = %(program)s
                       AND (last_run_date IS DISTINCT FROM %(date)s
                            OR (%(renew)s AND last_run_at IS DISTINCT FROM %(now)s)
                            OR last_run_at IS NULL)
                    """,
                    date=eval_date,
                    renew=self.stale is None,
                    now=self.cr.now(),
                    program=self.program.id,
                ),
                # a concurrent run wrote it: the caller's to handle
                log_exceptions=False,
            )
            self.program.invalidate_recordset(["last_run_date", "last_run_at"])
            # (and what the profiles compute from it when read: their
            # evaluation date, recency and predicted figures)
            self.env["customer.tier.profile"].invalidate_model()
        return {"written": len(written), "remaining": remaining, "changes": changes}

    def _write_ranking(self, written, remaining):
        """The ranking snapshot after the profiles are written: a full
        evaluation (or a batched one's first call) writes it; a refresh or
        a later batch marks the entries its profiles moved and stores the
        rank and shares it gave them (:meth:`Ranking.track`); the last batch
        marks the evaluation done."""
        ranking = self._ranking()
        snapshot = self._snapshot
        if snapshot is not None:
            ranking.store(snapshot["figures"], snapshot["head"], snapshot["others"])
            self._snapshot = None
            return
        if self._head is None:
            self._head = ranking.head() or False
        # (before any full evaluation, the entries hold the refreshed
        # profiles' figures alone: none is a member)
        ranking.track(
            written, self._head["value_key"] if self._head else self.value_key
        )
        if self._continued:
            ranking.update_head(
                cursor=max(self.batch_ids, default=self._head["cursor"]),
                state="batching" if remaining else "done",
                pending_count=remaining,
            )

    def refresh_partners(self, partner_ids, eval_date=None):
        """Incremental refresh of a few commercial partners."""
        partner_ids = sorted(set(partner_ids))
        if not partner_ids:
            return {"written": 0, "remaining": 0, "changes": []}
        return self.run(eval_date=eval_date, partner_ids=partner_ids)

    def _count_pending(self, eval_date):
        """Profiles a full evaluation of ``eval_date`` has still to write:
        none once it completed (``last_run_date``: an unbatched run leaves
        the unchanged profiles' ``full_evaluation_date`` as it was), else
        those a batch has not marked with the date yet: while a batched
        evaluation of the date is in progress, what it has left to write
        (its snapshot's ``pending_count``: the profiles and the prospects
        without one, as its first call counted them, less the batches
        written since; at least 1), read from the snapshot's header without
        counting the profiles."""
        if self.program.last_run_date == eval_date:
            return 0
        head = self._ranking().head()
        if (
            head
            and head["state"] == "batching"
            and head["eval_date"] == eval_date
            and (head["run_key"] or "").startswith("pending")
            and head["pending_count"] is not None
        ):
            return max(head["pending_count"], 1)
        rows = self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM customer_tier_profile WHERE company_id = %s "
                "AND full_evaluation_date IS DISTINCT FROM %s",
                self.company.id,
                eval_date,
            )
        )
        return rows[0][0]

    def _column_types(self, columns):
        """PostgreSQL type of each profile column, from its ORM field (or,
        for a column that is no field, e.g. added by SQL, from the table)."""
        fields_ = self.env["customer.tier.profile"]._fields
        if all(c in fields_ for c in columns):
            return [fields_[c].column_type[1] for c in columns]
        table = table_columns(self.cr, "customer_tier_profile")
        return [
            fields_[c].column_type[1] if c in fields_ else table[c]["udt_name"]
            for c in columns
        ]

    def write_profiles(self, rows):
        """Upsert the profiles of ``rows`` in one statement per chunk.

        The values travel as one typed array per column (``self.columns``,
        with the features' ``full_columns`` when the plan is a full
        evaluation), the
        columns copied from the partner (:data:`PARTNER_COLUMNS`: salesperson,
        country, industry, and the features' ``partner_columns``) are read in
        the same statement, and an existing row is only
        rewritten when a value differs (a rerun that changes nothing writes
        nothing).

        A full evaluation updates its existing profiles apart
        (:meth:`update_profiles`) and upserts the new ones only; the partner
        tier is mirrored for the rows whose tier moved
        (:meth:`sync_partner_tiers`).
        """
        if not rows:
            return
        if self.full and self.state:
            existing = [row for row in rows if row["partner_id"] in self.state]
            rows = [row for row in rows if row["partner_id"] not in self.state]
            self.update_profiles(existing)
            moved = [
                row
                for row in existing
                if not _same(self.state[row["partner_id"]]["tier_id"], row["tier_id"])
            ]
            self.sync_partner_tiers(
                self.env,
                [(row["partner_id"], self.company.id, row["tier_id"]) for row in moved],
            )
            if not rows:
                return
        uid = self.env.uid
        now = fields.Datetime.now()
        profile_columns = self.columns + (self.full_columns if self.full else ())
        joined = dict(PARTNER_COLUMNS)
        for feature in self.features:
            joined.update(feature.partner_columns)
        written = (*profile_columns, *joined)
        types = self._column_types(profile_columns)
        compared = [c for c in written if c not in KEEP_ON_CONFLICT]
        for start in range(0, len(rows), UPSERT_CHUNK):
            chunk = rows[start : start + UPSERT_CHUNK]
            arrays = unnest_arrays(
                [[row.get(c) for row in chunk] for c in profile_columns], types
            )
            self.cr.execute(
                SQL(
                    """
                    INSERT INTO customer_tier_profile (%(columns)s, create_uid,
                                                       create_date, write_uid,
                                                       write_date)
                    SELECT %(values)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM unnest(%(arrays)s) AS v(%(names)s)
                      JOIN res_partner p ON p.id = v.partner_id
                    ON CONFLICT (partner_id, company_id) DO UPDATE
                       SET %(updates)s, write_uid = EXCLUDED.write_uid,
                           write_date = EXCLUDED.write_date
                     WHERE (%(old)s) IS DISTINCT FROM (%(new)s)
                    """,
                    columns=SQL(", ").join(SQL.identifier(c) for c in written),
                    values=SQL(", ").join(
                        [SQL.identifier("v", c) for c in profile_columns]
                        + list(joined.values())
                    ),
                    uid=uid,
                    now=now,
                    arrays=arrays,
                    names=SQL(", ").join(SQL.identifier(c) for c in profile_columns),
                    updates=SQL(", ").join(
                        SQL("%s = EXCLUDED.%s", SQL.identifier(c), SQL.identifier(c))
                        for c in compared
                    ),
                    old=SQL(", ").join(
                        SQL.identifier("customer_tier_profile", c) for c in compared
                    ),
                    new=SQL(", ").join(
                        SQL("EXCLUDED.%s", SQL.identifier(c)) for c in compared
                    ),
                ),
                # a conflict with a concurrent refresh is the caller's to
                # handle (_cron_recompute): no "bad query" dump of the arrays
                log_exceptions=False,
            )
        self.env["customer.tier.profile"].invalidate_model()
        self.sync_partner_tiers(
            self.env,
            [(row["partner_id"], self.company.id, row["tier_id"]) for row in rows],
        )

    def update_profiles(self, rows):
        """Update the stored profiles of ``rows`` (of a full evaluation, each
        differing from its stored state: :meth:`changed_rows`) in one
        statement per chunk, setting only the columns that differ on some
        of them. The partner's columns stay as stored (the ORM keeps them
        with the partner, :meth:`CustomerTierProfile._sync_partner_facts`
        the others). An unchanged indexed column leaves the indexes alone
        (a heap-only update, the table keeping room for it on each page)."""
        if not rows:
            return
        # the columns the plan changed (changed_rows), and those the hooks
        # filled since
        state = self.state
        planned = set()
        for row in rows:
            planned.update(self.differing.get(row["partner_id"], ()))
        columns = [
            c
            for c in dict.fromkeys(self.columns + self.full_columns)
            if c not in KEEP_ON_CONFLICT
            and (
                c in planned
                or (
                    c not in self.compared
                    and any(
                        c in row and not _same(state[row["partner_id"]].get(c), row[c])
                        for row in rows
                    )
                )
            )
        ]
        if not columns:
            return
        types = self._column_types(["partner_id", *columns])
        now = fields.Datetime.now()
        for start in range(0, len(rows), UPSERT_CHUNK):
            chunk = rows[start : start + UPSERT_CHUNK]
            arrays = unnest_arrays(
                [[row["partner_id"] for row in chunk]]
                + [[row.get(c) for row in chunk] for c in columns],
                types,
            )
            self.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET (%(columns)s, write_uid, write_date)
                           = (%(values)s, %(uid)s, %(now)s)
                      FROM unnest(%(arrays)s) AS v(partner_id, %(names)s)
                     WHERE prof.partner_id = v.partner_id
                       AND prof.company_id = %(company)s
                    """,
                    columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                    values=SQL(", ").join(SQL.identifier("v", c) for c in columns),
                    uid=self.env.uid,
                    now=now,
                    arrays=arrays,
                    names=SQL(", ").join(SQL.identifier(c) for c in columns),
                    company=self.company.id,
                ),
                log_exceptions=False,
            )
        self.env["customer.tier.profile"].invalidate_model()

    def write_changes(self, changes, rows, eval_date, run_ref=None):
        """History rows (one INSERT) and the notes on the profiles for tier changes.

        ``run_ref``: written on every row of the INSERT, it identifies the
        run (``None`` for the scheduled evaluation)."""
        History = self.env["customer.tier.history"]
        browse = self.env["customer.tier"].browse
        now = fields.Datetime.now()
        directions = {}
        columns = {
            "partner_id": [],
            "from_tier_id": [],
            "to_tier_id": [],
            "cause": [],
            "direction": [],
            "reason": [],
            "revenue_window": [],
            "margin_window": [],
            "order_count_window": [],
            "recency_days": [],
        }
        for pid, old, new, cause in changes:
            row = rows[pid]
            if (old, new) not in directions:
                directions[old, new] = History._direction(
                    browse(old) if old else browse(),
                    browse(new) if new else browse(),
                )
            for name, value in (
                ("partner_id", pid),
                ("from_tier_id", old),
                ("to_tier_id", new),
                ("cause", cause),
                ("direction", directions[old, new]),
                (
                    "reason",
                    row["manual_reason"]
                    if cause == "manual"
                    else row.get("move_reason"),
                ),
                ("revenue_window", row["revenue_window"]),
                ("margin_window", row["margin_window"]),
                ("order_count_window", row["order_count_window"]),
                ("recency_days", row["recency_days"]),
            ):
                columns[name].append(value)
        types = (
            "int4",
            "int4",
            "int4",
            "varchar",
            "varchar",
            "text",
            "numeric",
            "numeric",
            "int4",
            "int4",
        )
        self.cr.execute(
            SQL(
                """
                INSERT INTO customer_tier_history
                    (profile_id, partner_id, company_id, user_id, date, from_tier_id,
                     to_tier_id, cause, direction, reason, revenue_window,
                     margin_window, order_count_window, recency_days, run_ref,
                     create_uid, create_date, write_uid, write_date)
                SELECT prof.id, v.partner_id, %s, p.user_id, %s, v.from_tier_id,
                       v.to_tier_id, v.cause, v.direction, v.reason,
                       v.revenue_window, v.margin_window, v.order_count_window,
                       v.recency_days, %s, %s, %s, %s, %s
                  FROM unnest(%s) AS v(partner_id, from_tier_id, to_tier_id, cause,
                                       direction, reason, revenue_window,
                                       margin_window, order_count_window,
                                       recency_days)
                  JOIN customer_tier_profile prof
                    ON prof.partner_id = v.partner_id AND prof.company_id = %s
                  JOIN res_partner p ON p.id = v.partner_id
                RETURNING partner_id, profile_id
                """,
                self.company.id,
                eval_date,
                run_ref,
                self.env.uid,
                now,
                self.env.uid,
                now,
                unnest_arrays(list(columns.values()), types),
                self.company.id,
            ),
            log_exceptions=False,
        )
        profile_ids = dict(self.cr.fetchall())
        History.invalidate_model()
        # Chatter of the profiles: moves between tiers (not the very first
        # assignment)
        History._post_tier_notes(
            [
                (
                    profile_ids[pid],
                    browse(old),
                    browse(new),
                    cause,
                    rows[pid]["manual_reason"]
                    if cause == "manual"
                    else rows[pid].get("move_reason"),
                )
                for pid, old, new, cause in changes
                if old and new
            ]
        )

    @staticmethod
    def sync_partner_tiers(env, triples):
        """Mirror effective tiers on ``res.partner.commercial_tier_id``.

        ``triples``: (commercial partner id, company id, tier id or None). The
        company-dependent jsonb column of the commercial partners is updated in
        one statement; their contacts read it through ``customer_tier_id``
        (related to the commercial partner), so they are not written.
        """
        if not triples:
            return
        partners, companies, tiers = zip(*triples, strict=True)
        env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET commercial_tier_id = CASE
                       WHEN v.tier IS NULL
                       THEN COALESCE(p.commercial_tier_id, '{}'::jsonb) - v.company
                       ELSE COALESCE(p.commercial_tier_id, '{}'::jsonb)
                            || jsonb_build_object(v.company, v.tier)
                       END
                  FROM unnest(%s::int4[], %s::text[], %s::int4[])
                       AS v(partner, company, tier)
                 WHERE p.id = v.partner
                   AND p.commercial_tier_id IS DISTINCT FROM (CASE
                       WHEN v.tier IS NULL
                       THEN COALESCE(p.commercial_tier_id, '{}'::jsonb) - v.company
                       ELSE COALESCE(p.commercial_tier_id, '{}'::jsonb)
                            || jsonb_build_object(v.company, v.tier)
                       END)
                """,
                list(partners),
                [str(cid) for cid in companies],
                list(tiers),
            ),
            log_exceptions=False,
        )
        env["res.partner"].invalidate_model(["commercial_tier_id", "customer_tier_id"])
