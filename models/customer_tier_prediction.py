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
and date are stored on the program when the evaluation is written; an
incremental refresh (an order confirmed or cancelled) reuses them.

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
from odoo.tools import SQL

from . import customer_tier_predict as predict
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
BGNBD_FIELDS = {"r": "bgnbd_r", "alpha": "bgnbd_alpha", "a": "bgnbd_a", "b": "bgnbd_b"}
GG_FIELDS = {"p": "gg_p", "q": "gg_q", "v": "gg_v"}


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

    @api.depends(
        "predict_status",
        "predict_gg_status",
        "predict_fit_date",
        "predict_customers",
        "predict_repeaters",
        "predict_gg_customers",
        "predict_min_repeaters",
        "value_basis",
    )
    def _compute_predict_status_text(self):
        for program in self:
            program.predict_status_text = program._prediction_status_text()

    def _prediction_status_text(self):
        self.ensure_one()
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
                repeaters=self.predict_repeaters,
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
                customers=self.predict_customers,
                repeaters=self.predict_repeaters,
            )
            if self.predict_gg_status == "ok":
                text += " " + self.env._(
                    "Order values: Gamma-Gamma model fitted on %(count)s customers.",
                    count=self.predict_gg_customers,
                )
            elif self.predict_gg_status == "unreliable":
                text += " " + self.env._(
                    "Order values: the Gamma-Gamma fit on %(count)s customers is "
                    "not reliable (its estimate ends at the edge of the possible "
                    "values, or the average order value it implies is more than "
                    "four times above or below the customers' mean), so the "
                    "expected value uses each customer's own mean order value.",
                    count=self.predict_gg_customers,
                )
            else:
                text += " " + self.env._(
                    "Order values: no Gamma-Gamma fit (%(count)s customers with a "
                    "valued repeat order), so the expected value uses each "
                    "customer's own mean order value.",
                    count=self.predict_gg_customers,
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
        """(BG/NBD params or None, Gamma-Gamma params or None) of the program."""
        self.ensure_one()
        bgnbd = gg = None
        if self.predict_status == "ok":
            bgnbd = {k: self[f] for k, f in BGNBD_FIELDS.items()}
            if self.predict_gg_status == "ok":
                gg = {k: self[f] for k, f in GG_FIELDS.items()}
        return bgnbd, gg

    def _engine_features(self):
        return [*super()._engine_features(), PredictionFeature]

    def _prediction_fit(self, x, t_x, T, mean_repeat):
        """Fit both models; return the values to store and the parameters."""
        minimum = self.predict_min_repeaters
        bg_fit = predict.fit_bgnbd(x, t_x, T, min_repeaters=minimum)
        gg_fit = predict.fit_gamma_gamma(x, mean_repeat, min_repeaters=minimum)
        values = {
            "predict_status": bg_fit.status,
            "predict_gg_status": gg_fit.status,
            "predict_customers": bg_fit.customers,
            "predict_repeaters": bg_fit.repeaters,
            "predict_gg_customers": gg_fit.customers,
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
        """Store the fit of a full evaluation (``fit``: the result of
        :meth:`_prediction_fit`) on the program, when it changed."""
        values = dict(fit["values"], predict_fit_date=eval_date)
        program = self.sudo()
        current = program.read(list(values), load=None)[0]
        if any(current[name] != value for name, value in values.items()):
            engine.lock_program()
            program.write(values)

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
        template = self.env.ref(
            "customer_tier.customer_tier_program_default", raise_if_not_found=False
        )
        if not template:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_tier t
                   SET watch_churn = TRUE
                  FROM customer_tier s
                 WHERE s.program_id = %(template)s
                   AND t.program_id <> %(template)s
                   AND t.kind = s.kind AND t.code = s.code
                   AND s.watch_churn AND NOT COALESCE(t.watch_churn, FALSE)
                """,
                template=template.id,
            )
        )
        self.env["customer.tier"].invalidate_model(["watch_churn"])


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    def write(self, vals):
        res = super().write(vals)
        if {"watch_churn", "active", "program_id"} & vals.keys():
            self.program_id._prediction_update_churn()
        return res


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

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
