"""Why a customer holds its tier, and what it takes to move.

``customer.tier.profile.tier_explanation`` (and the partner's related
``tier_explanation``) lists, in the reader's language, each condition of the
customer's tier and of the next tier up, met or not, with the customer's
figure and the bound, then what it takes to reach the next tier and, while a
downgrade is pending, to keep the tier. The rules are the engine's
(:class:`~.customer_tier_engine.TierEngine`), read from the stored profile:

* thresholds (and the predicted 12-month value when the program ranks by it):
  the engine's threshold conditions (``_threshold_conditions``, which reads
  ``_threshold_checks``); what is missing is the bound less the figure, or a
  new order for the days since the last order;
* Pareto: the customer's cumulative share against each tier's bound; the
  amount to reach (or keep) a tier is the least increase of the customer's
  ranking figure that brings its cumulative share within the tier's bound at
  today's distribution (the other customers' stored figures, ranked as the
  engine ranks them: figure descending, ties by partner id; outranking a
  customer takes the currency's smallest unit more than its figure). That
  distribution is the company's: users outside ``COMPANY_WIDE_GROUPS`` read
  the bound and whether it is met (their customer's tier says as much), not
  the share nor the amount, which derive from other customers' revenue;
* RFM: the customer's R, F, M and FM scores and segment; the segments each
  tier takes, with the score ranges the customer meets or misses;
* prospects: the score against each grade's minimum.
"""

import math
from bisect import bisect_left
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import format_date

from .customer_tier_engine import EPSILON, TierEngine
from .customer_tier_profile import COMPANY_WIDE_GROUPS
from .res_partner import PROFILE_FIGURE

MET = "\N{CHECK MARK}"
MISSED = "\N{BALLOT X}"


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    tier_explanation = fields.Html(
        string="Why This Tier",
        compute="_compute_tier_explanation",
        exportable=False,
        help="Each condition of the customer's tier and of the next tier up, "
        "met or not, with the customer's figure and the bound, and what it "
        "takes to reach the next tier or to keep the tier at risk.",
    )

    @api.depends_context("lang", "uid")
    @api.depends(
        "program_id.method",
        "program_id.value_basis",
        "program_id.revenue_basis",
        "program_id.grace_unit",
        "program_id.grace_length",
        "is_prospect",
        "tier_id",
        "assigned_tier_id",
        "computed_tier_id",
        "manual_tier_id",
        "manual_reason",
        "manual_end_date",
        "downgrade_tier_id",
        "downgrade_count",
        "downgrade_since",
        "revenue_window",
        "margin_window",
        "order_count_window",
        "recency_days",
        "last_order_date",
        "rfm_recency_score",
        "rfm_frequency_score",
        "rfm_monetary_score",
        "rfm_segment_id",
        "prospect_score",
        "ranking_value",
    )
    def _compute_tier_explanation(self):
        company_wide = self.env.su or self.env.user.has_groups(COMPANY_WIDE_GROUPS)
        for program, profiles in self.grouped("program_id").items():
            if not program:
                profiles.tier_explanation = False
                continue
            explainer = _Explainer(program, self.env, company_wide)
            explainer.load_rankings(profiles)
            for profile in profiles:
                profile.tier_explanation = explainer.explain(profile)


class ResPartner(models.Model):
    _inherit = "res.partner"

    tier_explanation = fields.Html(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.tier_explanation",
        exportable=False,
    )


class _Explainer:
    """The explanations of the profiles of one program, in ``env``'s language."""

    def __init__(self, program, env, company_wide):
        self.program = program
        self.engine = engine = TierEngine(program.with_env(env))
        # the reader's language (the context's, else the user's)
        self.env = env = engine._reason_env()
        self.company_wide = company_wide
        self.method = program.sudo().method
        # ranked by the predicted 12-month value the evaluation stored
        # (the engine's value_key): the program asks for it and holds a fit
        sudo_program = program.sudo()
        if (
            sudo_program.value_basis == "predicted"
            and sudo_program.predict_status == "ok"
        ):
            engine.rank_by("ranking_value")
        self.fmt = engine._formats(env)
        self.unit = 10**-engine.currency.decimal_places
        self.rules = {rule[0].id: rule for rule in engine.tier_rules}
        # Pareto: the other customers' figures, ranked (company-wide users)
        self.ranking = None
        # the profile being explained has a manual override
        self.overridden = False

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def load_rankings(self, profiles):
        """The company's ranking figures, in one query, when a Pareto
        explanation of a company-wide reader needs them."""
        if not (self.method == "pareto" and self.company_wide):
            return
        if all(p.is_prospect for p in profiles):
            return
        rows = self.env.execute_query(
            SQL(
                "SELECT partner_id, COALESCE(%s, 0) FROM customer_tier_profile "
                "WHERE company_id = %s AND NOT is_prospect",
                SQL.identifier(self.engine.value_key),
                self.engine.company.id,
            )
        )
        # best first, as the engine ranks them
        self.ranking = sorted(
            ((float(value), pid) for pid, value in rows), key=lambda r: (-r[0], r[1])
        )

    def _figures(self, profile):
        """The engine's figure dict of a stored profile."""
        return {
            "revenue_window": profile.revenue_window,
            "ranking_value": profile.ranking_value,
            "order_count_window": profile.order_count_window,
            "recency_days": profile.recency_days,
            "margin_window": profile.margin_window,
            "rfm_recency_score": profile.rfm_recency_score,
            "rfm_frequency_score": profile.rfm_frequency_score,
            "rfm_monetary_score": profile.rfm_monetary_score,
            "rfm_segment_id": profile.rfm_segment_id.id,
            "computed_tier_id": profile.computed_tier_id.id,
        }

    # ------------------------------------------------------------------
    # Markup
    # ------------------------------------------------------------------
    def _name(self, tier_id):
        return self.engine._tier_name(tier_id, self.env)

    @staticmethod
    def _paragraph(text, strong=False):
        if strong:
            return Markup("<p><strong>%s</strong></p>") % text
        return Markup("<p>%s</p>") % text

    @staticmethod
    def _items(conditions):
        """``<ul>`` of ``(met, text)``: met, missed, or None (no mark)."""
        if not conditions:
            return Markup()
        items = Markup().join(
            Markup('<li><span class="%s">%s</span> %s</li>')
            % (
                "text-success" if met else "text-danger",
                MET if met else MISSED,
                text,
            )
            if met is not None
            else Markup("<li>%s</li>") % text
            for met, text in conditions
        )
        return Markup("<ul>%s</ul>") % items

    def _needs(self, verb, tier_id, needs):
        """``To reach <tier>: ...`` (verb ``reach``) or ``To keep <tier>:
        ...`` (``keep``), the needs joined."""
        env = self.env
        if verb == "reach":
            text = env._(
                "To reach %(tier)s: %(needs)s.",
                tier=self._name(tier_id),
                needs=self.engine._join_conditions(needs, env),
            )
        else:
            text = env._(
                "To keep %(tier)s: %(needs)s.",
                tier=self._name(tier_id),
                needs=self.engine._join_conditions(needs, env),
            )
        return self._paragraph(text)

    # ------------------------------------------------------------------
    # One profile
    # ------------------------------------------------------------------
    def explain(self, profile):
        env = self.env
        parts = []
        if profile.manual_tier_id:
            params = {
                "tier": self._name(profile.manual_tier_id.id),
                "reason": profile.manual_reason or "",
            }
            if profile.manual_end_date:
                text = env._(
                    "Set by hand to %(tier)s until %(date)s: %(reason)s",
                    date=format_date(env, profile.manual_end_date),
                    **params,
                )
            else:
                text = env._("Set by hand to %(tier)s: %(reason)s", **params)
            parts.append(self._paragraph(text))
        if profile.is_prospect:
            parts.append(self._prospect(profile))
            return Markup().join(parts)
        fig = self._figures(profile)
        # (under an override, the tier explained is the one the figures give)
        self.overridden = bool(profile.manual_tier_id)
        held = profile.assigned_tier_id.id or profile.computed_tier_id.id
        tier_ids = [t.id for t in self.engine.tiers]
        if held not in tier_ids:
            return Markup().join(parts) or False
        pending = profile.downgrade_tier_id.id
        if pending:
            parts.append(self._grace(profile, held, pending))
        computed = fig["computed_tier_id"]
        # below the held tier: what it takes to keep it (a pending downgrade,
        # or one a refresh leaves for the next full evaluation)
        below = bool(pending) or bool(
            computed in tier_ids and self.engine._better(held, computed)
        )
        position = tier_ids.index(held)
        upper = tier_ids[position - 1] if position else None
        if self.method == "pareto":
            explain = self._pareto
        elif self.method == "rfm":
            explain = self._rfm
        else:
            explain = self._threshold
        parts.append(explain(profile, fig, held, upper, below))
        return Markup().join(parts)

    def _grace(self, profile, held, pending):
        env = self.env
        program = self.program.sudo()
        params = {"tier": self._name(held), "lower": self._name(pending)}
        if program.grace_unit == "days" and profile.downgrade_since:
            text = env._(
                "At risk: %(tier)s is kept during the downgrade grace; %(lower)s "
                "applies on %(date)s.",
                date=format_date(env, self._grace_end(profile)),
                **params,
            )
        else:
            left = max(program.grace_length - profile.downgrade_count, 1)
            text = env._(
                "At risk: %(tier)s is kept during the downgrade grace; %(lower)s "
                "applies after %(count)s more full evaluations.",
                count=left,
                **params,
            )
        return self._paragraph(text)

    def _grace_end(self, profile):
        return profile.downgrade_since + timedelta(
            days=self.program.sudo().grace_length
        )

    def _title(self, tier_id, upper=False):
        if upper:
            text = self.env._("%(tier)s, the next tier up", tier=self._name(tier_id))
        elif self.overridden:
            text = self.env._(
                "%(tier)s, the tier the figures give", tier=self._name(tier_id)
            )
        else:
            text = self.env._("%(tier)s, the customer's tier", tier=self._name(tier_id))
        return self._paragraph(text, strong=True)

    def _fallback(self, tier_id):
        return self._paragraph(
            self.env._(
                "%(tier)s: the last tier, for customers no better tier takes.",
                tier=self._name(tier_id),
            )
        )

    def _explained_tiers(self, held, upper, parts):
        """The tiers an explanation goes through: the customer's tier, then
        the next tier up, each as ``(tier id, is the next tier up, its rule
        in the engine's tier_rules)``; a tier without a rule (the last one,
        which takes every customer no better tier takes) gets its fallback
        line in ``parts`` instead."""
        for tier_id, is_upper in ((held, False), (upper, True)):
            if not tier_id:
                continue
            rule = self.rules.get(tier_id)
            if rule is None:
                parts.append(self._fallback(tier_id))
                continue
            yield tier_id, is_upper, rule

    # Thresholds ------------------------------------------------------
    def _threshold(self, profile, fig, held, upper, below):
        parts = []
        for tier_id, is_upper, rule in self._explained_tiers(held, upper, parts):
            conditions = self.engine._threshold_conditions(fig, rule, self.env)
            parts.append(self._title(tier_id, is_upper))
            parts.append(self._items(conditions))
            keep = not is_upper and below
            if is_upper or keep:
                needs = self._threshold_needs(profile, fig, rule, keep)
                if needs:
                    parts.append(
                        self._needs("keep" if keep else "reach", tier_id, needs)
                    )
        return Markup().join(parts)

    def _threshold_needs(self, profile, fig, rule, keep):
        """What each missed condition of a threshold ``rule`` takes."""
        env = self.env
        fmt = self.fmt
        engine = self.engine
        _tier, min_rev, min_orders, _recency, min_margin, _p, _s = rule
        value = fig[engine.value_key]
        checks = engine._threshold_checks(
            rule,
            value,
            fig["order_count_window"],
            fig["recency_days"],
            fig["margin_window"],
        )
        revenue_met, orders_met, recency_met, margin_met = checks
        needs = []
        if revenue_met is False:
            amount = fmt.amount(self._round_up(min_rev - value))
            if engine.value_key != "revenue_window":
                needs.append(
                    env._("%(amount)s more predicted 12-month value", amount=amount)
                )
            elif engine.invoiced_basis():
                needs.append(
                    env._("%(amount)s more invoiced revenue in window", amount=amount)
                )
            else:
                needs.append(env._("%(amount)s more revenue in window", amount=amount))
        if orders_met is False:
            needs.append(
                env._(
                    "%(count)s more orders in window",
                    count=fmt.number(min_orders - fig["order_count_window"]),
                )
            )
        if recency_met is False:
            if (
                keep
                and profile.downgrade_since
                and self.program.sudo().grace_unit == "days"
            ):
                needs.append(
                    env._(
                        "an order before %(date)s",
                        date=format_date(env, self._grace_end(profile)),
                    )
                )
            else:
                needs.append(env._("a new order"))
        if margin_met is False:
            amount = fmt.amount(self._round_up(min_margin - fig["margin_window"]))
            if engine.invoiced_basis():
                needs.append(
                    env._("%(amount)s more invoiced margin in window", amount=amount)
                )
            else:
                needs.append(env._("%(amount)s more margin in window", amount=amount))
        return needs

    def _round_up(self, amount):
        """``amount`` rounded up to the currency's smallest unit."""
        digits = self.engine.currency.decimal_places
        return math.ceil(round(amount * 10**digits, 6)) / 10**digits

    # Pareto ----------------------------------------------------------
    def _pareto(self, profile, fig, held, upper, below):
        env = self.env
        engine = self.engine
        value = fig[engine.value_key]
        computed = fig["computed_tier_id"]
        parts = []
        for tier_id, is_upper, rule in self._explained_tiers(held, upper, parts):
            bound = rule[5]
            # met: the engine computed this tier or a better one
            met = bool(computed) and (
                computed == tier_id or engine._better(computed, tier_id)
            )
            parts.append(self._title(tier_id, is_upper))
            if not bound:
                # open tier: revenue in the window, beyond the better bounds
                parts.append(self._items([self._has_value(value)]))
                keep = not is_upper and below
                if (is_upper or keep) and value <= 0:
                    verb = "keep" if keep else "reach"
                    parts.append(self._needs(verb, tier_id, [env._("a new order")]))
                continue
            parts.append(self._items([self._share_condition(profile, bound, met)]))
            keep = not is_upper and below
            if (is_upper or keep) and not met:
                needs = [self._pareto_need(profile, value, bound)]
                parts.append(self._needs("keep" if keep else "reach", tier_id, needs))
        return Markup().join(parts)

    def _has_value(self, value):
        env = self.env
        params = {
            "value": self.fmt.amount(value),
            "op": ">" if value > 0 else "=",
            "bound": self.fmt.amount(0.0),
        }
        if self.engine.value_key != "revenue_window":
            text = env._(
                "predicted 12-month value %(value)s %(op)s %(bound)s", **params
            )
        elif self.engine.invoiced_basis():
            text = env._(
                "invoiced revenue in window %(value)s %(op)s %(bound)s", **params
            )
        else:
            text = env._("revenue in window %(value)s %(op)s %(bound)s", **params)
        return value > 0, text

    def _bound_text(self, bound):
        return self.fmt.number(bound, 0 if float(bound).is_integer() else 1)

    def _share_condition(self, profile, bound, met):
        env = self.env
        if not self.company_wide:
            return met, env._(
                "cumulative share within %(bound)s %% of the company's ranking",
                bound=self._bound_text(bound),
            )
        share = profile.sudo().cumulative_share * 100.0
        params = {
            "share": self.fmt.number(share, 1),
            "op": "≤" if met else ">",
            "bound": self._bound_text(bound),
        }
        if self.engine.value_key == "revenue_window":
            text = env._("cumulative share %(share)s %% %(op)s %(bound)s %%", **params)
        else:
            text = env._(
                "cumulative share of predicted 12-month value %(share)s %% "
                "%(op)s %(bound)s %%",
                **params,
            )
        return met, text

    def _pareto_need(self, profile, value, bound):
        env = self.env
        if not self.company_wide or self.ranking is None:
            return env._(
                "an amount that depends on every customer's revenue (shown to "
                "users who see every customer)"
            )
        found = pareto_increase(
            self.ranking, profile.partner_id.id, value, bound, self.unit
        )
        if found is None:
            return env._("more than any amount can bring at today's distribution")
        increase, share = found
        params = {
            "amount": self.fmt.amount(increase),
            "share": self.fmt.number(share * 100.0, 1),
        }
        if self.engine.value_key != "revenue_window":
            return env._(
                "%(amount)s more predicted 12-month value (cumulative share then "
                "%(share)s %%)",
                **params,
            )
        if self.engine.invoiced_basis():
            return env._(
                "%(amount)s more invoiced revenue in window (cumulative share "
                "then %(share)s %%)",
                **params,
            )
        return env._(
            "%(amount)s more revenue in window (cumulative share then %(share)s %%)",
            **params,
        )

    # RFM ---------------------------------------------------------------
    def _rfm(self, profile, fig, held, upper, below):
        env = self.env
        r_score = fig["rfm_recency_score"]
        f_score = fig["rfm_frequency_score"]
        m_score = fig["rfm_monetary_score"]
        fm_score = (f_score + m_score + 1) // 2
        segment_id = fig["rfm_segment_id"]
        segments = {s.id: s for s in self.engine.segments}
        scores = {"r": r_score, "f": f_score, "m": m_score, "fm": fm_score}
        if segment_id in segments:
            text = env._(
                "RFM scores R %(r)s, F %(f)s, M %(m)s (FM %(fm)s): segment "
                "%(segment)s.",
                segment=segments[segment_id].with_env(env).name,
                **scores,
            )
        else:
            text = env._(
                "RFM scores R %(r)s, F %(f)s, M %(m)s (FM %(fm)s): no segment.",
                **scores,
            )
        parts = [self._paragraph(text)]
        for tier_id, is_upper, rule in self._explained_tiers(held, upper, parts):
            parts.append(self._title(tier_id, is_upper))
            rules = [
                r for r in self.engine.segment_rules if r[4] in rule[6]
            ]  # (in sequence)
            if not rules:
                parts.append(
                    self._paragraph(
                        env._(
                            "No RFM segment leads to %(tier)s.",
                            tier=self._name(tier_id),
                        )
                    )
                )
                continue
            # each segment: met when the scores lie in both its ranges (the
            # customer's segment is the first one met, in sequence)
            parts.append(
                self._items(
                    [
                        (
                            r_min <= r_score <= r_max and fm_min <= fm_score <= fm_max,
                            self._segment_text(
                                segments[seg_id],
                                r_score,
                                fm_score,
                                seg_id == segment_id,
                            ),
                        )
                        for r_min, r_max, fm_min, fm_max, seg_id in rules
                    ]
                )
            )
            keep = not is_upper and below
            met = segment_id in rule[6]
            if (is_upper or keep) and not met:
                needs = self._rfm_needs(rules, segments, r_score, fm_score)
                parts.append(self._needs("keep" if keep else "reach", tier_id, needs))
        return Markup().join(parts)

    def _segment_text(self, segment, r_score, fm_score, own):
        text = self.env._(
            "segment %(segment)s: R %(r_min)s-%(r_max)s (R %(r)s), FM "
            "%(fm_min)s-%(fm_max)s (FM %(fm)s)",
            segment=segment.with_env(self.env).name,
            r_min=segment.r_min,
            r_max=segment.r_max,
            r=r_score,
            fm_min=segment.fm_min,
            fm_max=segment.fm_max,
            fm=fm_score,
        )
        if own:
            text = self.env._("%(condition)s: the customer's segment", condition=text)
        return text

    def _rfm_needs(self, rules, segments, r_score, fm_score):
        """The score changes into the nearest segment of a tier (fewest
        score points to move; the first in sequence on a tie)."""

        def distance(rule):
            r_min, r_max, fm_min, fm_max, _id = rule
            return max(r_min - r_score, 0, r_score - r_max) + max(
                fm_min - fm_score, 0, fm_score - fm_max
            )

        r_min, r_max, fm_min, fm_max, seg_id = min(rules, key=distance)
        env = self.env
        changes = []
        if not r_min <= r_score <= r_max:
            changes.append(
                env._(
                    "an R score of %(low)s to %(high)s (recency)",
                    low=r_min,
                    high=r_max,
                )
            )
        if not fm_min <= fm_score <= fm_max:
            changes.append(
                env._(
                    "an FM score of %(low)s to %(high)s (frequency and monetary)",
                    low=fm_min,
                    high=fm_max,
                )
            )
        if not changes:
            # within the ranges, but an earlier segment takes these scores
            changes.append(
                env._(
                    "scores that no earlier segment takes before %(segment)s",
                    segment=segments[seg_id].with_env(env).name,
                )
            )
            return changes
        return [
            env._(
                "%(changes)s, in segment %(segment)s",
                changes=self.engine._join_conditions(changes, env),
                segment=segments[seg_id].with_env(env).name,
            )
        ]

    # Prospects ---------------------------------------------------------
    def _prospect(self, profile):
        env = self.env
        grades = self.engine.grades
        score = profile.prospect_score
        if not grades:
            return self._paragraph(
                env._(
                    "Score %(score)s / 100: no prospect grade.",
                    score=format(score, ".1f"),
                )
            )
        reached = next((g for g in grades if score >= g.min_score - EPSILON), None)
        if reached:
            text = env._(
                "Score %(score)s / 100: grade %(grade)s (from %(bound)s).",
                score=format(score, ".1f"),
                grade=self._name(reached.id),
                bound=format(reached.min_score, ".1f"),
            )
        else:
            text = env._(
                "Score %(score)s / 100: below the lowest grade minimum "
                "(%(bound)s), not graded.",
                score=format(score, ".1f"),
                bound=format(grades[-1].min_score, ".1f"),
            )
        parts = [self._paragraph(text)]
        parts.append(
            self._items(
                [
                    (
                        score >= grade.min_score - EPSILON,
                        env._(
                            "%(grade)s: score from %(bound)s",
                            grade=self._name(grade.id),
                            bound=format(grade.min_score, ".1f"),
                        ),
                    )
                    for grade in grades
                ]
            )
        )
        position = list(grades).index(reached) if reached else len(grades)
        if position:
            upper = grades[position - 1]
            points = env._(
                "%(points)s more points of prospect score",
                points=format(upper.min_score - score, ".1f"),
            )
            parts.append(self._needs("reach", upper.id, [points]))
        return Markup().join(parts)


def pareto_increase(ranking, partner_id, value, bound, unit):
    """The least increase of a customer's ranking figure ``value`` that brings
    its cumulative share within ``bound`` (%) at the distribution
    ``ranking`` (``(figure, partner id)`` of the company's customers, best
    first), and the share it then has; None when no increase does.

    The engine's rule (``TierEngine._score_full``, ``_pareto_tier``): ranked
    by figure descending, ties by partner id; the cumulative share is the
    figure of every customer at or above the customer over the total, within
    the bound up to ``EPSILON``; a customer without a positive figure takes
    no bounded tier. Placed below the first ``k`` others, the share grows with
    the customer's figure, so the least figure at each place is the one that
    just outranks the ``k``-th other (``unit`` above it); the places are
    tried from the customer's own upwards.
    """
    others = [(v, pid) for v, pid in ranking if pid != partner_id]
    total = sum(v for v, _pid in others)
    prefix = [0.0]
    for v, _pid in others:
        prefix.append(prefix[-1] + v)
    # others ranked above the customer at its own figure
    keys = [(-v, pid) for v, pid in others]
    start = bisect_left(keys, (-value, partner_id))
    limit = bound / 100.0 + EPSILON / 100.0
    for k in range(start, -1, -1):
        figure = value if k == start else others[k][0] + unit
        figure = max(figure, unit)
        share = (prefix[k] + figure) / (total + figure)
        if share <= limit:
            return round(figure - value, 10), share
    return None
