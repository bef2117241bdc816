import uuid

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from odoo.addons.customer_tier.models.customer_tier_bounds import (
    MIN_DATE,
    check_bounds,
    max_business_date,
    model_label,
)
from odoo.addons.customer_tier.models.customer_tier_history import CAUSES


class CustomerTierRecompute(models.TransientModel):
    """Preview a full recompute, then apply exactly what was previewed."""

    _name = "customer.tier.recompute"
    _description = "Recompute Customer Tiers"

    program_id = fields.Many2one(
        "customer.tier.program",
        required=True,
        default=lambda self: self.env["customer.tier.program"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        ),
    )
    company_id = fields.Many2one(related="program_id.company_id")
    currency_id = fields.Many2one(related="program_id.currency_id")
    eval_date = fields.Date(
        string="Evaluation Date",
        required=True,
        default=fields.Date.context_today,
        help="Figures count the orders up to this date.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("preview", "Preview"), ("done", "Done")],
        default="draft",
    )
    line_ids = fields.One2many(
        "customer.tier.recompute.line", "wizard_id", readonly=True
    )
    count_up = fields.Integer(string="Up", readonly=True)
    count_down = fields.Integer(string="Down", readonly=True)
    count_new = fields.Integer(string="New", readonly=True)
    count_same = fields.Integer(string="Unchanged", readonly=True)
    summary = fields.Html(readonly=True)

    @api.constrains("eval_date")
    def _check_eval_date(self):
        check_bounds(
            self,
            {"eval_date": (MIN_DATE, max_business_date(self))},
            label=model_label,
        )

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Recompute Tiers"),
        }

    def _check_program_access(self):
        """The engine reads and writes the program's figures with sudo: the
        user must be allowed to change the program (a manager of its company)."""
        self.program_id.check_access("write")

    def action_preview(self):
        self.ensure_one()
        self._check_program_access()
        engine = self.program_id._engine()
        rows, changes = engine.plan(self.eval_date, force_apply=True)
        History = self.env["customer.tier.history"]
        Tier = self.env["customer.tier"]
        lines = []
        counts = {"up": 0, "down": 0, "new": 0}
        per_tier = {}
        for pid, old, new, cause in changes:
            direction = History._direction(Tier.browse(old), Tier.browse(new))
            if direction == "same":
                continue
            counts[direction] += 1
            row = rows[pid]
            per_tier.setdefault(new, {"up": 0, "down": 0, "new": 0})[direction] += 1
            lines.append(
                {
                    "partner_id": pid,
                    "from_tier_id": old,
                    "to_tier_id": new,
                    "cause": cause,
                    "direction": direction,
                    "revenue_window": row["revenue_window"],
                    "order_count_window": row["order_count_window"],
                    "recency_days": row["recency_days"],
                    "cumulative_share": row["cumulative_share"],
                }
            )
        self.line_ids.unlink()
        self.write(
            {
                "state": "preview",
                "line_ids": [(0, 0, vals) for vals in lines],
                "count_up": counts["up"],
                "count_down": counts["down"],
                "count_new": counts["new"],
                "count_same": len(rows) - len(lines),
                "summary": self._summary_html(per_tier),
            }
        )
        return self._reopen()

    @api.model
    def _summary_html(self, per_tier):
        if not per_tier:
            return Markup("<p>%s</p>") % self.env._("No customer changes tier.")
        rows = Markup()
        Tier = self.env["customer.tier"]
        # Customer tiers, then prospect grades, best first; "No tier" last.
        for tier_id, counts in sorted(
            per_tier.items(),
            key=lambda kv: (
                not kv[0],
                Tier.browse(kv[0]).kind or "",
                Tier.browse(kv[0]).sequence,
                kv[0] or 0,
            ),
        ):
            name = (
                Tier.browse(tier_id).display_name if tier_id else self.env._("No tier")
            )
            rows += Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                escape(name),
                counts["up"],
                counts["down"],
                counts["new"],
            )
        return Markup(
            "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th>"
            "<th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (
            self.env._("Into tier"),
            self.env._("Up"),
            self.env._("Down"),
            self.env._("New"),
            rows,
        )

    def action_apply(self):
        self.ensure_one()
        self._check_program_access()
        if self.state != "preview":
            raise UserError(self.env._("Preview the recompute before applying it."))
        planned = {
            (
                line.partner_id.id,
                line.from_tier_id.id or None,
                line.to_tier_id.id or None,
            )
            for line in self.line_ids
        }
        run_ref = uuid.uuid4().hex
        result = self.program_id._engine().run(
            self.eval_date, force_apply=True, run_ref=run_ref
        )
        History = self.env["customer.tier.history"]
        Tier = self.env["customer.tier"]
        applied = {
            (pid, old, new)
            for pid, old, new, _cause in result["changes"]
            if History._direction(Tier.browse(old), Tier.browse(new)) != "same"
        }
        if applied != planned:
            raise UserError(
                self.env._(
                    "Orders changed since the preview: preview the recompute again "
                    "before applying it."
                )
            )
        self.state = "done"
        return self._applied_notification(run_ref)

    def _applied_notification(self, run_ref):
        """What Apply moved, as a notification; when something moved, the
        tier moves of this run (and only them) open behind it."""
        counts = {"up": 0, "down": 0, "new": 0, "from_none": 0, "to_none": 0}
        for line in self.line_ids:
            counts[line.direction] += 1
            counts["from_none"] += not line.from_tier_id
            counts["to_none"] += not line.to_tier_id
        if not self.line_ids:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": self.env._("Tiers recomputed"),
                    "message": self.env._("No customer changed tier."),
                    "type": "info",
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        message = self.env._(
            "%(up)s up, %(down)s down, %(new)s new.",
            up=counts["up"],
            down=counts["down"],
            new=counts["new"],
        )
        if counts["from_none"]:
            message += " " + self.env._(
                "From no tier: %(count)s.", count=counts["from_none"]
            )
        if counts["to_none"]:
            message += " " + self.env._(
                "To no tier: %(count)s.", count=counts["to_none"]
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_tier.customer_tier_history_action"
        )
        action.update(
            {
                "name": self.env._(
                    "Tier Moves of the Recompute of %(date)s",
                    date=format_date(self.env, self.eval_date),
                ),
                "domain": [("run_ref", "=", run_ref)],
                "context": {"create": False},
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Tiers recomputed"),
                "message": message,
                "type": "success",
                "sticky": True,
                "next": action,
            },
        }


class CustomerTierRecomputeLine(models.TransientModel):
    _name = "customer.tier.recompute.line"
    _description = "Recompute Preview Line"
    _order = "direction, to_tier_id, revenue_window desc"

    wizard_id = fields.Many2one(
        "customer.tier.recompute", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    from_tier_id = fields.Many2one("customer.tier", string="From", readonly=True)
    to_tier_id = fields.Many2one("customer.tier", string="To", readonly=True)
    from_tier_label = fields.Char(string="From Tier", compute="_compute_tier_labels")
    to_tier_label = fields.Char(string="To Tier", compute="_compute_tier_labels")
    cause = fields.Selection(CAUSES, readonly=True)
    direction = fields.Selection(
        [("up", "Up"), ("down", "Down"), ("new", "New"), ("same", "Same")],
        readonly=True,
    )
    revenue_window = fields.Monetary(string="Revenue (window)", readonly=True)
    order_count_window = fields.Integer(string="Orders (window)", readonly=True)
    recency_days = fields.Integer(
        string="Days Since Last Order", readonly=True, aggregator="avg"
    )
    cumulative_share = fields.Float(readonly=True, digits=(16, 4), aggregator=None)

    @api.depends("from_tier_id", "to_tier_id")
    def _compute_tier_labels(self):
        # A customer leaves every tier when, at the evaluation date, it has no
        # counted order and no prospect grade: say so instead of a blank cell.
        no_tier = self.env._("No tier")
        for line in self:
            line.from_tier_label = line.from_tier_id.display_name or no_tier
            line.to_tier_label = line.to_tier_id.display_name or no_tier
