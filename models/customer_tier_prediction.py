"""Predictive value on the profiles: BG/NBD and Gamma-Gamma in the engine.

Model inputs, per customer of the company (one SQL statement; the math is in
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
else it does not fit and the program says why. A fit the data do not
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

Figures on the profile (empty without a BG/NBD fit; empty for prospects):

* ``prob_alive``: probability the customer is still active (P(alive));
* ``expected_orders_12m``: expected purchase days in the next 365 days;
* ``expected_value_12m``: expected orders x expected value of an order: the
  Gamma-Gamma conditional mean, or, without a Gamma-Gamma fit, the customer's
  own mean value per purchase day;
* ``churn_risk``: P(alive) below the program's bound while the customer's
  effective tier is watched for churn (``customer.tier.watch_churn``); set
  once profiles are written, so it follows the tier of this evaluation.

With ``value_basis = 'predicted'`` and a fit, the engine ranks (Pareto shares)
and applies the tiers' minimum revenue on ``expected_value_12m`` instead of
the window revenue (``TierEngine.rank_by``).
"""

import logging

import numpy as np

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date

from . import customer_tier_predict as predict
from .customer_tier_bounds import MAX_COUNT, check_bounds
from .customer_tier_engine import (
    ORDER_RATE,
    EngineFeature,
    counted_orders,
    partner_filter,
)

_logger = logging.getLogger(__name__)

HORIZON_DAYS = 365
# Profile columns the prediction writes through the engine's upsert.
PREDICTION_COLUMNS = (
    "prob_alive",
    "expected_orders_12m",
    "expected_value_12m",
    "repeat_order_days",
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


class PredictionFeature(EngineFeature):
    """Predicted figures (BG/NBD, Gamma-Gamma) and the churn flag (module
    docstring).

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

    def extend_figures(self, figures, eval_date, full):
        program, engine = self.program, self.engine
        for fig in figures.values():
            fig.update(dict.fromkeys(PREDICTION_COLUMNS))
        if not figures:
            if full:
                self.fit = program._prediction_fit(
                    np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
                )
            return
        # The later calls of a batched evaluation reuse the fit of the day
        # (made by its first call) and, unless tiers rank by predicted value,
        # read the orders of their batch only.
        refit = full and not (
            engine.batch_ids is not None and program.predict_fit_date == eval_date
        )
        scope = None if refit else engine.feature_scope(figures, full)
        if scope is not None and program.value_basis == "predicted":
            scope = None if full else list(figures)
        if full:
            # the inputs come from the engine's one scan of the orders
            rows = self._inputs(figures, eval_date, scope)
        else:
            rows = program.env.execute_query(
                program._prediction_query(engine, eval_date, scope)
            )
        data = np.array(rows, dtype=float).reshape(-1, 6)
        pids = data[:, 0].astype(int)
        x, t_x, T, repeat_amount, total_amount = data[:, 1:].T
        mean_repeat = np.divide(repeat_amount, x, out=np.zeros_like(x), where=x > 0)
        if refit:
            fit = program._prediction_fit(x, t_x, T, mean_repeat)
            self.fit = fit
            bgnbd, gg = fit["bgnbd"], fit["gg"]
        else:
            bgnbd, gg = program.sudo()._prediction_stored_fit()
        if bgnbd is None:
            for pid, repeats in zip(pids.tolist(), x.tolist(), strict=True):
                if pid in figures:
                    figures[pid]["repeat_order_days"] = int(repeats)
            return
        alive = predict.probability_alive(bgnbd, x, t_x, T)
        orders = predict.expected_purchases(bgnbd, HORIZON_DAYS, x, t_x, T)
        if gg is not None:
            order_value = predict.expected_average_value(gg, x, mean_repeat)
        else:
            order_value = total_amount / (x + 1.0)
        value = orders * order_value
        dp = engine.currency.decimal_places
        complete = True
        for pid, repeats, p_alive, n_orders, amount in zip(
            pids.tolist(),
            x.tolist(),
            alive.tolist(),
            orders.tolist(),
            value.tolist(),
            strict=True,
        ):
            fig = figures.get(pid)
            if fig is None:
                continue
            fig["repeat_order_days"] = int(repeats)
            if not (
                np.isfinite(p_alive) and np.isfinite(n_orders) and np.isfinite(amount)
            ):
                complete = False
                continue
            fig["prob_alive"] = round(min(max(p_alive, 0.0), 1.0), 4)
            fig["expected_orders_12m"] = round(max(n_orders, 0.0), 2)
            fig["expected_value_12m"] = round(max(amount, 0.0), dp)
        complete = complete and all(
            fig["expected_value_12m"] is not None for fig in figures.values()
        )
        if program.value_basis == "predicted":
            if complete:
                engine.rank_by("expected_value_12m")
            else:
                _logger.warning(
                    "Tier program %s: some predicted values are missing; tiers "
                    "are ranked by past revenue.",
                    program.id,
                )

    def _inputs(self, figures, eval_date, scope):
        """The rows of ``_prediction_query`` (partner, x, t_x, T, repeat
        amount, total amount) of the customers of ``scope`` (None: all),
        from the figures and the engine's scan of the orders
        (``engine.order_days``) of a full evaluation."""
        order_days = self.engine.order_days
        pids = sorted(figures if scope is None else set(scope) & figures.keys())
        rows = []
        for pid in pids:
            fig = figures[pid]
            repeats, repeat_amount, total_amount = order_days[pid]
            first = fig["first_order_date"]
            rows.append(
                (
                    pid,
                    repeats,
                    (fig["last_order_date"] - first).days,
                    (eval_date - first).days,
                    repeat_amount,
                    total_amount,
                )
            )
        return rows

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
    def _prediction_query(self, engine, eval_date, partner_ids=None):
        """x, t_x, T, repeat amount and total amount per commercial partner."""
        rate = ORDER_RATE
        return SQL(
            """
            WITH days AS (
                SELECT p.commercial_partner_id AS pid,
                       so.date_order::date AS day,
                       SUM(so.amount_untaxed / %(rate)s) AS amount
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE %(counted)s
                       %(partner_filter)s
                 GROUP BY p.commercial_partner_id, so.date_order::date
            ), marked AS (
                SELECT pid, day, amount,
                       MIN(day) OVER (PARTITION BY pid) AS first_day
                  FROM days
            )
            SELECT pid,
                   COUNT(*) - 1,
                   MAX(day) - MIN(day),
                   %(eval_date)s::date - MIN(day),
                   COALESCE(SUM(amount) FILTER (WHERE day > first_day), 0),
                   COALESCE(SUM(amount), 0)
              FROM marked
             GROUP BY pid
            """,
            rate=rate,
            counted=counted_orders(engine.company.id, eval_date),
            eval_date=eval_date,
            partner_filter=partner_filter(partner_ids),
        )

    def _prediction_stored_fit(self):
        """(BG/NBD params or None, Gamma-Gamma params or None) of the
        program's latest fit."""
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
        record) and the parameters."""
        minimum = self.predict_min_repeaters
        bg_fit = predict.fit_bgnbd(x, t_x, T, min_repeaters=minimum)
        gg_fit = predict.fit_gamma_gamma(x, mean_repeat, min_repeaters=minimum)
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
        """Set ``churn_risk`` on the program's profiles (one statement)."""
        for program in self:
            bound, watched = program._prediction_churn_rule()
            rule = SQL(
                "(NOT prof.is_prospect AND prof.prob_alive IS NOT NULL "
                "AND prof.prob_alive < %s AND prof.tier_id = ANY(%s))",
                bound,
                watched,
            )
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET churn_risk = %(rule)s
                     WHERE prof.company_id = %(company)s
                       AND prof.program_id = %(program)s
                           %(partner_filter)s
                       AND prof.churn_risk IS DISTINCT FROM %(rule)s
                    """,
                    rule=rule,
                    company=program.company_id.id,
                    program=program.id,
                    partner_filter=partner_filter(partner_ids, "prof.partner_id"),
                )
            )
        self.env["customer.tier.profile"].invalidate_model(["churn_risk"])

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
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Probability that the customer still buys from us (BG/NBD model), "
        "from its number of purchase days, the date of the last one and the "
        "length of its history. Empty without a model fit.",
    )
    expected_orders_12m = fields.Float(
        string="Expected Orders (12 months)",
        readonly=True,
        digits=(16, 2),
        aggregator="sum",
        help="Expected number of purchase days in the next 365 days (BG/NBD "
        "model). Empty without a model fit.",
    )
    expected_value_12m = fields.Monetary(
        string="Expected Value (12 months)",
        readonly=True,
        aggregator="sum",
        help="Expected orders in the next 12 months times the expected value of "
        "an order (Gamma-Gamma model, or the customer's own mean order value "
        "without that fit), untaxed, in company currency.",
    )
    repeat_order_days = fields.Integer(
        string="Repeat Purchase Days",
        readonly=True,
        help="Distinct days with a confirmed order, minus the first one: the "
        "repeat purchases the prediction models read.",
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
        help="Fewer than two repeat purchase days or less than 180 days of "
        "history: the predictions lean on the average customer.",
    )
    predict_status_text = fields.Char(related="program_id.predict_status_text")

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
