from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .customer_tier_bounds import (
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_DAYS,
    check_bounds,
    format_bound,
)

# Range of every core number a manager types on a tier (inclusive; each
# feature bounds its own numbers). The lower bounds left at None are refused
# by the older checks (_check_conditions, the SQL constraints); the
# cumulative share is bounded by its own on both sides.
TIER_BOUNDS = {
    "min_revenue": (None, MAX_AMOUNT),
    "min_orders": (None, MAX_COUNT),
    "max_recency_days": (None, MAX_DAYS),
    "min_margin": (None, MAX_AMOUNT),
}
# Threshold conditions: minimums, and the maximum days since the last order
# (0 = no condition, i.e. no minimum / no maximum).
THRESHOLD_MINIMUMS = ("min_revenue", "min_orders", "min_margin")
THRESHOLD_MAXIMUMS = ("max_recency_days",)
# Context key: tiers are being written through their program (the program
# form saves its tier lines one by one), whose constraint checks their order
# once all are written.
ORDER_CHECK_DEFERRED = "customer_tier_order_check_deferred"


class CustomerTier(models.Model):
    _name = "customer.tier"
    _description = "Customer Tier"
    _inherit = ["customer.tier.export.guard"]
    _check_company_auto = True
    _order = "program_id, kind, sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code shown on badges, e.g. A.")
    active = fields.Boolean(default=True)
    program_id = fields.Many2one(
        "customer.tier.program",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    kind = fields.Selection(
        [("customer", "Customer Tier"), ("prospect", "Prospect Grade")],
        required=True,
        default="customer",
        help="Customer tiers classify partners with confirmed orders; prospect "
        "grades classify partners that have not ordered yet.",
    )
    sequence = fields.Integer(
        default=10, help="Lower is better: the first tier is the best one."
    )
    color = fields.Integer(string="Color Index", aggregator=None)
    description = fields.Text(
        string="Service Strategy",
        translate=True,
        help="How the sales team serves customers of this tier.",
    )
    is_fallback = fields.Boolean(
        compute="_compute_is_fallback",
        help="The last active customer tier takes every customer that meets "
        "no other tier's conditions.",
    )
    # Threshold conditions (0 = no condition)
    # (thresholds, fees and multipliers do not add up: grouped lists show
    # no sum of them)
    min_revenue = fields.Monetary(
        string="Minimum Revenue",
        aggregator=None,
        currency_field="currency_id",
        help="Minimum untaxed revenue in the evaluation window, in company "
        "currency. 0 means no condition.",
    )
    min_orders = fields.Integer(
        string="Minimum Orders",
        aggregator=None,
        help="Minimum number of confirmed orders in the window. 0 means no condition.",
    )
    max_recency_days = fields.Integer(
        string="Maximum Days Since Last Order",
        aggregator=None,
        help="The last order must be at most this many days old. 0 means no condition.",
    )
    min_margin = fields.Monetary(
        string="Minimum Margin",
        aggregator=None,
        currency_field="currency_id",
        help="Minimum margin in the evaluation window, in company currency. "
        "0 means no condition.",
    )
    # Pareto
    pareto_max_share = fields.Float(
        string="Cumulative Share Up To (%)",
        aggregator=None,
        help="Pareto method: a customer whose cumulative revenue share (its own "
        "and that of every better-ranked customer) is at most this bound gets "
        "this tier. 0 means: customers with revenue in the window that no "
        "better tier took. The fallback tier takes customers without revenue "
        "in the window.",
    )
    # RFM
    rfm_segment_ids = fields.Many2many(
        "customer.tier.rfm.segment",
        string="RFM Segments",
        check_company=True,
        domain="[('program_id', '=', program_id)]",
        help="RFM method: customers in these segments get this tier.",
    )
    profile_count = fields.Integer(compute="_compute_profile_count")

    _sql_constraints = [
        (
            "code_program_kind_uniq",
            "unique(program_id, kind, code)",
            "A code can be used only once per program and kind.",
        ),
        (
            "conditions_positive",
            "CHECK(min_revenue >= 0 AND min_orders >= 0 AND max_recency_days >= 0 "
            "AND min_margin >= 0)",
            "Tier conditions cannot be negative.",
        ),
        (
            "pareto_share_range",
            "CHECK(pareto_max_share >= 0 AND pareto_max_share <= 100)",
            "A cumulative share bound lies between 0 and 100 %.",
        ),
    ]

    @api.depends("program_id.tier_ids.sequence", "program_id.tier_ids.active", "kind")
    def _compute_is_fallback(self):
        for tier in self:
            tier.is_fallback = (
                tier.kind == "customer"
                and tier.active
                and tier.program_id
                and tier.program_id._customer_tiers()[-1:] == tier
            )

    def _compute_profile_count(self):
        counts = dict(
            self.env["customer.tier.profile"]._read_group(
                [("tier_id", "in", self.ids)], ["tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.profile_count = counts.get(tier, 0)

    @api.depends("code", "name")
    def _compute_display_name(self):
        for tier in self:
            tier.display_name = (
                f"{tier.code} - {tier.name}" if tier.code else tier.name or ""
            )

    def _check_pareto_bounds(self):
        """Bounds must increase strictly along the tier order (0 = open)."""
        for program in self.program_id:
            previous = 0.0
            for tier in program._customer_tiers():
                bound = tier.pareto_max_share
                if not bound:
                    continue
                if bound <= previous:
                    raise ValidationError(
                        self.env._(
                            "Cumulative share bounds must increase from the best "
                            "tier to the worst: %(tier)s has %(bound)s %% after "
                            "%(previous)s %%.",
                            tier=tier.display_name,
                            bound=bound,
                            previous=previous,
                        )
                    )
                previous = bound

    @api.constrains("pareto_max_share", "sequence", "active")
    def _check_pareto_order(self):
        for tier in self:
            if not 0 <= tier.pareto_max_share <= 100:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: a cumulative share bound lies between 0 and "
                        "100 %%.",
                        tier=tier.display_name,
                    )
                )
        self.filtered(lambda t: t.kind == "customer")._check_pareto_bounds()

    @api.constrains(*TIER_BOUNDS)
    def _check_value_bounds(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, TIER_BOUNDS)

    def _check_threshold_order(self):
        """Threshold method: along the order of the active customer tiers, no
        tier asks more than a better one (more revenue, orders or margin, or
        a more recent last order; 0 = no condition). The fallback is left
        out: its conditions never apply."""
        for program in self.program_id.filtered(lambda p: p.method == "threshold"):
            ranked = program._customer_tiers()[:-1]
            for better, worse in pairwise(ranked):
                for name in THRESHOLD_MINIMUMS + THRESHOLD_MAXIMUMS:
                    asked, better_asked = worse[name], better[name]
                    if name in THRESHOLD_MAXIMUMS:
                        asks_more = asked and (not better_asked or asked < better_asked)
                    else:
                        asks_more = asked > better_asked
                    if asks_more:
                        raise ValidationError(
                            self.env._(
                                "Tier %(tier)s asks more than the better tier "
                                "%(better)s (%(field)s: %(value)s against "
                                "%(better_value)s). A tier cannot ask more than "
                                "the tiers before it: change the conditions or "
                                "the order of the tiers.",
                                tier=worse.display_name,
                                better=better.display_name,
                                field=self._fields[name]._description_string(self.env),
                                value=format_bound(self.env, asked),
                                better_value=format_bound(self.env, better_asked)
                                if better_asked
                                else self.env._("no condition"),
                            )
                        )

    @api.constrains(
        *THRESHOLD_MINIMUMS,
        *THRESHOLD_MAXIMUMS,
        "sequence",
        "active",
        "kind",
        "program_id",
    )
    def _check_threshold_conditions(self):
        if not self.env.context.get(ORDER_CHECK_DEFERRED):
            self.filtered(lambda t: t.kind == "customer")._check_threshold_order()

    @api.constrains("min_revenue", "min_orders", "max_recency_days", "min_margin")
    def _check_conditions(self):
        for tier in self:
            if (
                min(
                    tier.min_revenue,
                    tier.min_orders,
                    tier.max_recency_days,
                    tier.min_margin,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: conditions cannot be negative.",
                        tier=tier.display_name,
                    )
                )

    def _check_not_held(self):
        held = (
            self.env["customer.tier.profile"]
            .sudo()
            .search_count(
                [
                    "|",
                    "|",
                    ("tier_id", "in", self.ids),
                    ("manual_tier_id", "in", self.ids),
                    ("assigned_tier_id", "in", self.ids),
                ]
            )
        )
        if held:
            raise UserError(
                self.env._(
                    "%(count)s customers hold the tier(s) %(tiers)s. Move them to "
                    "another tier (recompute or override) before removing or "
                    "archiving it.",
                    count=held,
                    tiers=", ".join(self.mapped("display_name")),
                )
            )

    def _check_not_referenced(self):
        """Deleting a tier would blank it in the history of tier moves, in
        pending downgrades and on the partners that still point to it: a
        tier that was ever used is archived, not deleted."""
        if not self:
            return
        self.env.flush_all()
        [[history, profiles, partners]] = self.env.execute_query(
            SQL(
                """
                SELECT (SELECT COUNT(*) FROM customer_tier_history
                         WHERE from_tier_id = ANY(%(ids)s)
                            OR to_tier_id = ANY(%(ids)s)),
                       (SELECT COUNT(*) FROM customer_tier_profile
                         WHERE computed_tier_id = ANY(%(ids)s)
                            OR downgrade_tier_id = ANY(%(ids)s)),
                       (SELECT COUNT(*) FROM res_partner p
                         WHERE p.commercial_tier_id IS NOT NULL
                           AND EXISTS (
                               SELECT 1 FROM jsonb_each_text(p.commercial_tier_id) t
                                WHERE t.value::int = ANY(%(ids)s)))
                """,
                ids=self.ids,
            )
        )
        if history or profiles or partners:
            raise UserError(
                self.env._(
                    "The tier(s) %(tiers)s are still used (%(history)s tier "
                    "changes in the history, %(profiles)s computed or pending "
                    "tiers, %(partners)s customers): deleting them would blank "
                    "those records. Archive them instead.",
                    tiers=", ".join(self.mapped("display_name")),
                    history=history,
                    profiles=profiles,
                    partners=partners,
                )
            )

    def _check_program_keeps_fallback(self):
        """An active program must keep at least one active customer tier."""
        for program in self.program_id.filtered("active"):
            if not (program._customer_tiers() - self):
                raise ValidationError(
                    self.env._(
                        "The tier program %(program)s needs at least one customer "
                        "tier: its last tier is the fallback for every customer.",
                        program=program.name,
                    )
                )

    @api.model
    def _copy_template_tier_values(self, assignments, condition):
        """Copy values of the shipped template program's tiers onto the tiers
        of the same kind and code of the other programs, in one statement: for
        programs copied before a feature's data loaded (the companies that
        existed at install). ``assignments``: the SET clause; ``condition``:
        which tiers take them; in both, ``t`` is the tier written and ``s``
        the template's."""
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
                   SET %(assignments)s
                  FROM customer_tier s
                 WHERE s.program_id = %(template)s
                   AND t.program_id <> %(template)s
                   AND t.kind = s.kind AND t.code = s.code
                   AND %(condition)s
                """,
                assignments=assignments,
                template=template.id,
                condition=condition,
            )
        )
        self.invalidate_model()

    def write(self, vals):
        if "active" in vals and not vals["active"]:
            self.filtered("active")._check_not_held()
            self.filtered(
                lambda t: t.active and t.kind == "customer"
            )._check_program_keeps_fallback()
        if "kind" in vals or "program_id" in vals:
            changed = self.filtered(
                lambda t: (
                    t.kind != vals.get("kind", t.kind)
                    or t.program_id.id != vals.get("program_id", t.program_id.id)
                )
            )
            changed._check_not_held()
            changed.filtered(
                lambda t: t.active and t.kind == "customer"
            )._check_program_keeps_fallback()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_held(self):
        self._check_not_held()
        self._check_not_referenced()
        self.filtered(
            lambda t: t.active and t.kind == "customer"
        )._check_program_keeps_fallback()
