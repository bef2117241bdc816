"""Prospect scoring, the partner's prospect inputs and the share of wallet.

Inputs, kept on the commercial partner (company-independent, filled in by the
sales team): estimated annual purchases with their currency, company size,
reputation in its industry (0-5 stars), fit with our product range (0-5
stars) and source (``utm.source``, as on leads and quotations). What Odoo
knows: the open quotations of the program's company, i.e. sale orders in state
``draft`` or ``sent`` dated (``date_order``) on or before the evaluation date
whose validity date is empty or not before it, counted and summed (untaxed
amount divided by the order's ``currency_rate``: company currency).

Score of a prospect, 0 to 100::

    score = 100 * sum(weight_i * part_i) / sum(weight_i)

over the program's weights (a weight of 0 drops its input; the preferred-source
weight counts only while the program lists preferred sources), each part in
[0, 1]:

* estimated purchases: the estimate converted to company currency at the
  evaluation date over the program's "purchases for full points", at most 1;
* company size: micro 0.2, small 0.4, medium 0.6, large 0.8, enterprise 1;
* reputation, fit: stars / 5;
* open quotations: their amount over the "quotations for full points", at
  most 1;
* preferred source: 1 when the partner's source is a preferred source, else 0.

An empty input counts 0. The score is rounded to one decimal; the grade is the
best prospect grade (lowest sequence) whose minimum score it reaches, none below
every minimum. A manual grade on the profile wins (engine). Score, grade and a
line-by-line explanation are computed in the engine's set-based pass (one SQL
for the inputs, one for the open quotations per company) and stored on the
profile; customers have no score.

Share of wallet (every profile with an estimate): our revenue per year (window
revenue x 12 / window months) over the estimate in company currency; stored
raw and capped at 100 % (plus a band); empty without an estimate.

Editing the inputs of a partner refreshes its profiles at once (incremental
engine run) and makes it a customer of Odoo (``customer_rank``) so it is
graded as a prospect. A salesperson limited to own documents may edit the
inputs and dimensions of partners that are theirs or have no salesperson.
"""

from collections import defaultdict
from itertools import pairwise

from odoo import api, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, format_amount

from .customer_tier import ORDER_CHECK_DEFERRED
from .customer_tier_bounds import MAX_AMOUNT, check_bounds, format_bound
from .customer_tier_engine import EPSILON, ORDER_RATE, EngineFeature

COMPANY_SIZE_PARTS = {
    "micro": 0.2,
    "small": 0.4,
    "medium": 0.6,
    "large": 0.8,
    "enterprise": 1.0,
}
# Partner fields that feed the score (a change refreshes the profiles).
SCORE_INPUT_FIELDS = {
    "tier_estimated_purchase",
    "tier_estimated_currency_id",
    "tier_company_size",
    "tier_reputation",
    "tier_product_fit",
    "tier_source_id",
}
# Company-independent facts on the commercial partner (synced to contacts,
# edited by own-documents salespeople on their own partners only).
PARTNER_FACT_FIELDS = (
    "tier_estimated_purchase",
    "tier_estimated_currency_id",
    "tier_company_size",
    "tier_reputation",
    "tier_product_fit",
    "tier_source_id",
    "tier_relationship_type",
    "tier_need_ids",
)
PROSPECT_COLUMNS = (
    "prospect_score",
    "prospect_score_explanation",
    "open_quotation_count",
    "open_quotation_amount",
    "estimated_purchase",
    "share_of_wallet",
    "share_of_wallet_raw",
    "wallet_band",
)
WEIGHT_FIELDS = (
    "prospect_weight_volume",
    "prospect_weight_size",
    "prospect_weight_reputation",
    "prospect_weight_fit",
    "prospect_weight_quotation",
    "prospect_weight_source",
)
DEFAULT_MIN_SCORES = {"A": 70.0, "B": 40.0, "C": 15.0}
# Range of the partner's prospect inputs a salesperson types (inclusive).
PARTNER_INPUT_BOUNDS = {"tier_estimated_purchase": (0, MAX_AMOUNT)}


def wallet_band(share):
    if share < 0.25:
        return "low"
    if share < 0.5:
        return "medium"
    if share < 0.75:
        return "high"
    return "dominant"


class ProspectFeature(EngineFeature):
    """Prospect score and grade, open quotations and share of wallet
    (module docstring).

    Sequence 40: grades the prospect rows (``engine.prospects``); reads
    nothing of another feature."""

    name = "prospect"
    sequence = 40
    columns = PROSPECT_COLUMNS

    def extend_figures(self, figures, eval_date, full):
        program, engine = self.program, self.engine
        prospects = engine.prospects
        partner_ids = engine.in_batch(list(figures) + list(prospects))
        if not partner_ids:
            return
        currency = engine.currency
        dp = currency.decimal_places
        Currency = program.env["res.currency"]
        inputs = {}
        rates = {}
        has_preferred = False
        for (
            pid,
            estimate,
            currency_id,
            size,
            reputation,
            fit,
            source_id,
            source_name,
            preferred,
            program_has_preferred,
            quotation_count,
            quotation_amount,
        ) in program.env.execute_query(
            program._prospect_inputs_query(engine, eval_date, partner_ids)
        ):
            has_preferred = program_has_preferred
            estimate = float(estimate or 0.0)
            currency_id = currency_id or currency.id
            converted = None
            if estimate > 0:
                if currency_id not in rates:
                    rates[currency_id] = Currency._get_conversion_rate(
                        Currency.browse(currency_id),
                        currency,
                        engine.company,
                        eval_date,
                    )
                converted = round(estimate * rates[currency_id], dp)
            inputs[pid] = {
                "estimate": estimate,
                "currency_id": currency_id,
                "converted": converted,
                "size": size,
                "reputation": int(reputation or 0),
                "fit": int(fit or 0),
                "source_id": source_id,
                "source_name": source_name,
                "preferred": preferred,
                "quotation_count": quotation_count,
                "quotation_amount": round(float(quotation_amount), dp),
            }
        years = program.window_months / 12.0
        for rows in (figures, prospects):
            for pid, fig in rows.items():
                inp = inputs.get(pid) or {}
                converted = inp.get("converted")
                fig.update(
                    prospect_score=None,
                    prospect_score_explanation=None,
                    open_quotation_count=inp.get("quotation_count", 0),
                    open_quotation_amount=inp.get("quotation_amount", 0.0),
                    estimated_purchase=converted,
                    share_of_wallet=None,
                    share_of_wallet_raw=None,
                    wallet_band=None,
                )
                if converted:
                    raw = fig["revenue_window"] / years / converted
                    fig.update(
                        share_of_wallet_raw=round(raw, 4),
                        share_of_wallet=round(min(raw, 1.0), 4),
                        wallet_band=wallet_band(raw),
                    )
        if prospects:
            scorer = program._prospect_scorer(engine, has_preferred)
            for pid, fig in prospects.items():
                score, grade, text = scorer(inputs.get(pid))
                fig.update(
                    prospect_score=score,
                    prospect_score_explanation=text,
                    computed_tier_id=grade.id if grade else None,
                )


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    @api.constrains(*WEIGHT_FIELDS, "prospect_source_ids")
    def _check_prospect_weights(self):
        for program in self:
            weights = {f: program[f] for f in WEIGHT_FIELDS}
            if min(weights.values()) < 0:
                raise ValidationError(
                    self.env._("The weights of the prospect score cannot be negative.")
                )
            if not program.prospect_source_ids:
                weights.pop("prospect_weight_source")
            if not sum(weights.values()):
                raise ValidationError(
                    self.env._(
                        "At least one weight of the prospect score must be set (the "
                        "source counts only with preferred sources)."
                    )
                )

    @api.constrains("grade_ids")
    def _check_grade_order(self):
        self.grade_ids._check_min_score_order()

    @api.constrains("prospect_volume_full", "prospect_quotation_full")
    def _check_prospect_references(self):
        for program in self:
            if min(program.prospect_volume_full, program.prospect_quotation_full) <= 0:
                raise ValidationError(
                    self.env._(
                        "The purchases and quotations for full points must be "
                        "positive amounts."
                    )
                )

    @api.model
    def _init_prospect_grade_scores(self):
        """Default minimum scores of the grades coded A, B, C (install)."""
        grades = (
            self.env["customer.tier"]
            .with_context(active_test=False)
            .search([("kind", "=", "prospect")])
        )
        for grade in grades:
            if not grade.min_score and grade.code in DEFAULT_MIN_SCORES:
                grade.min_score = DEFAULT_MIN_SCORES[grade.code]

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    def _prospect_inputs_query(self, engine, eval_date, partner_ids):
        """Per partner: its prospect inputs, its source's name and whether it
        is a preferred one, whether the program has preferred sources, and
        its open quotations (count, amount in company currency)."""
        _start, end = engine._window(eval_date)
        rate = ORDER_RATE
        return SQL(
            """
            WITH quotations AS (
                SELECT p.commercial_partner_id AS pid,
                       COUNT(*) AS n,
                       SUM(so.amount_untaxed / %(rate)s) AS amount
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state IN ('draft', 'sent')
                   AND so.company_id = %(company)s
                   AND so.date_order < %(end)s
                   AND (so.validity_date IS NULL
                        OR so.validity_date >= %(eval_date)s)
                   AND p.commercial_partner_id = ANY(%(partners)s)
                 GROUP BY p.commercial_partner_id
            ), preferred AS (
                SELECT source_id FROM customer_tier_program_source_rel
                 WHERE program_id = %(program)s
            )
            SELECT p.id, p.tier_estimated_purchase, p.tier_estimated_currency_id,
                   p.tier_company_size, p.tier_reputation, p.tier_product_fit,
                   p.tier_source_id, src.name,
                   COALESCE(src.id IN (SELECT source_id FROM preferred), FALSE),
                   EXISTS (SELECT 1 FROM preferred),
                   COALESCE(q.n, 0), COALESCE(q.amount, 0)
              FROM res_partner p
              LEFT JOIN utm_source src ON src.id = p.tier_source_id
              LEFT JOIN quotations q ON q.pid = p.id
             WHERE p.id = ANY(%(partners)s)
            """,
            rate=rate,
            company=engine.company.id,
            program=self.id,
            end=end,
            eval_date=eval_date,
            partners=list(partner_ids),
        )

    def _engine_features(self):
        return [*super()._engine_features(), ProspectFeature]

    def _prospect_scorer(self, engine, has_preferred):
        """A function (inputs) -> (score, grade or None, explanation).

        Labels and the grade bounds are read once per evaluation;
        ``has_preferred``: the program lists preferred sources.
        """
        self.ensure_one()
        env = self.env
        currency = engine.currency
        Partner = env["res.partner"]
        sizes = dict(Partner._fields["tier_company_size"]._description_selection(env))
        ratings = dict(Partner._fields["tier_reputation"]._description_selection(env))
        grades = [(g, g.min_score) for g in engine.grades]
        lowest = min((bound for _g, bound in grades), default=None)
        weights = {
            "volume": self.prospect_weight_volume,
            "size": self.prospect_weight_size,
            "reputation": self.prospect_weight_reputation,
            "fit": self.prospect_weight_fit,
            "quotation": self.prospect_weight_quotation,
            "source": self.prospect_weight_source if has_preferred else 0,
        }
        possible = sum(weights.values())
        volume_full = self.prospect_volume_full
        quotation_full = self.prospect_quotation_full

        def money(amount, money_currency=currency):
            return format_amount(env, amount, money_currency)

        def score(inp):
            inp = inp or {}
            lines = []
            earned = 0.0
            # (key, label, part, value text)
            estimate = inp.get("estimate") or 0.0
            converted = inp.get("converted") or 0.0
            if estimate > 0:
                est_currency = env["res.currency"].browse(inp["currency_id"])
                value = money(estimate, est_currency)
                if est_currency != currency:
                    value = self.env._(
                        "%(amount)s (%(converted)s)",
                        amount=value,
                        converted=money(converted),
                    )
                value = self.env._(
                    "%(value)s, full points from %(full)s",
                    value=value,
                    full=money(volume_full),
                )
            else:
                value = self.env._("not estimated")
            parts = [
                (
                    "volume",
                    self.env._("Estimated annual purchases"),
                    min(converted / volume_full, 1.0),
                    value,
                )
            ]
            size = inp.get("size")
            parts.append(
                (
                    "size",
                    self.env._("Company size"),
                    COMPANY_SIZE_PARTS.get(size, 0.0),
                    sizes.get(size) if size else self.env._("unknown"),
                )
            )
            for key, label in (
                ("reputation", self.env._("Industry reputation")),
                ("fit", self.env._("Fit with our range")),
            ):
                stars = inp.get(key) or 0
                parts.append(
                    (
                        key,
                        label,
                        stars / 5.0,
                        self.env._(
                            "%(label)s (%(stars)s/5)",
                            label=ratings[str(stars)],
                            stars=stars,
                        )
                        if stars
                        else self.env._("not rated"),
                    )
                )
            count = inp.get("quotation_count") or 0
            amount = inp.get("quotation_amount") or 0.0
            parts.append(
                (
                    "quotation",
                    self.env._("Open quotations"),
                    min(max(amount, 0.0) / quotation_full, 1.0),
                    self.env._(
                        "%(count)s for %(amount)s, full points from %(full)s",
                        count=count,
                        amount=money(amount),
                        full=money(quotation_full),
                    )
                    if count
                    else self.env._("none"),
                )
            )
            if weights["source"]:
                source_id = inp.get("source_id")
                preferred = bool(source_id and inp.get("preferred"))
                if not source_id:
                    value = self.env._("unknown")
                elif preferred:
                    value = self.env._("%(name)s (preferred)", name=inp["source_name"])
                else:
                    value = self.env._(
                        "%(name)s (not a preferred source)", name=inp["source_name"]
                    )
                parts.append(("source", self.env._("Source"), float(preferred), value))
            for key, label, part, value in parts:
                weight = weights[key]
                if not weight:
                    continue
                points = weight * part
                earned += points
                lines.append(
                    self.env._(
                        "- %(label)s: %(value)s: %(points)s / %(weight)s",
                        label=label,
                        value=value,
                        points=format(points, ".1f"),
                        weight=weight,
                    )
                )
            result = round(100.0 * earned / possible, 1) if possible else 0.0
            grade = next((g for g, bound in grades if result >= bound - EPSILON), None)
            if grade:
                head = self.env._(
                    "Score %(score)s / 100: grade %(grade)s (from %(bound)s).",
                    score=format(result, ".1f"),
                    grade=grade.display_name,
                    bound=format(grade.min_score, ".1f"),
                )
            elif lowest is not None:
                head = self.env._(
                    "Score %(score)s / 100: below the lowest grade minimum "
                    "(%(bound)s), not graded.",
                    score=format(result, ".1f"),
                    bound=format(lowest, ".1f"),
                )
            else:
                head = self.env._(
                    "Score %(score)s / 100: no prospect grade.",
                    score=format(result, ".1f"),
                )
            foot = self.env._(
                "%(earned)s points of %(possible)s possible, scaled to 100.",
                earned=format(earned, ".1f"),
                possible=possible,
            )
            return result, grade, "\n".join([head, *lines, foot])

        return score


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    def _check_min_score_order(self):
        """Along the order of the active prospect grades, minimum scores
        decrease strictly: a grade asking as much as a better one would be
        given to nobody."""
        for program in self.program_id:
            grades = program._prospect_grades()
            for better, worse in pairwise(grades):
                if worse.min_score >= better.min_score:
                    raise ValidationError(
                        self.env._(
                            "Prospect grade %(grade)s needs a lower minimum score "
                            "than the better grade %(better)s (%(score)s against "
                            "%(better_score)s): a prospect reaching it gets "
                            "%(better)s. Minimum scores decrease from the best "
                            "grade to the last.",
                            grade=worse.display_name,
                            better=better.display_name,
                            score=format_bound(self.env, worse.min_score),
                            better_score=format_bound(self.env, better.min_score),
                        )
                    )

    @api.constrains("min_score", "sequence", "active", "kind", "program_id")
    def _check_min_scores(self):
        if not self.env.context.get(ORDER_CHECK_DEFERRED):
            self.filtered(lambda t: t.kind == "prospect")._check_min_score_order()


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.constrains(*PARTNER_INPUT_BOUNDS)
    def _check_tier_input_bounds(self):
        check_bounds(self, PARTNER_INPUT_BOUNDS)

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + list(PARTNER_FACT_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        with_inputs = partners.browse(
            partner.id
            for partner, vals in zip(partners, vals_list, strict=True)
            if any(
                vals.get(f) and vals[f] != "0"
                for f in SCORE_INPUT_FIELDS - {"tier_estimated_currency_id"}
            )
        )
        if with_inputs:
            with_inputs._tier_inputs_changed()
        return partners

    def write(self, vals):
        if set(PARTNER_FACT_FIELDS) & vals.keys():
            self._check_tier_facts_access()
        res = super().write(vals)
        if SCORE_INPUT_FIELDS & vals.keys():
            self._tier_inputs_changed()
        return res

    def _tier_facts_restricted(self):
        """True for a salesperson limited to own documents."""
        user = self.env.user
        return (
            not self.env.su
            and user.has_group("sales_team.group_sale_salesman")
            and not user.has_group("sales_team.group_sale_salesman_all_leads")
            and not user.has_group("customer_tier.group_customer_tier_manager")
        )

    def _check_tier_facts_access(self):
        if not self._tier_facts_restricted():
            return
        others = self.filtered(
            lambda p: (
                p.commercial_partner_id == p
                and p.user_id
                and p.user_id != self.env.user
            )
        )
        if others:
            raise AccessError(
                self.env._(
                    "You may only change the prospect inputs and customer "
                    "dimensions of your own customers (%(partners)s belong to "
                    "another salesperson).",
                    partners=", ".join(others.mapped("display_name")),
                )
            )

    def _tier_inputs_changed(self):
        """Refresh the tier profiles of commercial partners whose prospect
        inputs changed: those they have, and the current company's (a partner
        described as a prospect becomes a customer of Odoo)."""
        partners = self.filtered(lambda p: p.active and p.commercial_partner_id == p)
        if not partners:
            return
        partners.filtered(lambda p: not p.customer_rank)._increase_rank("customer_rank")
        by_program = defaultdict(set)
        profiles = (
            self.env["customer.tier.profile"]
            .sudo()
            .search([("partner_id", "in", partners.ids)])
        )
        for profile in profiles:
            by_program[profile.program_id].add(profile.partner_id.id)
        program = (
            self.env["customer.tier.program"].sudo()._get_for_company(self.env.company)
        )
        if program:
            by_program[program].update(
                partners.filtered(
                    lambda p: not p.company_id or p.company_id == program.company_id
                ).ids
            )
        for program, partner_ids in by_program.items():
            if partner_ids and program.active:
                program._engine().refresh_partners(partner_ids)
