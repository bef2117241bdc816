from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    customer_tier_id = fields.Many2one(
        "customer.tier",
        string="Customer Tier",
        company_dependent=True,
        readonly=True,
        copy=False,
        help="Effective tier (or prospect grade) of the commercial partner in the "
        "current company, kept up to date by the tier engine.",
    )
    customer_tier_color = fields.Integer(
        related="customer_tier_id.color", string="Tier Color"
    )
    customer_tier_profile_id = fields.Many2one(
        "customer.tier.profile",
        string="Tier Profile",
        compute="_compute_customer_tier_profile_id",
        search="_search_customer_tier_profile_id",
        help="Tier profile of the commercial partner in the current company.",
    )
    tier_revenue_window = fields.Monetary(
        related="customer_tier_profile_id.revenue_window",
        currency_field="tier_currency_id",
    )
    tier_margin_window = fields.Monetary(
        related="customer_tier_profile_id.margin_window",
        currency_field="tier_currency_id",
    )
    tier_revenue_total = fields.Monetary(
        related="customer_tier_profile_id.revenue_total",
        currency_field="tier_currency_id",
    )
    tier_currency_id = fields.Many2one(
        related="customer_tier_profile_id.currency_id", string="Tier Currency"
    )
    tier_order_count_window = fields.Integer(
        related="customer_tier_profile_id.order_count_window"
    )
    tier_order_count = fields.Integer(related="customer_tier_profile_id.order_count")
    tier_last_order_date = fields.Date(related="customer_tier_profile_id.last_order_date")
    tier_first_order_date = fields.Date(
        related="customer_tier_profile_id.first_order_date"
    )
    tier_recency_days = fields.Integer(related="customer_tier_profile_id.recency_days")
    tier_average_order_value = fields.Monetary(
        related="customer_tier_profile_id.average_order_value",
        currency_field="tier_currency_id",
    )
    tier_orders_per_year = fields.Float(
        related="customer_tier_profile_id.orders_per_year"
    )
    tier_reorder_cycle_days = fields.Float(
        related="customer_tier_profile_id.reorder_cycle_days"
    )
    tier_expected_order_date = fields.Date(
        related="customer_tier_profile_id.expected_order_date"
    )
    tier_reorder_overdue = fields.Boolean(
        string="Reorder Overdue",
        compute="_compute_tier_reorder_overdue",
        search="_search_tier_reorder_overdue",
    )
    tier_revenue_share = fields.Float(related="customer_tier_profile_id.revenue_share")
    tier_cumulative_share = fields.Float(
        related="customer_tier_profile_id.cumulative_share"
    )
    tier_frequency_class = fields.Selection(
        related="customer_tier_profile_id.frequency_class"
    )
    tier_rfm_segment_id = fields.Many2one(
        related="customer_tier_profile_id.rfm_segment_id"
    )
    tier_since = fields.Date(related="customer_tier_profile_id.tier_since")
    tier_is_prospect = fields.Boolean(
        string="Prospect",
        compute="_compute_tier_is_prospect",
        search="_search_tier_is_prospect",
    )

    def _tier_profiles(self):
        """Profiles of the commercial partners in the current company that the
        current user may read (a salesperson limited to own documents gets the
        profiles of own customers only)."""
        Profile = self.env["customer.tier.profile"]
        if not Profile.has_access("read"):
            return {}
        profiles = Profile.search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        return {p.partner_id.id: p for p in profiles}

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_customer_tier_profile_id(self):
        by_partner = self._tier_profiles()
        for partner in self:
            profile = by_partner.get(partner.commercial_partner_id.id)
            partner.customer_tier_profile_id = profile or False

    def _search_customer_tier_profile_id(self, operator, value):
        if operator not in ("in", "not in", "=", "!="):
            return NotImplemented
        if operator in ("=", "!=") and not value:
            domain = [("company_id", "=", self.env.company.id)]
            op = "not in" if operator == "=" else "in"
        else:
            ids = value if isinstance(value, (list, tuple)) else [value]
            domain = [("id", "in", ids)]
            op = "in" if operator in ("in", "=") else "not in"
        query = self.env["customer.tier.profile"].sudo()._search(domain)
        return [("commercial_partner_id", op, query.subselect("partner_id"))]

    @api.depends_context("company")
    def _compute_tier_reorder_overdue(self):
        by_partner = self._tier_profiles()
        for partner in self:
            profile = by_partner.get(partner.commercial_partner_id.id)
            partner.tier_reorder_overdue = bool(profile and profile.reorder_overdue)

    @api.depends_context("company")
    def _compute_tier_is_prospect(self):
        by_partner = self._tier_profiles()
        for partner in self:
            profile = by_partner.get(partner.commercial_partner_id.id)
            partner.tier_is_prospect = bool(profile and profile.is_prospect)

    def _search_profile_flag(self, field_name, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        positive = (operator == "=") == bool(value)
        query = self.env["customer.tier.profile"]._search(
            [(field_name, "=", True), ("company_id", "=", self.env.company.id)]
        )
        subquery = query.subselect("partner_id")
        op = "in" if positive else "not in"
        return [("commercial_partner_id", op, subquery)]

    def _search_tier_reorder_overdue(self, operator, value):
        return self._search_profile_flag("reorder_overdue", operator, value)

    def _search_tier_is_prospect(self, operator, value):
        return self._search_profile_flag("is_prospect", operator, value)

    def action_view_customer_tier_profile(self):
        self.ensure_one()
        profile = self.customer_tier_profile_id
        return {
            "type": "ir.actions.act_window",
            "res_model": "customer.tier.profile",
            "view_mode": "form",
            "res_id": profile.id,
            "name": self.env._("Tier Profile"),
        }
