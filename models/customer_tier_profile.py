from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, Query

from .customer_tier_bounds import OVERRIDE_AHEAD, check_bounds
from .customer_tier_engine import TierEngine
from .customer_tier_ranking import SHOWN, shown_sql

# Who may read figures computed over all the company's customers (shares and
# ranks): the users whose record rules show them every customer.
COMPANY_WIDE_GROUPS = (
    "sales_team.group_sale_salesman_all_leads,customer_tier.group_customer_tier_manager"
)
# Percentage of each page of the profile table that inserts fill (init).
PROFILE_FILLFACTOR = 80
FREQUENCY_CLASSES = [
    ("frequent", "Frequent"),
    ("occasional", "Occasional"),
    ("one_time", "One-time"),
]


class CustomerTierProfile(models.Model):
    """Value figures and tier of one commercial partner in one company.

    The figures are written in bulk by the tier engine
    (:class:`~.customer_tier_engine.TierEngine`); nothing here recomputes them
    from sale orders through the ORM.
    """

    _name = "customer.tier.profile"
    _description = "Customer Tier Profile"
    _inherit = ["mail.thread", "customer.tier.export.guard"]
    _check_company_auto = True
    _order = "company_id, tier_sequence, revenue_window desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        ondelete="cascade",
        # no index of its own: the unique (partner_id, company_id) index
        # serves every lookup by customer
        readonly=True,
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    program_id = fields.Many2one(
        "customer.tier.program",
        required=True,
        ondelete="cascade",
        readonly=True,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        related="partner_id.user_id",
        string="Salesperson",
        store=True,
        index=True,
    )
    country_id = fields.Many2one(related="partner_id.country_id", store=True)
    industry_id = fields.Many2one(related="partner_id.industry_id", store=True)
    is_prospect = fields.Boolean(
        readonly=True,
        help="No confirmed order yet: graded by potential, not tiered by value.",
    )
    # The evaluation date is not stored per profile: a full evaluation writes
    # only the profiles whose values changed, and stores its date once, on
    # the program (last_run_date). A profile is as of that date, or of its
    # own later refresh or batch.
    evaluation_date = fields.Date(
        compute="_compute_evaluation_date",
        search="_search_evaluation_date",
        help="Date the figures were last computed for.",
    )
    refresh_date = fields.Date(
        readonly=True,
        help="Date of the last refresh of this customer alone (an order "
        "confirmed or cancelled) since its last full evaluation.",
    )
    full_evaluation_date = fields.Date(
        readonly=True,
        help="Date of the last full (company-wide) evaluation that wrote this profile.",
    )
    orders_write_date = fields.Datetime(
        string="Orders Changed On",
        readonly=True,
        help="Latest change of the customer's counted orders the last full "
        "evaluation saw: the next one computes the product preference again "
        "only when it differs.",
    )
    # Figures (company currency)
    revenue_window = fields.Monetary(
        string="Revenue (window)",
        readonly=True,
        help="Untaxed amount of the confirmed orders in the evaluation window, "
        "in company currency; on the program's invoiced revenue basis, of the "
        "posted customer invoices less the posted credit notes.",
    )
    margin_window = fields.Monetary(string="Margin (window)", readonly=True)
    order_count_window = fields.Integer(string="Orders (window)", readonly=True)
    revenue_total = fields.Monetary(string="Revenue (lifetime)", readonly=True)
    margin_total = fields.Monetary(string="Margin (lifetime)", readonly=True)
    order_count = fields.Integer(string="Orders (lifetime)", readonly=True)
    first_order_date = fields.Date(readonly=True)
    last_order_date = fields.Date(readonly=True)
    recency_days = fields.Integer(
        string="Days Since Last Order",
        compute="_compute_recency_days",
        search="_search_recency_days",
        aggregator="avg",
        help="Days from the last confirmed order to the evaluation date.",
    )
    average_order_value = fields.Monetary(
        readonly=True,
        aggregator="avg",
        help="Revenue in the window divided by the orders in the window.",
    )
    orders_per_year = fields.Float(
        readonly=True,
        digits=(16, 2),
        aggregator="avg",
        help="Orders in the window divided by the window length in years.",
    )
    reorder_cycle_days = fields.Float(
        string="Reorder Cycle (days)",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="Mean number of days between consecutive confirmed orders "
        "(lifetime); empty with fewer than two orders.",
    )
    expected_order_date = fields.Date(
        string="Expected Next Order",
        readonly=True,
        help="Last order date plus the reorder cycle.",
    )
    reorder_overdue = fields.Boolean(
        readonly=True,
        help="The days since the last order exceed the reorder cycle times the "
        "program's overdue factor.",
    )
    # Company-wide figures: they reveal the revenue of other customers, so
    # only users who see every customer read them (a salesperson limited to
    # own documents gets the 80/20 of own customers from the Pareto report).
    # Not stored: they move for most customers whenever one customer's
    # revenue moves (the company total moves), so they are read from the
    # company's ranking snapshot (customer_tier_ranking.py), which the full
    # evaluation writes where they changed; sorted, grouped and filtered by
    # their SQL definition (_field_to_sql).
    revenue_share = fields.Float(
        compute="_compute_shown_figures",
        search="_search_revenue_share",
        digits=(16, 4),
        aggregator="sum",
        groups=COMPANY_WIDE_GROUPS,
        help="Share of the company's window revenue brought by this customer.",
    )
    cumulative_share = fields.Float(
        compute="_compute_shown_figures",
        search="_search_cumulative_share",
        digits=(16, 4),
        aggregator=None,
        groups=COMPANY_WIDE_GROUPS,
        help="Share of the window revenue brought by this customer and every "
        "customer ranked above it (Pareto).",
    )
    pareto_rank = fields.Integer(
        compute="_compute_shown_figures",
        search="_search_pareto_rank",
        aggregator=None,
        groups=COMPANY_WIDE_GROUPS,
    )
    frequency_class = fields.Selection(FREQUENCY_CLASSES, readonly=True, index=True)
    rfm_recency_score = fields.Integer(
        string="R Score", readonly=True, aggregator="avg"
    )
    rfm_frequency_score = fields.Integer(
        string="F Score", readonly=True, aggregator="avg"
    )
    rfm_monetary_score = fields.Integer(
        string="M Score", readonly=True, aggregator="avg"
    )
    rfm_segment_id = fields.Many2one(
        "customer.tier.rfm.segment", string="RFM Segment", readonly=True, index=True
    )
    # Tiers: computed (what the method says), assigned (after grace), manual,
    # and the effective one derived from the last two.
    computed_tier_id = fields.Many2one(
        "customer.tier",
        readonly=True,
        help="Tier the program's method gives for the current figures.",
    )
    assigned_tier_id = fields.Many2one(
        "customer.tier",
        string="Applied Tier",
        readonly=True,
        help="Computed tier once the downgrade grace has run.",
    )
    manual_tier_id = fields.Many2one(
        "customer.tier",
        tracking=True,
        check_company=True,
        domain="[('program_id', '=', program_id), "
        "('kind', '=', 'prospect' if is_prospect else 'customer')]",
        help="Set by a manager: wins over the computed tier until the end date.",
    )
    manual_reason = fields.Char(string="Override Reason", tracking=True)
    manual_end_date = fields.Date(string="Override Until", tracking=True)
    tier_id = fields.Many2one(
        "customer.tier",
        compute="_compute_tier_id",
        store=True,
        # no index of its own: the (tier_id, company_id, partner_id) index
        # (init) serves every lookup by tier
        tracking=True,
    )
    tier_sequence = fields.Integer(related="tier_id.sequence", store=True)
    tier_color = fields.Integer(related="tier_id.color")
    tier_since = fields.Date(readonly=True, help="Date since the tier holds.")
    manual_differs = fields.Boolean(
        compute="_compute_manual_differs",
        store=True,
        help="A manual tier is set and differs from the computed one.",
    )
    # Downgrade grace
    downgrade_tier_id = fields.Many2one(
        "customer.tier",
        string="Pending Downgrade To",
        readonly=True,
    )
    downgrade_count = fields.Integer(string="Evaluations Below Tier", readonly=True)
    downgrade_since = fields.Date(string="Below Tier Since", readonly=True)
    at_risk = fields.Boolean(
        string="At Risk of Downgrade",
        compute="_compute_at_risk",
        store=True,
        help="The customer qualifies for a lower tier and keeps its tier only "
        "while the downgrade grace lasts.",
    )
    # Under the Pareto method the amount to keep a tier is the window revenue
    # of the weakest customer computed in that tier, less this one's: another
    # customer's revenue. Stored for those who see every customer; the forms
    # show revenue_to_keep_shown.
    revenue_to_keep = fields.Monetary(
        string="Revenue to Keep Tier (All Methods)",
        readonly=True,
        groups=COMPANY_WIDE_GROUPS,
        help="Revenue still needed in the window to qualify for the current "
        "tier again (threshold and Pareto methods).",
    )
    revenue_to_keep_shown = fields.Monetary(
        string="Revenue Needed to Keep Tier",
        compute="_compute_revenue_to_keep_shown",
        help="Revenue still needed in the window to qualify for the current "
        "tier again. Under the Pareto method it derives from the revenue of "
        "other customers: shown only to those who see every customer.",
    )
    history_ids = fields.One2many("customer.tier.history", "profile_id", readonly=True)

    _sql_constraints = [
        (
            "partner_company_uniq",
            "unique(partner_id, company_id)",
            "A customer has one tier profile per company.",
        ),
    ]

    def init(self):
        # The lists' order, per company: the first page of a company's
        # profiles, or of one tier, is read from the index instead of sorting
        # every profile (EXPLAIN on 20,000 profiles: 0.2 ms instead of 5 ms
        # for a tier, 0.1 ms instead of 21 ms unfiltered).
        tools.create_index(
            self.env.cr,
            "customer_tier_profile_company_order_index",
            self._table,
            ["company_id", "tier_sequence", "revenue_window DESC", "id"],
        )
        # A full evaluation updates the profiles whose figures moved (RFM scores,
        # predictions), most often in columns no index holds: room on each
        # page lets PostgreSQL keep the new version there and leave the
        # indexes alone (a heap-only update).
        self.env.cr.execute(
            SQL(
                "ALTER TABLE %s SET (fillfactor = %s)",
                SQL.identifier(self._table),
                PROFILE_FILLFACTOR,
            )
        )
        # The customers of a tier, read from the index alone: a search of
        # the partners by tier (res.partner._search_customer_tier_id) joins
        # the tiers of the condition to it (EXPLAIN on 20,000 profiles, tier
        # A of 1,124 customers: 0.2 ms instead of a scan of every profile,
        # 10 to 25 ms).
        tools.create_index(
            self.env.cr,
            "customer_tier_profile_tier_partner_index",
            self._table,
            ["tier_id", "company_id", "partner_id"],
        )
        # partner_id and tier_id had an index of their own before the unique
        # index and the one above took their place (Odoo keeps an index a
        # field no longer asks for)
        for index in (
            "customer_tier_profile__partner_id_index",
            "customer_tier_profile__tier_id_index",
        ):
            tools.sql.drop_index(self.env.cr, index, self._table)

    # ------------------------------------------------------------------
    # Evaluation date and recency: computed from the stored dates (one SQL
    # definition, which lists sort, group and filter by)
    # ------------------------------------------------------------------
    def _evaluation_date_sql(self, alias):
        """SQL: the evaluation date of the profile ``alias``: the latest of
        its program's last full evaluation, its own last full evaluation
        (a batch of the scheduled recompute) and its last refresh."""
        return SQL(
            "GREATEST((SELECT prog.last_run_date FROM customer_tier_program prog"
            " WHERE prog.id = %s), %s, %s)",
            SQL.identifier(alias, "program_id"),
            SQL.identifier(alias, "full_evaluation_date"),
            SQL.identifier(alias, "refresh_date"),
        )

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        if fname == "evaluation_date":
            return self._evaluation_date_sql(alias)
        if fname == "recency_days":
            return SQL(
                "COALESCE(%s - %s, 0)",
                self._evaluation_date_sql(alias),
                SQL.identifier(alias, "last_order_date"),
            )
        if fname in SHOWN:
            # (company-wide figures: as for a stored field, only who may read
            # them sorts, groups or filters by them)
            self.check_field_access_rights("read", [fname])
            return shown_sql(
                fname,
                SQL.identifier(alias, "company_id"),
                SQL.identifier(alias, "partner_id"),
            )
        return super()._field_to_sql(alias, fname, query, flush)

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        # the recency and the revenue share are computed, not stored:
        # aggregated by their SQL definition (_field_to_sql) as when they
        # were stored
        fields = [
            f"{spec}:{self._fields[spec].aggregator}"
            if spec in ("recency_days", "revenue_share")
            else spec
            for spec in fields
        ]
        return super().read_group(
            domain,
            fields,
            groupby,
            offset=offset,
            limit=limit,
            orderby=orderby,
            lazy=lazy,
        )

    def _search_by_sql(self, fname, operator, value):
        if operator not in ("=", "!=", "<", "<=", ">", ">=", "in", "not in"):
            raise UserError(
                self.env._("Operation not supported on %(field)s.", field=fname)
            )
        query = Query(self.env, self._table, self._table_sql)
        condition = self._condition_to_sql(self._table, fname, operator, value, query)
        query.add_where(condition)
        return [("id", "in", query)]

    def _search_revenue_share(self, operator, value):
        return self._search_by_sql("revenue_share", operator, value)

    def _search_cumulative_share(self, operator, value):
        return self._search_by_sql("cumulative_share", operator, value)

    def _search_pareto_rank(self, operator, value):
        return self._search_by_sql("pareto_rank", operator, value)

    def _compute_shown_figures(self):
        """The rank and shares of the profiles, from the ranking snapshot
        (:func:`~.customer_tier_ranking.shown_sql`): one query for all, of
        the profiles the user reads (the snapshot has no rules of its own:
        an export reads the figures of the ids it is given)."""
        ids = self._origin.ids
        figures = {}
        if ids:
            readable = self._search([("id", "in", ids)])
            rows = self.env.execute_query(
                SQL(
                    "SELECT p.id, %s FROM customer_tier_profile p WHERE p.id IN %s",
                    SQL(", ").join(self._field_to_sql("p", f) for f in SHOWN),
                    readable.subselect(),
                )
            )
            figures = {row[0]: row[1:] for row in rows}
            if len(figures) < len(ids):
                # not read: denied (or deleted)
                self.browse(set(ids) - figures.keys()).check_access("read")
        values = [figures.get(profile._origin.id) or (0, 0.0, 0.0) for profile in self]
        for index, fname in enumerate(SHOWN):
            # (into the cache as read from a column: not rounded to the
            # digits the views show)
            self.env.cache.update(
                self, self._fields[fname], [row[index] for row in values]
            )

    def _search_evaluation_date(self, operator, value):
        return self._search_by_sql("evaluation_date", operator, value)

    def _search_recency_days(self, operator, value):
        return self._search_by_sql("recency_days", operator, value)

    @api.depends(
        "program_id.last_run_date",
        "full_evaluation_date",
        "refresh_date",
    )
    def _compute_evaluation_date(self):
        for profile in self:
            dates = [
                d
                for d in (
                    profile.program_id.last_run_date,
                    profile.full_evaluation_date,
                    profile.refresh_date,
                )
                if d
            ]
            profile.evaluation_date = max(dates) if dates else False

    @api.depends("evaluation_date", "last_order_date")
    def _compute_recency_days(self):
        for profile in self:
            profile.recency_days = (
                (profile.evaluation_date - profile.last_order_date).days
                if profile.evaluation_date and profile.last_order_date
                else 0
            )

    @api.depends("manual_tier_id", "assigned_tier_id")
    def _compute_tier_id(self):
        for profile in self:
            profile.tier_id = profile.manual_tier_id or profile.assigned_tier_id

    @api.depends("manual_tier_id", "computed_tier_id")
    def _compute_manual_differs(self):
        for profile in self:
            profile.manual_differs = bool(
                profile.manual_tier_id
                and profile.manual_tier_id != profile.computed_tier_id
            )

    @api.depends("revenue_to_keep", "program_id.method")
    @api.depends_context("uid")
    def _compute_revenue_to_keep_shown(self):
        company_wide = self.env.su or self.env.user.has_groups(COMPANY_WIDE_GROUPS)
        for profile in self:
            threshold = profile.program_id.method == "threshold"
            profile.revenue_to_keep_shown = (
                profile.sudo().revenue_to_keep if company_wide or threshold else 0.0
            )

    @api.depends("downgrade_tier_id")
    def _compute_at_risk(self):
        for profile in self:
            profile.at_risk = bool(profile.downgrade_tier_id)

    @api.constrains("manual_tier_id", "manual_reason", "manual_end_date")
    def _check_manual(self):
        today = fields.Date.context_today(self)
        for profile in self.filtered("manual_tier_id"):
            # Grading a prospect by hand is routine; overriding a customer's
            # computed tier needs a reason.
            if not profile.is_prospect and not (profile.manual_reason or "").strip():
                raise ValidationError(
                    self.env._(
                        "A manual tier needs a reason (%(customer)s).",
                        customer=profile.partner_id.display_name,
                    )
                )
            if profile.manual_tier_id.program_id != profile.program_id:
                raise ValidationError(
                    self.env._("The manual tier must belong to the customer's program.")
                )
            expected_kind = "prospect" if profile.is_prospect else "customer"
            if profile.manual_tier_id.kind != expected_kind:
                raise ValidationError(
                    self.env._(
                        "%(customer)s is a %(what)s: choose a %(kind)s.",
                        customer=profile.partner_id.display_name,
                        what=self.env._("prospect")
                        if profile.is_prospect
                        else self.env._("buying customer"),
                        kind=self.env._("prospect grade")
                        if profile.is_prospect
                        else self.env._("customer tier"),
                    )
                )
            if profile.manual_end_date and profile.manual_end_date < today:
                raise ValidationError(
                    self.env._("The override end date cannot be in the past.")
                )
        check_bounds(
            self.filtered("manual_tier_id"),
            {"manual_end_date": (None, today + OVERRIDE_AHEAD)},
            label=lambda profile: profile.partner_id.display_name,
        )

    # ------------------------------------------------------------------
    # Manual override (ORM path: tracked, history and chatter written)
    # ------------------------------------------------------------------
    def write(self, vals):
        manual_keys = {
            "manual_tier_id",
            "manual_reason",
            "manual_end_date",
            "min_order_exempt",
        }
        if manual_keys & vals.keys() and not self.env.su:
            if not self.env.user.has_group("customer_tier.group_customer_tier_manager"):
                raise UserError(self.env._("Only tier managers can override a tier."))
        before = {p.id: p.tier_id for p in self} if "manual_tier_id" in vals else {}
        res = super().write(vals)
        if before:
            cause = "manual" if vals.get("manual_tier_id") else "override_end"
            changed = self.filtered(lambda p: p.tier_id != before[p.id])
            if changed:
                changed._record_changes(
                    [(p, before[p.id], p.tier_id, cause) for p in changed]
                )
        return res

    def action_clear_override(self):
        self.write(
            {"manual_tier_id": False, "manual_reason": False, "manual_end_date": False}
        )

    def _record_changes(self, changes, eval_date=None):
        """Write history rows and profile chatter for ORM-side tier changes.

        ``changes`` is a list of (profile, old_tier, new_tier, cause).
        """
        today = eval_date or fields.Date.context_today(self)
        History = self.env["customer.tier.history"].sudo()
        History.create(
            [
                {
                    "profile_id": profile.id,
                    "date": today,
                    "from_tier_id": old.id,
                    "to_tier_id": new.id,
                    "cause": cause,
                    "revenue_window": profile.revenue_window,
                    "margin_window": profile.margin_window,
                    "order_count_window": profile.order_count_window,
                    "recency_days": profile.recency_days,
                    "reason": profile.manual_reason if cause == "manual" else False,
                }
                for profile, old, new, cause in changes
            ]
        )
        self.browse([c[0].id for c in changes]).sudo().write({"tier_since": today})
        self.env["customer.tier.history"]._post_tier_notes(
            [
                (
                    profile.id,
                    old,
                    new,
                    cause,
                    profile.manual_reason if cause == "manual" else False,
                )
                for profile, old, new, cause in changes
            ]
        )
        TierEngine.sync_partner_tiers(
            self.env,
            [(p.partner_id.id, p.company_id.id, new.id) for p, _o, new, _c in changes],
        )
        # Same side effects as engine changes (pricelists, follow-ups ...).
        by_program = {}
        for profile, old, new, cause in changes:
            by_program.setdefault(profile.program_id, []).append(
                (profile.partner_id.id, old.id or None, new.id or None, cause)
            )
        for program, program_changes in by_program.items():
            program.sudo()._engine().after_write([], program_changes, today, False)

    @api.model
    def _post_notes(self, notes, paragraph=True):
        """Log notifications (not contacts) by the current user on tier
        profiles: ``notes``, (profile id, text) pairs. On the profile, whose
        record rules apply to its messages, not on the partner that users of
        every company read. Without ``paragraph``, the texts are HTML bodies
        already."""
        if not notes:
            return
        subtype = self.env.ref("mail.mt_note")
        self.env["mail.message"].sudo().create(
            [
                {
                    "model": "customer.tier.profile",
                    "res_id": profile_id,
                    "message_type": "notification",
                    "subtype_id": subtype.id,
                    "author_id": self.env.user.partner_id.id,
                    "body": Markup("<p>%s</p>") % text if paragraph else text,
                }
                for profile_id, text in notes
            ]
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_history(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_tier.customer_tier_history_action"
        )
        action["domain"] = [("profile_id", "in", self.ids)]
        action["context"] = {}
        return action

    def action_refresh(self):
        # the engine writes the figures with sudo: tier managers only
        if not self.env.su and not self.env.user.has_group(
            "customer_tier.group_customer_tier_manager"
        ):
            raise AccessError(
                self.env._("Only tier managers can refresh the figures of a profile.")
            )
        self.check_access("write")
        for program, profiles in self.grouped("program_id").items():
            program._engine().refresh_partners(profiles.partner_id.ids)
        return True
