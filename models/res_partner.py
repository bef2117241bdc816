from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tools.query import Query

from .customer_tier_field_guard import (
    NAME_OPERATORS,
    NEGATIVE_NAME_OPERATORS,
    flag_domain,
    flag_search_values,
    profile_operator_error,
)
from .customer_tier_profile import COMPANY_WIDE_GROUPS

# The partner's tier figures come from its profile as the current user may
# read it (record rules included): computed as that user, not as superuser
# (Odoo's default for related fields), and cached per user and company, so a
# salesperson limited to own documents reads nothing of another salesperson's
# customer, in whatever order the fields are read.
PROFILE_FIGURE = {"compute_sudo": False, "depends_context": ("company", "uid")}
# The operators of a search on the partner's tier answered from the tier
# profiles (``_search_customer_tier_id``); the others (a tier's name) search
# the stored tier itself.
PROFILE_TIER_OPERATORS = ("=", "!=", "in", "not in")


class TierOfCommercialPartner(fields.Many2one):
    """A many2one related to the commercial partner's stored tier (read,
    grouped and sorted as such) whose search conditions go to the model's
    ``_search_customer_tier_id``: Odoo gives every related field its own
    search, which reads the stored tier of each customer in turn."""

    def setup_related(self, model):
        res = super().setup_related(model)
        self.search = "_search_customer_tier_id"
        return res


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Stored on the commercial partner only (the engine writes one row per
    # customer, not one per contact); contacts read it through
    # customer_tier_id, so a new or moved contact shows its company's tier.
    commercial_tier_id = fields.Many2one(
        "customer.tier",
        string="Tier of the Commercial Entity",
        company_dependent=True,
        readonly=True,
        copy=False,
        help="Effective tier (or prospect grade) stored on the commercial partner "
        "in each company by the tier engine.",
    )
    customer_tier_id = TierOfCommercialPartner(
        related="commercial_partner_id.commercial_tier_id",
        string="Customer Tier",
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
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.revenue_window",
        currency_field="tier_currency_id",
    )
    tier_margin_window = fields.Monetary(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.margin_window",
        currency_field="tier_currency_id",
    )
    tier_revenue_total = fields.Monetary(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.revenue_total",
        currency_field="tier_currency_id",
    )
    tier_currency_id = fields.Many2one(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.currency_id",
        string="Tier Currency",
    )
    tier_order_count_window = fields.Integer(
        **PROFILE_FIGURE, related="customer_tier_profile_id.order_count_window"
    )
    tier_order_count = fields.Integer(
        **PROFILE_FIGURE, related="customer_tier_profile_id.order_count"
    )
    tier_last_order_date = fields.Date(
        **PROFILE_FIGURE, related="customer_tier_profile_id.last_order_date"
    )
    tier_first_order_date = fields.Date(
        **PROFILE_FIGURE, related="customer_tier_profile_id.first_order_date"
    )
    tier_recency_days = fields.Integer(
        **PROFILE_FIGURE, related="customer_tier_profile_id.recency_days"
    )
    tier_average_order_value = fields.Monetary(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.average_order_value",
        currency_field="tier_currency_id",
    )
    tier_orders_per_year = fields.Float(
        **PROFILE_FIGURE, related="customer_tier_profile_id.orders_per_year"
    )
    tier_reorder_cycle_days = fields.Float(
        **PROFILE_FIGURE, related="customer_tier_profile_id.reorder_cycle_days"
    )
    tier_expected_order_date = fields.Date(
        **PROFILE_FIGURE, related="customer_tier_profile_id.expected_order_date"
    )
    tier_reorder_overdue = fields.Boolean(
        string="Reorder Overdue",
        compute="_compute_tier_reorder_overdue",
        search="_search_tier_reorder_overdue",
    )
    tier_revenue_share = fields.Float(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.revenue_share",
        groups=COMPANY_WIDE_GROUPS,
    )
    tier_cumulative_share = fields.Float(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.cumulative_share",
        groups=COMPANY_WIDE_GROUPS,
    )
    tier_frequency_class = fields.Selection(
        **PROFILE_FIGURE, related="customer_tier_profile_id.frequency_class"
    )
    tier_rfm_segment_id = fields.Many2one(
        **PROFILE_FIGURE, related="customer_tier_profile_id.rfm_segment_id"
    )
    tier_since = fields.Date(
        **PROFILE_FIGURE, related="customer_tier_profile_id.tier_since"
    )
    tier_is_prospect = fields.Boolean(
        string="Prospect",
        compute="_compute_tier_is_prospect",
        search="_search_tier_is_prospect",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any("commercial_tier_id" in vals for vals in vals_list):
            self._check_tier_written_by_engine()
        return super().create(vals_list)

    def write(self, vals):
        if "commercial_tier_id" in vals and self.env.context.get("customer_tier_merge"):
            # a merge of partners writes their values on the one it keeps:
            # the stored tier is left to the engine (wizards/base_partner_merge.py)
            vals = {k: v for k, v in vals.items() if k != "commercial_tier_id"}
        if "commercial_tier_id" in vals:
            self._check_tier_written_by_engine()
        return super().write(vals)

    def _check_tier_written_by_engine(self):
        """The stored tier is the engine's (it sets the customer's pricelist,
        points multiplier and sales policies on every order): nobody sets it
        by hand, over RPC or an import; managers override a tier on the
        profile, with a reason and a history row."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The customer tier is set by the tier program: override it "
                    "on the customer's tier profile instead (tier managers)."
                )
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
    @api.depends_context("company", "uid")
    def _compute_customer_tier_profile_id(self):
        by_partner = self._tier_profiles()
        for partner in self:
            profile = by_partner.get(partner.commercial_partner_id.id)
            partner.customer_tier_profile_id = profile or False

    def _search_customer_tier_profile_id(self, operator, value):
        """Partners by their profile in the current company, searched with the
        user's access rights and record rules like any field: a salesperson
        limited to own documents finds own customers only, and a profile of
        another company matches nothing (the field never shows it).

        ``value`` is an id, a list of ids or a query: the ORM passes a query
        when a related tier figure is searched (``tier_revenue_window > x``);
        or a customer name (text), searched like the name of any many2one.
        """
        domain = [("company_id", "=", self.env.company.id)]
        names = value if isinstance(value, (list, tuple)) else [value]
        if operator in ("=", "!=") and not value:
            op = "not in" if operator == "=" else "in"
        elif all(isinstance(v, str) for v in names) and operator in NAME_OPERATORS:
            # a customer name ("contains" in the domain editor, or a name
            # typed for "is"): the profiles of the customers of that name
            domain.append(("partner_id", NAME_OPERATORS[operator], value))
            op = "not in" if operator in NEGATIVE_NAME_OPERATORS else "in"
        elif operator not in ("in", "not in", "=", "!="):
            raise profile_operator_error(self.env, operator)
        else:
            if isinstance(value, Query):
                ids = value
            elif isinstance(value, (list, tuple)):
                ids = [v for v in value if v]
            else:
                ids = [value]
            domain.append(("id", "in", ids))
            op = "in" if operator in ("in", "=") else "not in"
        Profile = self.env["customer.tier.profile"]
        if not Profile.has_access("read"):
            # no profile is readable: the field is empty on every partner
            return [(1, "=", 1)] if op == "not in" else [(0, "=", 1)]
        query = Profile._search(domain)
        return [("commercial_partner_id", op, query.subselect("partner_id"))]

    def _search_customer_tier_id(self, operator, value):
        """Partners by the tier of their commercial partner in the current
        company, as reading ``customer_tier_id`` gives it to anyone who reads
        the partner: whatever the user's access to the tier profiles.

        A tier (``=``, ``!=``, ``in``, ``not in`` with tier ids, ``False`` or
        a query of tiers, as a condition on the tier's own fields such as
        ``customer_tier_id.code`` gives) is searched in the tier profiles of
        the company, through the index of their tier, instead of in the
        stored tier of every customer: the tier stored on the commercial
        partner is its profile's effective tier, which every writer of a
        profile's tier keeps so (the engine's ``write_profiles`` and
        ``update_profiles``, the manual override's ``_record_changes``, all
        through ``TierEngine.sync_partner_tiers``), and a partner without a
        profile in the company has no stored tier there. A tier's name
        (``ilike`` ...) searches the stored tier as Odoo does.
        """
        field = self._fields["customer_tier_id"]
        values = value if isinstance(value, (list, tuple)) else [value]
        given_ids = isinstance(value, Query) or all(
            v is False or v is None or (isinstance(v, int) and not isinstance(v, bool))
            for v in values
        )
        if operator not in PROFILE_TIER_OPERATORS or not given_ids:
            return field._search_related(self, operator, value)
        # a query of tiers is not run here (its truth value would run it)
        if isinstance(value, Query):
            tiers, some_tier, blank = value, True, False
        else:
            tiers = [v for v in values if v]
            some_tier, blank = bool(tiers), len(tiers) < len(values)
        Profile = (
            self.env["customer.tier.profile"].sudo().with_context(active_test=False)
        )
        company = [("company_id", "=", self.env.company.id)]
        tiered = Profile._search([*company, ("tier_id", "!=", False)]).subselect(
            "partner_id"
        )
        held = Profile._search([*company, ("tier_id", "in", tiers)]).subselect(
            "partner_id"
        )
        untiered = [
            "|",
            ("commercial_partner_id", "=", False),
            ("commercial_partner_id", "not in", tiered),
        ]
        if operator in ("=", "in"):
            found = [[("commercial_partner_id", "in", held)]] if some_tier else []
            if blank:
                found.append(untiered)
            return expression.OR(found) if found else expression.FALSE_DOMAIN
        # != / not in: a tier that is none of the tiers (or any tier, for
        # False)
        if not some_tier:
            return [("commercial_partner_id", "in", tiered)] if blank else []
        not_held = [
            "|",
            ("commercial_partner_id", "=", False),
            ("commercial_partner_id", "not in", held),
        ]
        if blank:
            return expression.AND([[("commercial_partner_id", "in", tiered)], not_held])
        return not_held

    # Both flags read the profile the partner already found (one search).
    @api.depends("customer_tier_profile_id")
    @api.depends_context("company", "uid")
    def _compute_tier_reorder_overdue(self):
        for partner in self:
            partner.tier_reorder_overdue = (
                partner.customer_tier_profile_id.reorder_overdue
            )

    @api.depends("customer_tier_profile_id")
    @api.depends_context("company", "uid")
    def _compute_tier_is_prospect(self):
        for partner in self:
            partner.tier_is_prospect = partner.customer_tier_profile_id.is_prospect

    def _search_profile_flag(self, field_name, operator, value):
        wanted = flag_search_values(self, "tier_" + field_name, operator, value)

        def positive_domain(positive):
            query = self.env["customer.tier.profile"]._search(
                [(field_name, "=", True), ("company_id", "=", self.env.company.id)]
            )
            subquery = query.subselect("partner_id")
            op = "in" if positive else "not in"
            return [("commercial_partner_id", op, subquery)]

        return flag_domain(wanted, positive_domain)

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
