"""Predictive value on the profiles: BG/NBD and Gamma-Gamma in the engine.

Model inputs, per customer of the company (from the engine's one scan of the
orders, ``TierEngine.aggregate_query`` with ``inputs``; the math is in
:mod:`.customer_tier_predict`):

* purchase days: the distinct dates (UTC date of ``date_order``) of the
  customer's counted orders (``sale.order`` in state ``sale`` of the company,
  dated on or before the evaluation date); several orders on one day are one
  purchase, as in the literature;
* ``x`` = purchase days - 1 (repeat purchases), ``t_x`` = days from the first
  to the last purchase day, ``T`` = days from the first purchase day to the
  evaluation date; the time unit is the day;
* mean repeat value: the untaxed amount (company currency, divided by the
  order's ``currency_rate`` as everywhere in the engine) of the repeat
  purchase days over ``x``.

A full evaluation fits the BG/NBD model on every customer and the Gamma-Gamma
model on those with a repeat purchase of positive value; each fit needs at
least the program's minimum of repeat customers and a converging optimiser,
else it does not fit and the program says why. Each optimiser starts from
the parameters of the program's latest fit of its model when there is one
(warm start: the nightly refit of mostly the same customers takes a few
steps), else from the default start. A fit the data do not
determine (status ``unreliable``: at a bound, or a Gamma-Gamma population
mean value implausible next to the sample; the rule is in
:mod:`.customer_tier_predict`) gives no figures either: an unreliable BG/NBD
fit leaves the predicted figures and the churn flag empty, an unreliable
Gamma-Gamma fit leaves the expected value on each customer's own mean value,
as when there are too few repeat customers. The fitted parameters, status
and date are stored as a fit of the program and the evaluation date
(``customer.tier.prediction.fit``, one per program and date: a history of the
fits) when the evaluation is written; an incremental refresh (an order
confirmed or cancelled) reuses the program's latest fit.

Stored on the profile, the inputs, which move only with the customer's
orders (written by every plan, full or refresh, from the engine's one scan
of the orders, when they change): ``repeat_order_days`` (x),
``repeat_order_value`` (the mean repeat value, unrounded) and
``purchase_day_value`` (the untaxed amount of all the counted orders,
company currency, over the purchase days, unrounded); ``t_x`` is
``last_order_date - first_order_date`` (the first and last purchase days).

Figures on the profile (empty without a usable BG/NBD fit; empty for
prospects). The three predicted figures are not stored: read, they are
computed (numpy, over the profiles read at once) at the profile's
``evaluation_date`` (the program's last full evaluation, or the profile's
later refresh: ``T`` = evaluation date - first order date) from its stored
inputs and the program's latest fit (``predict_fit_id``), with the one
definition the engine uses (:func:`predicted_figures`), so a read equals
what the engine computed for that date, exactly to each field's rounding.
A T that grows by a day, and the fit of each day, write nothing:

* ``prob_alive``: probability the customer is still active (P(alive)),
  rounded to 4 digits;
* ``expected_orders_12m``: expected purchase days in the next 365 days,
  rounded to 2 digits;
* ``expected_value_12m``: expected orders x expected value of an order: the
  Gamma-Gamma conditional mean, or, without a Gamma-Gamma fit, the customer's
  own mean value per purchase day (``purchase_day_value``), rounded to the
  company currency;
* ``churn_risk`` (stored): P(alive) below the program's bound while the
  customer's effective tier is watched for churn (``customer.tier.watch_churn``);
  set once profiles are written, so it follows the tier of this evaluation,
  and set again (from the computed P(alive)) when the bound, the watched
  tiers or a customer's tier by override change.

With ``value_basis = 'predicted'`` and a fit, the engine ranks (Pareto shares)
and applies the tiers' minimum revenue on ``expected_value_12m`` instead of
the window revenue; the value each customer was ranked by is stored as
``ranking_value`` (``TierEngine.rank_by``: the refreshes rank against the
stored others). It moves with the calendar: on that basis, the nightly run
still rewrites the profiles whose predicted value moved.
"""

import logging
from operator import eq, ge, gt, le, lt, ne

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from . import customer_tier_predict as predict
from .customer_tier_bounds import MAX_COUNT, check_bounds
from .customer_tier_engine import (
    EngineFeature,
)

_logger = logging.getLogger(__name__)

HORIZON_DAYS = 365
# Predicted figures of a customer: computed (engine plan, profile read), never
# stored.
PREDICTED_FIGURES = ("prob_alive", "expected_orders_12m", "expected_value_12m")
# Profile columns the prediction writes through the engine's upsert: the
# model inputs of each customer, which move only with its orders, and the
# value it was ranked by (predicted value basis only; else empty).
PREDICTION_COLUMNS = (
    "repeat_order_days",
    "repeat_order_value",
    "purchase_day_value",
    "ranking_value",
)
# Fields of a fit (customer.tier.prediction.fit) holding each parameter.
BGNBD_FIELDS = {"r": "bgnbd_r", "alpha": "bgnbd_alpha", "a": "bgnbd_a", "b": "bgnbd_b"}
GG_FIELDS = {"p": "gg_p", "q": "gg_q", "v": "gg_v"}
FIT_STATUSES = [
    ("ok", "Fitted"),
    ("insufficient", "Too few repeat customers"),
    ("failed", "Fit failed"),
    ("unreliable", "Not reliable"),
]
# Range of the prediction numbers a manager types (inclusive). The lower bound
# left at None is refused by the older check (_check_prediction_numbers).
PROGRAM_BOUNDS = {"predict_min_repeaters": (None, MAX_COUNT)}
# Operators of a search on a predicted figure (``_search_predicted``).
SEARCH_OPERATORS = {
    "=": eq,
    "!=": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
    "in": lambda figure, targets: figure in targets,
    "not in": lambda figure, targets: figure not in targets,
}
# Profile fields the predicted figures are computed from when read.
PREDICTION_INPUTS = (
    "program_id",
    "is_prospect",
    "first_order_date",
    "last_order_date",
    "evaluation_date",
    "repeat_order_days",
    "repeat_order_value",
    "purchase_day_value",
)


def mean_values(x, repeat_amount):
    """Mean value of a repeat purchase day: the amount of the repeat days
    over their number ``x`` (0 without repeat purchase)."""
    return np.divide(repeat_amount, x, out=np.zeros_like(x), where=x > 0)


def predicted_figures(bgnbd, gg, x, t_x, T, mean_repeat, day_value, currency):
    """The predicted figures of customers (module docstring) from their model
    inputs (arrays) and a fit's parameters (``bgnbd``; ``gg`` None without a
    Gamma-Gamma fit): per customer, ``(prob_alive, expected_orders_12m,
    expected_value_12m)`` rounded as the profile's fields are (4 and 2
    digits, the currency's), or Nones where a figure is not finite. The one
    definition of the figures: the engine's plan and the profile's fields
    (computed when read) call it."""
    alive = predict.probability_alive(bgnbd, x, t_x, T)
    orders = predict.expected_purchases(bgnbd, HORIZON_DAYS, x, t_x, T)
    if gg is not None:
        order_value = predict.expected_average_value(gg, x, mean_repeat)
    else:
        order_value = day_value
    value = orders * order_value
    dp = currency.decimal_places
    finite = np.isfinite(alive) & np.isfinite(orders) & np.isfinite(value)
    result = []
    for p_alive, n_orders, amount, ok in zip(
        alive.tolist(), orders.tolist(), value.tolist(), finite.tolist(), strict=True
    ):
        if not ok:
            result.append((None, None, None))
            continue
        result.append(
            (
                round(min(max(p_alive, 0.0), 1.0), 4),
                round(max(n_orders, 0.0), 2),
                round(max(amount, 0.0), dp),
            )
        )
    return result


class PredictionFeature(EngineFeature):
    """Predicted figures (BG/NBD, Gamma-Gamma), their stored inputs and the
    churn flag (module docstring): the predicted figures are computed in the
    plan (ranking, churn flag, follow-up texts), not written.

    Sequence 10, first: its before_write sets the churn flag that the
    follow-up's (30) reads to open churn episodes, and its extend_figures
    may switch the ranking figure (``engine.rank_by``). State: ``fit``, the
    fit of a full evaluation (stored on the program after the write)."""

    name = "prediction"
    sequence = 10
    columns = (*PREDICTION_COLUMNS, "churn_risk")

    def __init__(self, engine):
        super().__init__(engine)
        self.fit = None

    @property
    def ranks(self):
        """With ``value_basis = 'predicted'``, customers are ranked by their
        predicted value. (Else a batched evaluation's first call fits the
        model on every customer's inputs, ``engine.order_days``, and
        predicts its batch's only.)"""
        return self.program.value_basis == "predicted"

    def extend_figures(self, figures, eval_date, full):
        program, engine = self.program, self.engine
        empty = dict.fromkeys(PREDICTED_FIGURES + PREDICTION_COLUMNS)
        for fig in figures.values():
            fig.update(empty)
        # The later calls of a batched evaluation reuse the fit of the day
        # (made by its first call) and, unless tiers rank by predicted value,
        # read the orders of their batch only.
        refit = full and not (
            engine.batch_ids is not None and program.predict_fit_date == eval_date
        )
        if not figures and not (refit and engine.order_days):
            if full:
                self.fit = program._prediction_fit(
                    np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
                )
            return
        scope = None if refit else engine.feature_scope(figures, full)
        if scope is not None and program.value_basis == "predicted":
            scope = None if full else list(figures)
        # the inputs come from the engine's one scan of the orders
        pids, x, t_x, T, mean_repeat, day_value = self._inputs(eval_date, scope)
        if refit:
            fit = program._prediction_fit(x, t_x, T, mean_repeat)
            self.fit = fit
            bgnbd, gg = fit["bgnbd"], fit["gg"]
        if len(pids) > len(figures):
            # (the first call of a batched evaluation: every customer's
            # inputs for the fit, the figures of its batch only)
            mine = np.isin(pids, list(figures))
            pids, x, t_x, T, mean_repeat, day_value = (
                a[mine] for a in (pids, x, t_x, T, mean_repeat, day_value)
            )
            if not figures:
                return
        for pid, repeats, repeat_value, per_day in zip(
            pids.tolist(),
            x.tolist(),
            mean_repeat.tolist(),
            day_value.tolist(),
            strict=True,
        ):
            fig = figures[pid]
            fig["repeat_order_days"] = int(repeats)
            fig["repeat_order_value"] = repeat_value
            fig["purchase_day_value"] = per_day
        if not refit:
            bgnbd, gg = program.sudo()._prediction_stored_fit()
        if bgnbd is None:
            return
        predicted = predicted_figures(
            bgnbd, gg, x, t_x, T, mean_repeat, day_value, engine.currency
        )
        for pid, values in zip(pids.tolist(), predicted, strict=True):
            figures[pid].update(zip(PREDICTED_FIGURES, values, strict=True))
        complete = all(
            fig["expected_value_12m"] is not None for fig in figures.values()
        )
        if program.value_basis == "predicted":
            if complete:
                for fig in figures.values():
                    fig["ranking_value"] = fig["expected_value_12m"]
                engine.rank_by("ranking_value")
            else:
                _logger.warning(
                    "Tier program %s: some predicted values are missing; tiers "
                    "are ranked by past revenue.",
                    program.id,
                )

    def _inputs(self, eval_date, scope):
        """The model inputs of the customers of ``scope`` (None: every
        customer of the engine's scan), as arrays: partner ids, x, t_x, T,
        the mean repeat value and the mean value of a purchase day, from the
        engine's scan of the orders (``engine.order_days``)."""
        order_days = self.engine.order_days
        pids = sorted(order_days if scope is None else set(scope) & order_days.keys())
        rows = []
        for pid in pids:
            repeats, repeat_amount, total_amount, first, last = order_days[pid]
            rows.append(
                (
                    pid,
                    repeats,
                    (last - first).days,
                    (eval_date - first).days,
                    repeat_amount,
                    total_amount,
                )
            )
        data = np.array(rows, dtype=float).reshape(-1, 6)
        x, t_x, T, repeat_amount, total_amount = data[:, 1:].T
        return (
            data[:, 0].astype(int),
            x,
            t_x,
            T,
            mean_values(x, repeat_amount),
            total_amount / (x + 1.0),
        )

    def before_write(self, rows, eval_date, full):
        # the flag first: the follow-up's hook (sequence 30) opens churn episodes
        bound, watched = self.program._prediction_churn_rule()
        watched = set(watched)
        for row in rows:
            row["churn_risk"] = bool(
                not row.get("is_prospect")
                and row.get("prob_alive") is not None
                and row["prob_alive"] < bound
                and row.get("tier_id") in watched
            )

    def after_write(self, rows, changes, eval_date, full):
        program = self.program
        if full and self.fit is not None:
            program._prediction_store_fit(self.fit, eval_date, self.engine)
        # rows carry their flag (before_write); tier changes made
        # through the ORM (overrides) come without rows
        others = {c[0] for c in changes} - {row["partner_id"] for row in rows}
        if others:
            program._prediction_update_churn(others)


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    value_basis = fields.Selection(
        [
            ("revenue", "Past Revenue (window)"),
            ("predicted", "Predicted 12-Month Value"),
        ],
        string="Rank Customers By",
        required=True,
        default="revenue",
        tracking=True,
        help="Past revenue: the Pareto ranking and the tiers' minimum revenue "
        "use the revenue of the evaluation window.\n"
        "Predicted 12-month value: they use the expected value of the next 12 "
        "months (BG/NBD and Gamma-Gamma models) instead; the tiers' minimum "
        "revenue then applies to that value. Without a model fit, past revenue "
        "is used.",
    )
    predict_min_repeaters = fields.Integer(
        string="Minimum Repeat Customers",
        default=10,
        help="The prediction models are fitted only when at least this many "
        "customers ordered on more than one day; otherwise the predicted "
        "figures stay empty.",
    )
    churn_alive_bound = fields.Float(
        string="Churn Risk Below",
        default=0.3,
        help="A customer of a tier watched for churn is flagged as a churn risk "
        "when its probability of still being active falls below this bound "
        "(0 to 1).",
    )
    predict_status_text = fields.Char(
        string="Prediction Status", compute="_compute_predict_status_text"
    )
    predict_fit_ids = fields.One2many(
        "customer.tier.prediction.fit",
        "program_id",
        string="Fits",
        readonly=True,
        copy=False,
        help="The prediction models fitted by the full recomputes, one per "
        "evaluation date, latest first.",
    )
    predict_fit_id = fields.Many2one(
        "customer.tier.prediction.fit",
        string="Last Fit",
        compute="_compute_predict_fit",
        compute_sudo=True,
        help="The fit of the latest evaluation date, which refreshing a "
        "customer reuses.",
    )
    predict_fit_date = fields.Date(
        string="Models Fitted On", compute="_compute_predict_fit", compute_sudo=True
    )
    predict_status = fields.Selection(
        [("none", "Not fitted yet"), *FIT_STATUSES],
        string="Purchase Model",
        compute="_compute_predict_fit",
        compute_sudo=True,
        help="Result of the last BG/NBD fit (full recomputes only).",
    )
    predict_gg_status = fields.Selection(
        [("none", "Not fitted yet"), *FIT_STATUSES],
        string="Order Value Model",
        compute="_compute_predict_fit",
        compute_sudo=True,
        help="Result of the last Gamma-Gamma fit (full recomputes only).",
    )

    @api.constrains("predict_min_repeaters", "churn_alive_bound")
    def _check_prediction_numbers(self):
        for program in self:
            if program.predict_min_repeaters < 1:
                raise ValidationError(
                    self.env._(
                        "The minimum number of repeat customers for a fit must be "
                        "at least 1."
                    )
                )
            if not 0.0 <= program.churn_alive_bound <= 1.0:
                raise ValidationError(
                    self.env._("The churn-risk bound is a probability between 0 and 1.")
                )

    @api.constrains(*PROGRAM_BOUNDS)
    def _check_value_bounds_prediction(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, PROGRAM_BOUNDS, label=lambda program: program.name)

    @api.depends(
        "predict_fit_ids.fit_date",
        "predict_fit_ids.status",
        "predict_fit_ids.gg_status",
    )
    def _compute_predict_fit(self):
        Fit = self.env["customer.tier.prediction.fit"]
        for program in self:
            # the latest by the fits' order, fetched whole in one query (the
            # engine reads its parameters next)
            fit = (
                Fit.search_fetch(
                    [("program_id", "=", program._origin.id)], Fit._fields, limit=1
                )
                if program._origin.id
                else Fit
            )
            program.predict_fit_id = fit
            program.predict_fit_date = fit.fit_date
            program.predict_status = fit.status or "none"
            program.predict_gg_status = fit.gg_status or "none"

    @api.depends(
        "predict_status",
        "predict_gg_status",
        "predict_fit_date",
        "predict_fit_id",
        "predict_fit_ids.customers",
        "predict_fit_ids.repeaters",
        "predict_fit_ids.gg_customers",
        "predict_min_repeaters",
        "value_basis",
    )
    def _compute_predict_status_text(self):
        for program in self:
            program.predict_status_text = program._prediction_status_text()

    def _prediction_status_text(self):
        self.ensure_one()
        fit = self.predict_fit_id
        date = self.predict_fit_date and fields.Date.to_string(self.predict_fit_date)
        status = self.predict_status or "none"
        if status == "none":
            text = self.env._(
                "Not fitted yet: the predictions are computed by the next full "
                "recompute."
            )
        elif status == "insufficient":
            text = self.env._(
                "No fit (%(date)s): %(repeaters)s customers ordered on more than one "
                "day, at least %(minimum)s are needed. The predicted figures stay "
                "empty.",
                date=date,
                repeaters=fit.repeaters,
                minimum=self.predict_min_repeaters,
            )
        elif status == "failed":
            text = self.env._(
                "No fit (%(date)s): the estimation did not converge on these "
                "order histories. The predicted figures stay empty.",
                date=date,
            )
        elif status == "unreliable":
            text = self.env._(
                "No reliable fit (%(date)s): the purchase model's estimate ends "
                "at the edge of the possible values (a parameter is as likely at "
                "zero or infinity), so these order histories do not determine it. "
                "The predicted figures stay empty.",
                date=date,
            )
        else:
            text = self.env._(
                "Fitted on %(date)s on %(customers)s customers, %(repeaters)s of "
                "them with repeat orders.",
                date=date,
                customers=fit.customers,
                repeaters=fit.repeaters,
            )
            if self.predict_gg_status == "ok":
                text += " " + self.env._(
                    "Order values: Gamma-Gamma model fitted on %(count)s customers.",
                    count=fit.gg_customers,
                )
            elif self.predict_gg_status == "unreliable":
                text += " " + self.env._(
                    "Order values: the Gamma-Gamma fit on %(count)s customers is "
                    "not reliable (its estimate ends at the edge of the possible "
                    "values, or the average order value it implies is more than "
                    "four times above or below the customers' mean), so the "
                    "expected value uses each customer's own mean order value.",
                    count=fit.gg_customers,
                )
            else:
                text += " " + self.env._(
                    "Order values: no Gamma-Gamma fit (%(count)s customers with a "
                    "valued repeat order), so the expected value uses each "
                    "customer's own mean order value.",
                    count=fit.gg_customers,
                )
        if status != "ok" and self.value_basis == "predicted":
            text += " " + self.env._(
                "Tiers are ranked by past revenue until a fit succeeds."
            )
        return text

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    def _prediction_stored_fit(self):
        """(BG/NBD params or None, Gamma-Gamma params or None) of the
        program's latest fit: the parameters the predicted figures are
        computed with."""
        self.ensure_one()
        bgnbd, gg = self._prediction_fitted_params()
        return bgnbd, (gg if bgnbd is not None else None)

    def _prediction_fitted_params(self):
        """(BG/NBD params or None, Gamma-Gamma params or None) of the
        program's latest fit, each model on its own: where the next fit
        starts from."""
        self.ensure_one()
        fit = self.predict_fit_id
        bgnbd = gg = None
        if fit.status == "ok":
            bgnbd = {k: fit[f] for k, f in BGNBD_FIELDS.items()}
        if fit.gg_status == "ok":
            gg = {k: fit[f] for k, f in GG_FIELDS.items()}
        return bgnbd, gg

    def _engine_features(self):
        return [*super()._engine_features(), PredictionFeature]

    def _prediction_fit(self, x, t_x, T, mean_repeat):
        """Fit both models; return the values to store (those of a fit
        record) and the parameters.

        Each model's optimiser starts from the parameters of the program's
        latest fit of that model, when it fitted (warm start: the nightly
        refit over mostly the same customers converges in a few steps),
        else from the default start (:mod:`.customer_tier_predict`)."""
        minimum = self.predict_min_repeaters
        bg_start, gg_start = self.sudo()._prediction_fitted_params()
        bg_fit = predict.fit_bgnbd(x, t_x, T, min_repeaters=minimum, start=bg_start)
        gg_fit = predict.fit_gamma_gamma(
            x, mean_repeat, min_repeaters=minimum, start=gg_start
        )
        values = {
            "status": bg_fit.status,
            "gg_status": gg_fit.status,
            "customers": bg_fit.customers,
            "repeaters": bg_fit.repeaters,
            "gg_customers": gg_fit.customers,
            "message": bg_fit.message,
            "gg_message": gg_fit.message,
        }
        for key, name in BGNBD_FIELDS.items():
            values[name] = bg_fit.params[key] if bg_fit.ok else 0.0
        for key, name in GG_FIELDS.items():
            values[name] = gg_fit.params[key] if gg_fit.ok else 0.0
        if not bg_fit.ok:
            _logger.info("Tier program %s: no BG/NBD fit (%s)", self.id, bg_fit.message)
        if gg_fit.status == predict.STATUS_UNRELIABLE:
            _logger.info(
                "Tier program %s: no Gamma-Gamma fit (%s; rejected %s)",
                self.id,
                gg_fit.message,
                gg_fit.extra.get("rejected"),
            )
        return {
            "values": values,
            "bgnbd": bg_fit.params if bg_fit.ok else None,
            "gg": gg_fit.params if (bg_fit.ok and gg_fit.ok) else None,
        }

    def _prediction_store_fit(self, fit, eval_date, engine):
        """Store ``fit`` (of ``_prediction_fit``) as the program's fit of
        ``eval_date``: a new fit record, or that date's record updated (a
        second full evaluation of the day fits again); a fit equal to the
        stored one is not written.

        One upsert rather than the ORM: two evaluations of the day (cron
        workers, a manual recompute) may store the day's fit at once. The
        later one waits on the other's row, then, the other committed, meets
        a row written after its snapshot: PostgreSQL's serialization failure
        under Odoo's REPEATABLE READ, raised here unlogged (not a "bad
        query" of ``odoo.sql_db``) and, like a conflict on the profiles, an
        expected conflict for the caller (``_cron_recompute`` runs the batch
        again a minute later).
        """
        self.ensure_one()
        values = fit["values"]
        Fit = self.env["customer.tier.prediction.fit"].sudo()
        current = Fit.search_read(
            [("program_id", "=", self.id), ("fit_date", "=", eval_date)],
            list(values),
            load=None,
        )
        if current and all(current[0][k] == v for k, v in values.items()):
            return
        now = self.env.cr.now()
        row = {
            "program_id": self.id,
            "company_id": self.company_id.id,
            "fit_date": eval_date,
            **values,
            "create_uid": self.env.uid,
            "create_date": now,
            "write_uid": self.env.uid,
            "write_date": now,
        }
        keep = ("program_id", "fit_date", "create_uid", "create_date")
        engine.cr.execute(
            SQL(
                """
                INSERT INTO customer_tier_prediction_fit (%(columns)s)
                VALUES (%(values)s)
                ON CONFLICT (program_id, fit_date) DO UPDATE SET %(updates)s
                """,
                columns=SQL(", ").join(map(SQL.identifier, row)),
                values=SQL(", ").join(SQL("%s", value) for value in row.values()),
                updates=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", SQL.identifier(c), SQL.identifier(c))
                    for c in row
                    if c not in keep
                ),
            ),
            log_exceptions=False,
        )
        Fit.invalidate_model()
        self.invalidate_recordset(["predict_fit_ids"])
        self.modified(["predict_fit_ids"])

    def _prediction_churn_rule(self):
        self.ensure_one()
        program = self.sudo()
        watched = program._customer_tiers().filtered("watch_churn").ids
        return program.churn_alive_bound, watched

    def _prediction_update_churn(self, partner_ids=None):
        """Set ``churn_risk`` on the program's profiles (of ``partner_ids``,
        else all): P(alive) of each, computed from its stored inputs
        (``prob_alive``, one read of the profiles), against the rule of
        :meth:`_prediction_churn_rule`; one UPDATE of the profiles whose flag
        changes."""
        Profile = self.env["customer.tier.profile"].sudo()
        self.env.flush_all()
        for program in self:
            bound, watched = program._prediction_churn_rule()
            watched = set(watched)
            domain = [
                ("company_id", "=", program.company_id.id),
                ("program_id", "=", program.id),
            ]
            if partner_ids is not None:
                domain.append(("partner_id", "in", list(partner_ids)))
            profiles = Profile.search_fetch(
                domain, [*PREDICTION_INPUTS, "tier_id", "churn_risk"], order="id"
            )
            predicted = profiles._prediction_values()
            changed = [
                (profile.id, flag)
                for profile in profiles
                if profile.churn_risk
                != (
                    flag := bool(
                        profile.id in predicted
                        and predicted[profile.id][0] is not None
                        and predicted[profile.id][0] < bound
                        and profile.tier_id.id in watched
                    )
                )
            ]
            if not changed:
                continue
            ids, flags = zip(*changed, strict=True)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET churn_risk = v.flag
                      FROM unnest(%s::int4[], %s::bool[]) AS v(id, flag)
                     WHERE prof.id = v.id
                    """,
                    list(ids),
                    list(flags),
                )
            )
        Profile.invalidate_model(["churn_risk"])

    def write(self, vals):
        res = super().write(vals)
        if "churn_alive_bound" in vals:
            self._prediction_update_churn()
        return res

    @api.model
    def _prediction_copy_template_defaults(self):
        """Watch churn on the tiers the template watches, for the programs
        copied before the prediction data loaded (one statement)."""
        self.env["customer.tier"]._copy_template_tier_values(
            SQL("watch_churn = TRUE"),
            SQL("s.watch_churn AND NOT COALESCE(t.watch_churn, FALSE)"),
        )


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    watch_churn = fields.Boolean(
        help="Customers of this tier are flagged as a churn risk when their "
        "probability of still being active falls below the program's bound.",
    )

    def write(self, vals):
        res = super().write(vals)
        if {"watch_churn", "active", "program_id"} & vals.keys():
            self.program_id._prediction_update_churn()
        return res


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    prob_alive = fields.Float(
        string="Probability Active",
        compute="_compute_predictions",
        search="_search_prob_alive",
        digits=(16, 4),
        help="Probability that the customer still buys from us (BG/NBD model), "
        "from its number of purchase days, the date of the last one and the "
        "length of its history up to its evaluation date. Computed when read "
        "from the program's latest fit; empty without a model fit.",
    )
    expected_orders_12m = fields.Float(
        string="Expected Orders (12 months)",
        compute="_compute_predictions",
        search="_search_expected_orders_12m",
        digits=(16, 2),
        help="Expected number of purchase days in the 365 days after the "
        "evaluation date (BG/NBD model). Computed when read from the program's "
        "latest fit; empty without a model fit.",
    )
    expected_value_12m = fields.Monetary(
        string="Expected Value (12 months)",
        compute="_compute_predictions",
        search="_search_expected_value_12m",
        help="Expected orders in the next 12 months times the expected value of "
        "an order (Gamma-Gamma model, or the customer's own mean order value "
        "without that fit), untaxed, in company currency. Computed when read "
        "from the program's latest fit; empty without a model fit.",
    )
    repeat_order_days = fields.Integer(
        string="Repeat Purchase Days",
        readonly=True,
        help="Distinct days with a confirmed order, minus the first one: the "
        "repeat purchases the prediction models read.",
    )
    repeat_order_value = fields.Float(
        string="Mean Repeat Purchase Value",
        readonly=True,
        digits=0,
        help="Untaxed amount of the confirmed orders of the repeat purchase "
        "days (all but the first), in company currency, divided by their "
        "number; 0 without a repeat purchase. An input of the prediction "
        "models.",
    )
    purchase_day_value = fields.Float(
        string="Mean Purchase Day Value",
        readonly=True,
        digits=0,
        help="Untaxed amount of all the confirmed orders, in company currency, "
        "divided by the number of purchase days: the value of an order the "
        "expected value uses without an order value model.",
    )
    ranking_value = fields.Monetary(
        string="Ranked Value",
        readonly=True,
        help="Programs ranking customers by predicted value: the expected "
        "12-month value the customer was ranked by at its evaluation. Empty "
        "otherwise.",
    )
    churn_risk = fields.Boolean(
        readonly=True,
        index=True,
        help="The customer's tier is watched for churn and its probability of "
        "still being active is below the program's bound.",
    )
    prediction_weak = fields.Boolean(
        string="Prediction Unreliable",
        compute="_compute_prediction_weak",
        search="_search_prediction_weak",
        help="Fewer than two repeat purchase days or less than 180 days of "
        "history: the predictions lean on the average customer.",
    )
    predict_status_text = fields.Char(related="program_id.predict_status_text")

    @api.depends(*PREDICTION_INPUTS, "program_id.predict_fit_id")
    def _compute_predictions(self):
        predicted = self._prediction_values()
        for profile in self:
            values = predicted.get(profile.id) or (None, None, None)
            for name, value in zip(PREDICTED_FIGURES, values, strict=True):
                profile[name] = value if value is not None else False

    def _prediction_values(self):
        """Profile id -> ``(prob_alive, expected_orders_12m,
        expected_value_12m)`` (each None where not finite) of the profiles
        of ``self`` that have predictions: the customers (not prospects) of
        a program with a usable fit (:func:`predicted_figures`, at each
        profile's evaluation date, from its stored inputs and the program's
        latest fit; numpy over each program's profiles at once)."""
        result = {}
        for program, profiles in self.grouped("program_id").items():
            if not program:
                continue
            bgnbd, gg = program.sudo()._prediction_stored_fit()
            if bgnbd is None:
                continue
            rows = [
                (
                    profile.id,
                    profile.repeat_order_days,
                    (profile.last_order_date - profile.first_order_date).days,
                    (profile.evaluation_date - profile.first_order_date).days,
                    profile.repeat_order_value,
                    profile.purchase_day_value,
                )
                for profile in profiles
                if not profile.is_prospect
                and profile.first_order_date
                and profile.last_order_date
                and profile.evaluation_date
            ]
            if not rows:
                continue
            data = np.array(rows, dtype=float).reshape(-1, 6)
            ids = data[:, 0].astype(int).tolist()
            x, t_x, T, mean_repeat, day_value = data[:, 1:].T
            currency = program.sudo().company_id.currency_id
            predicted = predicted_figures(
                bgnbd, gg, x, t_x, T, mean_repeat, day_value, currency
            )
            result.update(zip(ids, predicted, strict=True))
        return result

    def _search_prob_alive(self, operator, value):
        return self._search_predicted("prob_alive", operator, value)

    def _search_expected_orders_12m(self, operator, value):
        return self._search_predicted("expected_orders_12m", operator, value)

    def _search_expected_value_12m(self, operator, value):
        return self._search_predicted("expected_value_12m", operator, value)

    def _search_predicted(self, fname, operator, value):
        """The profiles whose predicted figure ``fname`` (computed when read,
        not stored) compares to ``value`` as the figure read does (0 where
        empty, as a stored figure reads): computed over the customers'
        profiles the user reads (numpy, one read of their inputs per
        program)."""
        compare = SEARCH_OPERATORS.get(operator)
        if compare is None:
            raise UserError(
                self.env._("Operation not supported on %(field)s.", field=fname)
            )
        if operator in ("in", "not in"):
            targets = value if isinstance(value, (list, tuple)) else [value]
            target = {float(v or 0.0) for v in targets}
        else:
            target = float(value or 0.0)
        # the figures are computed for the customers only (0 for the others)
        profiles = self.search(
            [("is_prospect", "=", False), ("first_order_date", "!=", False)],
            order="id",
        )
        index = PREDICTED_FIGURES.index(fname)
        predicted = profiles._prediction_values()
        empty_matches = compare(0.0, target)
        # the customers that differ from the empty ones: matching where 0
        # does not match, not matching where it does
        differ = [
            profile_id
            for profile_id in profiles.ids
            if compare(
                (predicted.get(profile_id) or (None, None, None))[index] or 0.0,
                target,
            )
            != empty_matches
        ]
        return [("id", "not in" if empty_matches else "in", differ)]

    def _search_prediction_weak(self, operator, value):
        """The profiles whose flag (computed when read) is ``value``, as
        read: the flag computed over the profiles the user reads."""
        if operator not in ("=", "!=") or value not in (True, False, None):
            raise UserError(
                self.env._(
                    "Operation not supported on %(field)s.", field="prediction_weak"
                )
            )
        # (prospects are never flagged)
        weak = self.search([("is_prospect", "=", False)], order="id").filtered(
            "prediction_weak"
        )
        wanted = bool(value) == (operator == "=")
        return [("id", "in" if wanted else "not in", weak.ids)]

    @api.depends(
        "repeat_order_days", "first_order_date", "evaluation_date", "is_prospect"
    )
    def _compute_prediction_weak(self):
        for profile in self:
            history = (
                (profile.evaluation_date - profile.first_order_date).days
                if profile.evaluation_date and profile.first_order_date
                else 0
            )
            profile.prediction_weak = bool(
                not profile.is_prospect
                and (profile.repeat_order_days < 2 or history < 180)
            )


class CustomerTierPredictionFit(models.Model):
    """A fit of the prediction models: per program and evaluation date, the
    BG/NBD and Gamma-Gamma results of the full evaluation of that date.
    Written by the engine only (``_prediction_store_fit``, one upsert); users
    read them (no create, write or delete rights)."""

    _name = "customer.tier.prediction.fit"
    _description = "Customer Tier Prediction Fit"
    _order = "fit_date desc, id desc"

    program_id = fields.Many2one(
        "customer.tier.program",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, readonly=True
    )
    fit_date = fields.Date(
        string="Fitted On",
        required=True,
        readonly=True,
        help="Evaluation date of the full recompute that fitted the models.",
    )
    status = fields.Selection(
        FIT_STATUSES,
        string="Purchase Model",
        required=True,
        readonly=True,
        help="Result of the BG/NBD fit.",
    )
    gg_status = fields.Selection(
        FIT_STATUSES,
        string="Order Value Model",
        readonly=True,
        help="Result of the Gamma-Gamma fit.",
    )
    customers = fields.Integer(
        readonly=True, help="Customers whose order histories the models read."
    )
    repeaters = fields.Integer(
        string="Repeat Customers",
        readonly=True,
        help="Customers who ordered on more than one day.",
    )
    gg_customers = fields.Integer(
        string="Valued Repeat Customers",
        readonly=True,
        help="Customers with a repeat order of positive value, on which the "
        "order value model is fitted.",
    )
    # Fitted parameters (double precision: the stored fit is reused as is);
    # 0 unless the fit is ok
    bgnbd_r = fields.Float(string="BG/NBD r", readonly=True)
    bgnbd_alpha = fields.Float(string="BG/NBD alpha (days)", readonly=True)
    bgnbd_a = fields.Float(string="BG/NBD a", readonly=True)
    bgnbd_b = fields.Float(string="BG/NBD b", readonly=True)
    gg_p = fields.Float(string="Gamma-Gamma p", readonly=True)
    gg_q = fields.Float(string="Gamma-Gamma q", readonly=True)
    gg_v = fields.Float(string="Gamma-Gamma v", readonly=True)
    message = fields.Char(
        string="Purchase Model Detail",
        readonly=True,
        help="The estimation's own account of the BG/NBD fit (in English).",
    )
    gg_message = fields.Char(
        string="Order Value Model Detail",
        readonly=True,
        help="The estimation's own account of the Gamma-Gamma fit (in English).",
    )

    _sql_constraints = [
        (
            "program_date_uniq",
            "unique(program_id, fit_date)",
            "A program has one fit per evaluation date.",
        ),
    ]

    @api.depends("program_id", "fit_date")
    def _compute_display_name(self):
        for fit in self:
            fit.display_name = " ".join(
                filter(
                    None,
                    (fit.program_id.display_name, format_date(self.env, fit.fit_date)),
                )
            )
