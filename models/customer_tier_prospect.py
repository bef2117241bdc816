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

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, format_amount

from .customer_tier import ORDER_CHECK_DEFERRED
from .customer_tier_bounds import MAX_AMOUNT, MAX_PERCENT, check_bounds, format_bound
from .customer_tier_engine import EPSILON, ORDER_RATE, EngineFeature, array_literal
from .res_partner import PROFILE_FIGURE

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
# The 0-5 star scale of the reputation and product-fit ratings ("0" = not rated).
STAR_RATING = [
    ("0", "Not rated"),
    ("1", "Very low"),
    ("2", "Low"),
    ("3", "Medium"),
    ("4", "High"),
    ("5", "Very high"),
]
DEFAULT_MIN_SCORES = {"A": 70.0, "B": 40.0, "C": 15.0}
# Range of the prospect numbers a manager types (inclusive). The lower bounds
# left at None are refused by the older checks (_check_prospect_weights,
# _check_prospect_references); a minimum score is bounded here on both sides.
PROGRAM_BOUNDS = {
    "prospect_weight_volume": (None, MAX_PERCENT),
    "prospect_weight_size": (None, MAX_PERCENT),
    "prospect_weight_reputation": (None, MAX_PERCENT),
    "prospect_weight_fit": (None, MAX_PERCENT),
    "prospect_weight_quotation": (None, MAX_PERCENT),
    "prospect_weight_source": (None, MAX_PERCENT),
    "prospect_volume_full": (None, MAX_AMOUNT),
    "prospect_quotation_full": (None, MAX_AMOUNT),
}
TIER_BOUNDS = {"min_score": (0, MAX_PERCENT)}
# Range of the partner's prospect inputs a salesperson types (inclusive).
PARTNER_INPUT_BOUNDS = {"tier_estimated_purchase": (0, MAX_AMOUNT)}


# The prospect columns of a customer with no input (no estimate, no open
# quotation): what ProspectFeature.extend_figures writes for it.
NO_PROSPECT_INPUTS = {
    "prospect_score": None,
    "prospect_score_explanation": None,
    "open_quotation_count": 0,
    "open_quotation_amount": 0.0,
    "estimated_purchase": None,
    "share_of_wallet": None,
    "share_of_wallet_raw": None,
    "wallet_band": None,
}


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
            if not (estimate or quotation_count or pid in prospects):
                # (a buying customer reads its estimate and quotations only)
                continue
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
                fig.update(NO_PROSPECT_INPUTS)
                inp = inputs.get(pid)
                if inp is None:
                    continue
                converted = inp["converted"]
                fig.update(
                    open_quotation_count=inp["quotation_count"],
                    open_quotation_amount=inp["quotation_amount"],
                    estimated_purchase=converted,
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

    prospect_weight_volume = fields.Integer(
        string="Weight: Estimated Purchases",
        default=30,
        help="Points of the prospect score for the estimated annual purchases; "
        "the full points go to an estimate at or above the volume for full "
        "points, proportionally less below it.",
    )
    prospect_weight_size = fields.Integer(
        string="Weight: Company Size",
        default=15,
        help="Points for the company size: 20 % of them for a micro company up "
        "to all of them for an enterprise.",
    )
    prospect_weight_reputation = fields.Integer(
        string="Weight: Reputation",
        default=20,
        help="Points for the reputation in its industry: rating / 5 of them.",
    )
    prospect_weight_fit = fields.Integer(
        string="Weight: Fit With Our Range",
        default=20,
        help="Points for the fit with our product range: rating / 5 of them.",
    )
    prospect_weight_quotation = fields.Integer(
        string="Weight: Open Quotations",
        default=15,
        help="Points for the open quotations (draft or sent, not expired): the "
        "full points at or above the quotation amount for full points, "
        "proportionally less below it.",
    )
    prospect_weight_source = fields.Integer(
        string="Weight: Preferred Source",
        default=10,
        help="Points for a prospect that comes from one of the preferred "
        "sources. Not counted while no preferred source is set.",
    )
    prospect_volume_full = fields.Monetary(
        string="Purchases for Full Points",
        default=500000.0,
        help="Estimated annual purchases (company currency) that earn all the "
        "points of the estimated-purchases weight.",
    )
    prospect_quotation_full = fields.Monetary(
        string="Quotations for Full Points",
        default=50000.0,
        help="Untaxed amount of open quotations (company currency) that earns "
        "all the points of the open-quotations weight.",
    )
    prospect_source_ids = fields.Many2many(
        "utm.source",
        "customer_tier_program_source_rel",
        "program_id",
        "source_id",
        string="Preferred Sources",
        help="Prospects from these sources (e.g. referrals, trade fairs) earn "
        "the points of the preferred-source weight.",
    )

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

    @api.constrains(*PROGRAM_BOUNDS)
    def _check_value_bounds_prospect(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, PROGRAM_BOUNDS, label=lambda program: program.name)

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
        its open quotations (count, amount in company currency).

        The open quotations come from the module's partial index of them
        (``customer_tier_sale_order_quotation_index``, models/sale_order.py);
        the partners (every customer each night) travel as one array literal
        (:func:`array_literal`): 20,000 of them as a list cost the server
        about 50 ms more to parse, at each of their two uses."""
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
            partners=SQL("%s::int4[]", array_literal(partner_ids, "int4")),
        )

    def _engine_features(self):
        return [*super()._engine_features(), ProspectFeature]

    def _prospect_scorer(self, engine, has_preferred):
        """A function (inputs) -> (score, grade or None, explanation):
        :class:`ProspectScorer`, which reads the labels, weights and grade
        bounds once per evaluation; ``has_preferred``: the program lists
        preferred sources."""
        self.ensure_one()
        return ProspectScorer(self, engine, has_preferred)


class ProspectScorer:
    """The prospect score of one evaluation (the rule: the module docstring).

    ``scorer(inputs) -> (score, grade or None, explanation)``, ``inputs``
    being a partner's prospect inputs as the engine hook reads them (None:
    none). Each criterion is a method ``inputs -> (part in [0, 1], value in
    words)``; :attr:`criteria` lists those the program weighs, in the order
    of the explanation, with their label and weight. The explanation: the
    score and grade (:meth:`_grade_line`), one line per criterion (value,
    points / weight), the points earned of those possible.
    """

    def __init__(self, program, engine, has_preferred):
        env = self.env = program.env
        self.currency = engine.currency
        self.volume_full = program.prospect_volume_full
        self.quotation_full = program.prospect_quotation_full
        Partner = env["res.partner"]
        self.sizes = dict(
            Partner._fields["tier_company_size"]._description_selection(env)
        )
        self.ratings = dict(
            Partner._fields["tier_reputation"]._description_selection(env)
        )
        # best grade first: (grade, minimum score)
        self.grades = [(g, g.min_score) for g in engine.grades]
        self.lowest = min((bound for _g, bound in self.grades), default=None)
        self.criteria = [
            (label, weight, rule)
            for label, weight, rule in (
                (
                    env._("Estimated annual purchases"),
                    program.prospect_weight_volume,
                    self._volume,
                ),
                (env._("Company size"), program.prospect_weight_size, self._size),
                (
                    env._("Industry reputation"),
                    program.prospect_weight_reputation,
                    self._reputation,
                ),
                (env._("Fit with our range"), program.prospect_weight_fit, self._fit),
                (
                    env._("Open quotations"),
                    program.prospect_weight_quotation,
                    self._quotation,
                ),
                # (counts only while the program lists preferred sources)
                (
                    env._("Source"),
                    program.prospect_weight_source if has_preferred else 0,
                    self._source,
                ),
            )
            if weight  # (a weight of 0 drops its criterion)
        ]
        self.possible = sum(weight for _label, weight, _rule in self.criteria)

    def __call__(self, inputs):
        inputs = inputs or {}
        env = self.env
        earned = 0.0
        lines = []
        for label, weight, rule in self.criteria:
            part, value = rule(inputs)
            points = weight * part
            earned += points
            lines.append(
                env._(
                    "- %(label)s: %(value)s: %(points)s / %(weight)s",
                    label=label,
                    value=value,
                    points=format(points, ".1f"),
                    weight=weight,
                )
            )
        score = round(100.0 * earned / self.possible, 1) if self.possible else 0.0
        grade = self._grade(score)
        foot = env._(
            "%(earned)s points of %(possible)s possible, scaled to 100.",
            earned=format(earned, ".1f"),
            possible=self.possible,
        )
        return score, grade, "\n".join([self._grade_line(score, grade), *lines, foot])

    def _money(self, amount, currency=None):
        return format_amount(self.env, amount, currency or self.currency)

    # ------------------------------------------------------------------
    # Criteria: inputs -> (part, value in words)
    # ------------------------------------------------------------------
    def _volume(self, inputs):
        """Estimated annual purchases: the estimate in company currency over
        the purchases for full points, at most 1; 0 when not estimated."""
        env = self.env
        estimate = inputs.get("estimate") or 0.0
        converted = inputs.get("converted") or 0.0
        if estimate > 0:
            currency = env["res.currency"].browse(inputs["currency_id"])
            value = self._money(estimate, currency)
            if currency != self.currency:
                value = env._(
                    "%(amount)s (%(converted)s)",
                    amount=value,
                    converted=self._money(converted),
                )
            value = env._(
                "%(value)s, full points from %(full)s",
                value=value,
                full=self._money(self.volume_full),
            )
        else:
            value = env._("not estimated")
        return min(converted / self.volume_full, 1.0), value

    def _size(self, inputs):
        """Company size: micro 0.2, small 0.4, medium 0.6, large 0.8,
        enterprise 1; 0 when unknown."""
        size = inputs.get("size")
        value = self.sizes.get(size) if size else self.env._("unknown")
        return COMPANY_SIZE_PARTS.get(size, 0.0), value

    def _reputation(self, inputs):
        """Industry reputation: stars / 5 (:meth:`_stars`)."""
        return self._stars(inputs.get("reputation"))

    def _fit(self, inputs):
        """Fit with our range: stars / 5 (:meth:`_stars`)."""
        return self._stars(inputs.get("fit"))

    def _stars(self, stars):
        """A 0-5 star rating: stars / 5; 0 when not rated."""
        stars = stars or 0
        if not stars:
            return 0.0, self.env._("not rated")
        value = self.env._(
            "%(label)s (%(stars)s/5)", label=self.ratings[str(stars)], stars=stars
        )
        return stars / 5.0, value

    def _quotation(self, inputs):
        """Open quotations: their amount in company currency over the
        quotations for full points, at most 1 (0 for none)."""
        env = self.env
        count = inputs.get("quotation_count") or 0
        amount = inputs.get("quotation_amount") or 0.0
        if count:
            value = env._(
                "%(count)s for %(amount)s, full points from %(full)s",
                count=count,
                amount=self._money(amount),
                full=self._money(self.quotation_full),
            )
        else:
            value = env._("none")
        return min(max(amount, 0.0) / self.quotation_full, 1.0), value

    def _source(self, inputs):
        """Source: 1 when the partner's source is a preferred source of the
        program, else 0 (also when it has none)."""
        env = self.env
        source_id = inputs.get("source_id")
        preferred = bool(source_id and inputs.get("preferred"))
        if not source_id:
            value = env._("unknown")
        elif preferred:
            value = env._("%(name)s (preferred)", name=inputs["source_name"])
        else:
            value = env._(
                "%(name)s (not a preferred source)", name=inputs["source_name"]
            )
        return float(preferred), value

    # ------------------------------------------------------------------
    # Grade
    # ------------------------------------------------------------------
    def _grade(self, score):
        """The best prospect grade (lowest sequence) whose minimum score the
        score reaches; None below every minimum."""
        return next((g for g, bound in self.grades if score >= bound - EPSILON), None)

    def _grade_line(self, score, grade):
        """The explanation's first line: the score and its grade, else the
        lowest minimum it misses, else that the program has no grade."""
        env = self.env
        if grade:
            return env._(
                "Score %(score)s / 100: grade %(grade)s (from %(bound)s).",
                score=format(score, ".1f"),
                grade=grade.display_name,
                bound=format(grade.min_score, ".1f"),
            )
        if self.lowest is not None:
            return env._(
                "Score %(score)s / 100: below the lowest grade minimum "
                "(%(bound)s), not graded.",
                score=format(score, ".1f"),
                bound=format(self.lowest, ".1f"),
            )
        return env._(
            "Score %(score)s / 100: no prospect grade.",
            score=format(score, ".1f"),
        )


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    min_score = fields.Float(
        string="Minimum Score",
        digits=(16, 1),
        aggregator=None,
        help="Prospect grades: a prospect gets the best grade whose minimum "
        "score (0-100) its prospect score reaches; below the minimum of every "
        "grade it stays ungraded.",
    )

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

    @api.constrains(*TIER_BOUNDS)
    def _check_value_bounds_prospect(self):
        check_bounds(self, TIER_BOUNDS)


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Prospect inputs and customer dimensions: company-independent facts kept
    # on the commercial partner (PARTNER_FACT_FIELDS)
    tier_estimated_purchase = fields.Monetary(
        string="Estimated Annual Purchases",
        currency_field="tier_estimated_currency_id",
        help="What the customer buys per year, from all its suppliers, of the "
        "kind of products we sell (estimate by the sales team). Scores "
        "prospects and gives the share of wallet of customers.",
    )
    tier_estimated_currency_id = fields.Many2one(
        "res.currency",
        string="Estimate Currency",
        default=lambda self: self.env.company.currency_id,
    )
    tier_company_size = fields.Selection(
        [
            ("micro", "Micro (1-9 employees)"),
            ("small", "Small (10-49)"),
            ("medium", "Medium (50-249)"),
            ("large", "Large (250-999)"),
            ("enterprise", "Enterprise (1000+)"),
        ],
        string="Company Size",
    )
    tier_reputation = fields.Selection(
        STAR_RATING,
        string="Industry Reputation",
        default="0",
        help="Standing of the customer in its industry, 1 to 5 stars.",
    )
    tier_product_fit = fields.Selection(
        STAR_RATING,
        string="Fit With Our Range",
        default="0",
        help="How well what the customer buys matches our product range, 1 to 5 stars.",
    )
    tier_source_id = fields.Many2one(
        "utm.source",
        string="Prospect Source",
        ondelete="set null",
        help="Where the customer came from (trade fair, referral, website ...).",
    )
    tier_relationship_type = fields.Selection(
        [
            ("vendor", "Vendor"),
            ("preferred_supplier", "Preferred Supplier"),
            ("partner", "Partner"),
            ("strategic_alliance", "Strategic Alliance"),
        ],
        string="Relationship",
        help="Our relationship with the customer. Vendor: we sell to them, "
        "order by order. Preferred supplier: they turn to us first. Partner: we "
        "work together beyond orders (joint development, shared planning). "
        "Strategic alliance: a long-term commitment on both sides.",
    )
    tier_need_ids = fields.Many2many(
        "customer.tier.need",
        "res_partner_customer_tier_need_rel",
        "partner_id",
        "need_id",
        string="Needs",
        help="What matters most to the customer.",
    )
    # Figures of the partner's profile in the current company
    tier_prospect_score = fields.Float(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.prospect_score",
        string="Prospect Score",
    )
    tier_prospect_score_explanation = fields.Text(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.prospect_score_explanation",
        string="Score Explanation",
    )
    tier_share_of_wallet = fields.Float(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.share_of_wallet",
        string="Share of Wallet",
    )
    tier_estimated_purchase_company = fields.Monetary(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.estimated_purchase",
        currency_field="tier_currency_id",
        string="Estimated Purchases (company currency)",
    )

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


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    prospect_score = fields.Float(
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="Potential of a prospect, 0 to 100, from the prospect inputs of "
        "the partner and its open quotations; the weights and the grades' "
        "minimum scores are set on the tier program. Empty for customers.",
    )
    prospect_score_explanation = fields.Text(
        string="Score Explanation",
        readonly=True,
        help="How the score was reached, input by input.",
    )
    open_quotation_count = fields.Integer(
        string="Open Quotations",
        readonly=True,
        help="Quotations (draft or sent) of the company dated on or before the "
        "evaluation date whose validity has not expired.",
    )
    open_quotation_amount = fields.Monetary(
        string="Open Quotations Amount",
        readonly=True,
        help="Untaxed amount of the open quotations, in company currency.",
    )
    estimated_purchase = fields.Monetary(
        string="Estimated Annual Purchases",
        readonly=True,
        help="The partner's estimated annual purchases converted to company "
        "currency at the evaluation date.",
    )
    share_of_wallet = fields.Float(
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Our revenue per year (window revenue x 12 / window months) over "
        "the estimated annual purchases, capped at 100 %. Empty without an "
        "estimate.",
    )
    share_of_wallet_raw = fields.Float(
        string="Share of Wallet (uncapped)",
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Share of wallet before the cap: above 100 % the estimate is too low.",
    )
    wallet_band = fields.Selection(
        [
            ("low", "Under 25 %"),
            ("medium", "25-50 %"),
            ("high", "50-75 %"),
            ("dominant", "75 % and more"),
        ],
        string="Share of Wallet Band",
        readonly=True,
        index=True,
    )
