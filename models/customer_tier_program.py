import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .customer_tier import ORDER_CHECK_DEFERRED
from .customer_tier_bounds import (
    MAX_BATCH_SIZE,
    MAX_DAYS,
    MAX_FACTOR,
    MAX_MONTHS,
    MAX_ORDERS_PER_YEAR,
    check_bounds,
)
from .customer_tier_engine import TierEngine

_logger = logging.getLogger(__name__)
# A batch interrupted by a concurrent change runs again after this delay.
RETRY_DELAY = timedelta(minutes=1)
# Range of every core number a manager types on the program (inclusive; each
# feature bounds its own numbers). The lower bounds left at None are refused
# by the older checks of each field (_check_numbers, _check_factors).
PROGRAM_BOUNDS = {
    "window_months": (None, MAX_MONTHS),
    "grace_length": (None, MAX_DAYS),
    "frequent_orders_per_year": (None, MAX_ORDERS_PER_YEAR),
    "reorder_overdue_factor": (None, MAX_FACTOR),
    "batch_size": (None, MAX_BATCH_SIZE),
}


class CustomerTierProgram(models.Model):
    _name = "customer.tier.program"
    _description = "Customer Tier Program"
    _inherit = ["mail.thread", "customer.tier.export.guard"]
    _check_company_auto = True
    _order = "company_id, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    method = fields.Selection(
        [
            ("threshold", "Thresholds"),
            ("pareto", "Pareto (80/20 share)"),
            ("rfm", "RFM segments"),
        ],
        string="Assignment Method",
        required=True,
        default="threshold",
        tracking=True,
        help="Thresholds: a customer gets the best tier whose conditions it meets.\n"
        "Pareto: customers are ranked by revenue in the window; a tier holds the "
        "customers whose cumulative revenue share is within its bound.\n"
        "RFM: recency, frequency and monetary scores (1-5) give a segment; each "
        "tier lists the segments it takes.",
    )
    window_months = fields.Integer(
        string="Evaluation Window (months)",
        required=True,
        aggregator=None,
        default=12,
        tracking=True,
        help="Window figures (revenue, margin, orders) count the confirmed orders "
        "of the last N months up to the evaluation date.",
    )
    auto_apply = fields.Boolean(
        string="Apply Computed Tiers Automatically",
        default=True,
        tracking=True,
        help="When set, the daily recompute moves customers to their computed "
        "tier. When not set, figures and computed tiers are refreshed but the "
        "effective tier only changes when a manager applies a recompute.",
    )
    grace_unit = fields.Selection(
        [("evaluations", "Evaluations"), ("days", "Days")],
        string="Downgrade Grace Unit",
        required=True,
        default="evaluations",
    )
    grace_length = fields.Integer(
        string="Downgrade Grace",
        default=2,
        tracking=True,
        help="A downgrade applies only once the customer has qualified for the "
        "lower tier for this many consecutive full evaluations (or days). "
        "0 downgrades at once. Upgrades always apply at once.",
    )
    frequent_orders_per_year = fields.Float(
        string="Frequent Buyer From (orders/year)",
        default=4.0,
        help="A customer with at least this many orders per year in the window "
        "is a frequent buyer; a customer with exactly one order ever is a "
        "one-time buyer; the others are occasional buyers.",
    )
    reorder_overdue_factor = fields.Float(
        default=1.5,
        help="A reorder is overdue when the days since the last order exceed "
        "the customer's reorder cycle times this factor.",
    )
    batch_size = fields.Integer(
        string="Recompute Batch Size",
        default=5000,
        help="Number of customers the scheduled recompute writes per batch.",
    )
    tier_ids = fields.One2many(
        "customer.tier",
        "program_id",
        string="Customer Tiers",
        domain=[("kind", "=", "customer")],
    )
    grade_ids = fields.One2many(
        "customer.tier",
        "program_id",
        string="Prospect Grades",
        domain=[("kind", "=", "prospect")],
    )
    segment_ids = fields.One2many(
        "customer.tier.rfm.segment", "program_id", string="RFM Segments"
    )
    last_run_date = fields.Date(
        string="Last Full Evaluation",
        readonly=True,
        copy=False,
        help="Evaluation date of the last completed full recompute.",
    )
    last_run_at = fields.Datetime(
        string="Last Full Evaluation Run",
        readonly=True,
        copy=False,
        help="When the last full recompute computed every customer's product "
        "preference: the next one computes it again only for the customers "
        "whose orders changed, unless the program, a product or a category "
        "changed since.",
    )
    profile_count = fields.Integer(compute="_compute_profile_count")

    @api.depends("company_id")
    def _compute_profile_count(self):
        counts = dict(
            self.env["customer.tier.profile"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count"]
            )
        )
        for program in self:
            program.profile_count = counts.get(program, 0)

    @api.constrains("window_months", "grace_length", "batch_size")
    def _check_numbers(self):
        for program in self:
            if program.window_months < 1:
                raise ValidationError(
                    self.env._("The evaluation window must be at least one month.")
                )
            if program.grace_length < 0:
                raise ValidationError(
                    self.env._("The downgrade grace cannot be negative.")
                )
            if program.batch_size < 1:
                raise ValidationError(
                    self.env._("The recompute batch size must be at least 1.")
                )

    @api.constrains("frequent_orders_per_year", "reorder_overdue_factor")
    def _check_factors(self):
        for program in self:
            if program.frequent_orders_per_year <= 0:
                raise ValidationError(
                    self.env._("The frequent-buyer bound must be positive.")
                )
            if program.reorder_overdue_factor < 1:
                raise ValidationError(
                    self.env._("The reorder overdue factor must be at least 1.")
                )

    @api.constrains("method", "tier_ids")
    def _check_tier_order(self):
        self.tier_ids._check_threshold_order()

    @api.constrains(*PROGRAM_BOUNDS)
    def _check_value_bounds(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, PROGRAM_BOUNDS, label=lambda program: program.name)

    @api.constrains("active", "company_id")
    def _check_one_active_per_company(self):
        for program in self.filtered("active"):
            others = self.search_count(
                [
                    ("company_id", "=", program.company_id.id),
                    ("active", "=", True),
                    ("id", "!=", program.id),
                ]
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "The company %(company)s already has an active tier program.",
                        company=program.company_id.name,
                    )
                )

    @api.constrains("tier_ids")
    def _check_tiers(self):
        for program in self.filtered("active"):
            tiers = program.tier_ids.filtered("active")
            if not tiers:
                raise ValidationError(
                    self.env._(
                        "The tier program %(program)s needs at least one customer "
                        "tier: its last tier is the fallback for every customer.",
                        program=program.name,
                    )
                )
            program.tier_ids._check_pareto_bounds()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        """A program whose customers were evaluated keeps its profiles, their
        history of tier moves and the tiers partners point to: it is archived,
        not deleted (deleting would cascade them away in the database)."""
        used = self.browse(
            program.id
            for [program] in self.env["customer.tier.profile"]
            .sudo()
            ._read_group([("program_id", "in", self.ids)], ["program_id"])
        )
        if used:
            raise UserError(
                self.env._(
                    "The tier program %(program)s has evaluated customers: "
                    "deleting it would remove their profiles and their history "
                    "of tier moves. Archive it instead.",
                    program=", ".join(used.mapped("display_name")),
                )
            )
        tiers = self.env["customer.tier"].with_context(active_test=False)
        tiers.search([("program_id", "in", self.ids)])._check_not_referenced()

    def write(self, vals):
        programs = self
        if "tier_ids" in vals or "grade_ids" in vals:
            # The tier lines are written one by one: their order is checked
            # once all are written (constraints on tier_ids and grade_ids).
            programs = self.with_context(**{ORDER_CHECK_DEFERRED: True})
        return super(CustomerTierProgram, programs).write(vals)

    def _customer_tiers(self):
        """Active customer tiers, best first (the last one is the fallback)."""
        self.ensure_one()
        return self.tier_ids.filtered("active").sorted(lambda t: (t.sequence, t.id))

    def _prospect_grades(self):
        self.ensure_one()
        return self.grade_ids.filtered("active").sorted(lambda t: (t.sequence, t.id))

    @api.model
    def _get_for_company(self, company):
        return self.search([("company_id", "=", company.id)], limit=1)

    # ------------------------------------------------------------------
    # Default program for new companies
    # ------------------------------------------------------------------
    @api.model
    def _create_default_program(self, company):
        """Create a program for ``company`` copied from the shipped template.

        The template is the program the module's data created for the main
        company; a company that already has a program is left alone. The
        template's pricelists, fee products and activity plans that belong to
        its company stay behind (the new company's tiers have none).
        """
        if self.with_context(active_test=False).search_count(
            [("company_id", "=", company.id)]
        ):
            return self.browse()
        template = self.env.ref(
            "customer_tier.customer_tier_program_default", raise_if_not_found=False
        )
        if not template:
            return self.browse()
        template = template.sudo()

        def shared(records):
            # what the template's company owns (its pricelists, products,
            # plans) is not the new company's: only the records of no company
            # are copied along
            return records.filtered(lambda r: not r.company_id)

        program = template.copy(
            {
                "company_id": company.id,
                "last_run_date": False,
                "last_run_at": False,
                "sample_fee_product_ids": [
                    (6, 0, shared(template.sample_fee_product_ids).ids)
                ],
            }
        )
        segment_map = {}
        for segment in template.segment_ids:
            segment_map[segment] = segment.copy({"program_id": program.id})
        for tier in template.tier_ids | template.grade_ids:
            tier.copy(
                {
                    "program_id": program.id,
                    "rfm_segment_ids": [
                        (6, 0, [segment_map[s].id for s in tier.rfm_segment_ids])
                    ],
                    "pricelist_id": shared(tier.pricelist_id).id,
                    "fee_product_id": shared(tier.fee_product_id).id,
                    "followup_plan_id": shared(tier.followup_plan_id).id,
                }
            )
        return program

    @api.model
    def _create_missing_programs(self):
        """Give each company without a tier program (an archived one counts)
        the default program."""
        programs = self.sudo().with_context(active_test=False)
        with_program = [c.id for [c] in programs._read_group([], ["company_id"])]
        Company = self.env["res.company"].sudo()
        for company in Company.search([("id", "not in", with_program)]):
            self._create_default_program(company)

    # ------------------------------------------------------------------
    # Demo data
    # ------------------------------------------------------------------
    @api.model
    def _demo_populate(self):
        """Create the demo customers, orders and tiers (once); called by
        ``demo/customer_tier_demo.xml``. The generator lives next to it and
        is imported only here, not with the models."""
        from ..demo import customer_tier_demo

        return customer_tier_demo.populate(self)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_recompute(self):
        self.ensure_one()
        self.check_access("write")  # the recompute is a manager's
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recompute Tiers"),
            "res_model": "customer.tier.recompute",
            "view_mode": "form",
            "target": "new",
            "context": {"default_program_id": self.id},
        }

    def action_view_profiles(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_tier.customer_tier_profile_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        return action

    @api.model
    def _cron_recompute(self):
        """Scheduled full recompute, one bounded batch per call.

        Each call goes through the active programs in turn, writing at most
        ``batch_size`` not yet evaluated profiles of each, and stops after
        the first one that still has some left (the others are only
        counted); it reports progress so the cron runner commits and calls
        again at once until all programs are done. A batch that meets a row
        changed by a concurrent transaction is dropped and the cron is
        triggered again a minute later.

        Recomputes a manager applied in the background
        (``customer.tier.recompute.request``) come first, one batch per call.
        """
        Request = self.env["customer.tier.recompute.request"]
        processed = Request._cron_process()
        if processed is not None:
            # Then, in the next call, today's daily work if not done yet (a
            # program evaluated today is not evaluated again on that date).
            today = fields.Date.context_today(self)
            remaining = Request._open_count() or sum(
                program._engine()._count_pending(today)
                for program in self.search([("active", "=", True)])
                if program.last_run_date != today
            )
            self.env["ir.cron"]._notify_progress(done=processed[0], remaining=remaining)
            return
        today = fields.Date.context_today(self)
        done_total = remaining_total = 0
        # an archived program is no longer evaluated
        for program in self.search([("active", "=", True)]):
            if program.last_run_date == today:
                # evaluated today already (an unbatched run leaves unchanged
                # profiles as they were: nothing is left to write)
                continue
            if remaining_total:
                # Count only; a later call processes it.
                remaining_total += program._engine()._count_pending(today)
                continue
            try:
                with self.env.cr.savepoint():
                    result = program._engine().run(
                        eval_date=today, batch_size=program.batch_size
                    )
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
                # A profile of the batch was written meanwhile by another
                # transaction (an order confirmed and its customer refreshed):
                # this snapshot is stale, so the batch is dropped whole and
                # runs again shortly in a new transaction, which sees the
                # other one's work.
                _logger.info(
                    "Tier program %s: batch interrupted by a concurrent update "
                    "(%s), run again in %s.",
                    program.id,
                    exc.pgcode,
                    RETRY_DELAY,
                )
                self.env.invalidate_all()
                cron = self.env.ref(
                    "customer_tier.ir_cron_customer_tier_recompute",
                    raise_if_not_found=False,
                )
                if cron:
                    cron.sudo()._trigger(at=fields.Datetime.now() + RETRY_DELAY)
                remaining_total += program._engine()._count_pending(today)
                continue
            done_total += result["written"]
            remaining_total += result["remaining"]
        self.env["ir.cron"]._notify_progress(done=done_total, remaining=remaining_total)

    def _end_expired_overrides(self, eval_date):
        """End the overrides of this program whose end date has passed."""
        self.ensure_one()
        expired = (
            self.env["customer.tier.profile"]
            .sudo()
            .search(
                [
                    ("program_id", "=", self.id),
                    ("manual_tier_id", "!=", False),
                    ("manual_end_date", "<", eval_date),
                ]
            )
        )
        if expired:
            expired.write(
                {
                    "manual_tier_id": False,
                    "manual_reason": False,
                    "manual_end_date": False,
                }
            )
        return expired

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    def _engine_features(self):
        """The engine features of the program (``EngineFeature`` subclasses,
        see :mod:`.customer_tier_engine`): each feature's file adds its own,
        ``return [*super()._engine_features(), MyFeature]``."""
        return []

    def _engine(self):
        self.ensure_one()
        return TierEngine(self)
