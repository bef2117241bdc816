from odoo import api, fields, models
from odoo.tools import format_date

CAUSES = [
    ("initial", "First evaluation"),
    ("computed", "Computed"),
    ("manual", "Manual override"),
    ("override_end", "Override ended"),
    ("grace", "Grace ran out"),
    ("first_order", "First order"),
    ("reclassify", "Re-classification"),
]


class CustomerTierHistory(models.Model):
    _name = "customer.tier.history"
    _description = "Customer Tier Change"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    profile_id = fields.Many2one(
        "customer.tier.profile", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        related="profile_id.partner_id", store=True, index=True, string="Customer"
    )
    company_id = fields.Many2one(related="profile_id.company_id", store=True)
    user_id = fields.Many2one(
        related="profile_id.user_id", string="Salesperson", store=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, index=True)
    from_tier_id = fields.Many2one("customer.tier", string="From tier")
    to_tier_id = fields.Many2one("customer.tier", string="To tier")
    cause = fields.Selection(CAUSES, required=True)
    direction = fields.Selection(
        [("up", "Up"), ("down", "Down"), ("new", "New"), ("same", "Same")],
        compute="_compute_direction",
        store=True,
    )
    reason = fields.Char()
    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Pricelist Applied",
        help="Pricelist the customer got with this change.",
    )
    revenue_window = fields.Monetary(string="Revenue (window)")
    margin_window = fields.Monetary(string="Margin (window)")
    order_count_window = fields.Integer(string="Orders (window)")
    recency_days = fields.Integer(string="Days Since Last Order", aggregator="avg")
    run_ref = fields.Char(
        string="Run",
        readonly=True,
        index="btree_not_null",
        help="Identifies the recompute that wrote the move (empty for the "
        "scheduled evaluation).",
    )

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        """Name the empty ends of a move in the migration matrix and groupings.

        A group on an empty Many2one comes back as ``False``, which the pivot,
        graph and list views all show as "None". The group of an empty
        ``from_tier_id`` holds the customers that entered the tiering (first
        evaluation or first order): "New"; that of an empty ``to_tier_id`` the
        customers that left it: "No tier". The value stays ``False`` (the
        views read a ``(False, label)`` pair as id ``False``, so drilling
        down and the group's ``__domain`` are unchanged).
        """
        groups = super().read_group(
            domain,
            fields,
            groupby,
            offset=offset,
            limit=limit,
            orderby=orderby,
            lazy=lazy,
        )
        labels = {
            "from_tier_id": self.env._("New"),
            "to_tier_id": self.env._("No tier"),
        }
        for group in groups:
            for fname, label in labels.items():
                if group.get(fname, True) is False:
                    group[fname] = (False, label)
        return groups

    @api.depends("from_tier_id", "to_tier_id")
    def _compute_direction(self):  # ORM-created rows; the engine writes it
        for row in self:
            row.direction = self._direction(row.from_tier_id, row.to_tier_id)

    @api.model
    def _direction(self, old, new):
        if not new:
            return "down"
        if not old or old.kind != new.kind:
            return "new"
        if (new.sequence, new.id) < (old.sequence, old.id):
            return "up"
        if (new.sequence, new.id) > (old.sequence, old.id):
            return "down"
        return "same"

    @api.model
    def _run_action(self, run_ref, eval_date):
        """The tier moves of one recompute (``run_ref``, evaluated on
        ``eval_date``), as a window action of the history."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_tier.customer_tier_history_action"
        )
        action.update(
            {
                "name": self.env._(
                    "Tier Moves of the Recompute of %(date)s",
                    date=format_date(self.env, eval_date),
                ),
                "domain": [("run_ref", "=", run_ref)],
                "context": {"create": False},
            }
        )
        return action

    @api.model
    def _post_tier_notes(self, changes):
        """Log one note per change on the chatter of the tier profile, in bulk.

        ``changes``: list of (profile_id, old_tier, new_tier, cause, reason).
        The note is written as an internal log (no e-mail), like tracking. It
        goes on the profile, not on the partner: a partner is read by every
        internal user of every company that shares it, while the profile's
        messages follow the profile's record rules (its company, and own
        customers for a salesperson limited to own documents). The partner
        shows the current tier of the user's company in its tier field.
        """
        if not changes:
            return
        causes = dict(self._fields["cause"]._description_selection(self.env))
        notes = []
        for profile_id, old, new, cause, reason in changes:
            if old:
                body = self.env._(
                    "Customer tier changed from %(old)s to %(new)s (%(cause)s).",
                    old=old.display_name,
                    new=new.display_name,
                    cause=causes[cause],
                )
            else:
                body = self.env._(
                    "Customer tier set to %(new)s (%(cause)s).",
                    new=new.display_name,
                    cause=causes[cause],
                )
            if reason:
                body += " " + self.env._("Reason: %(reason)s", reason=reason)
            notes.append((profile_id, body))
        self.env["customer.tier.profile"]._post_notes(notes)
