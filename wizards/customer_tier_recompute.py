import uuid
from datetime import timedelta

from dateutil.relativedelta import relativedelta
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
    """Preview a full recompute, then apply exactly what was previewed.

    The preview lists the moves Apply makes (``line_ids``) and, beside them,
    the customers whose downgrade grace starts (they become at risk, with the
    date they would drop) or ends without a move (``risk_line_ids``). With
    ``reclassify`` the recompute is a re-classification: downgrades apply at
    once, without grace (cause ``reclassify``).
    """

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
    reclassify = fields.Boolean(
        string="Re-classify now (no grace)",
        help="After a change of method, revenue basis or bounds: every customer "
        "takes its computed tier at once, downgrades included, without the "
        "downgrade grace of the daily evaluation. Tier moves are logged with "
        "the cause Re-classification.",
    )
    line_ids = fields.One2many(
        "customer.tier.recompute.line",
        "wizard_id",
        domain=[("kind", "=", "move")],
        readonly=True,
    )
    risk_line_ids = fields.One2many(
        "customer.tier.recompute.line",
        "wizard_id",
        string="Grace Periods",
        domain=[("kind", "!=", "move")],
        readonly=True,
    )
    count_up = fields.Integer(string="Up", readonly=True)
    count_down = fields.Integer(string="Down", readonly=True)
    count_new = fields.Integer(string="New", readonly=True)
    count_same = fields.Integer(string="Unchanged", readonly=True)
    count_at_risk = fields.Integer(string="Become at Risk", readonly=True)
    count_risk_ends = fields.Integer(string="Risk Ends", readonly=True)
    first_drop_date = fields.Date(
        readonly=True,
        help="Date of the first downgrade at the end of a grace period that "
        "this recompute starts (see the lines' drop dates).",
    )
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
        rows, changes = engine.plan(
            self.eval_date, force_apply=True, reclassify=self.reclassify
        )
        old_state = engine._load_state()
        History = self.env["customer.tier.history"]
        Tier = self.env["customer.tier"]
        lines = []
        counts = {"up": 0, "down": 0, "new": 0}
        per_tier = {}
        moved = set()
        for pid, old, new, cause in changes:
            direction = History._direction(Tier.browse(old), Tier.browse(new))
            if direction == "same":
                continue
            moved.add(pid)
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
        risks = self._risk_lines(rows, old_state, moved)
        drops = [vals["drop_date"] for vals in risks if vals["drop_date"]]
        (self.line_ids | self.risk_line_ids).unlink()
        self.write(
            {
                "state": "preview",
                "line_ids": [(0, 0, vals) for vals in lines],
                "risk_line_ids": [(0, 0, vals) for vals in risks],
                "count_up": counts["up"],
                "count_down": counts["down"],
                "count_new": counts["new"],
                "count_same": len(rows) - len(lines),
                "count_at_risk": sum(v["kind"] == "at_risk" for v in risks),
                "count_risk_ends": sum(v["kind"] == "risk_ends" for v in risks),
                "first_drop_date": min(drops) if drops else False,
            }
        )
        sentence = self._summary_sentence_html()
        # (no table of moves under the sentence when only graces start or end)
        table = self._summary_html(per_tier) if per_tier or not sentence else Markup()
        self.summary = sentence + table
        return self._reopen()

    def _risk_lines(self, rows, old_state, moved):
        """Preview lines of the customers whose downgrade grace starts (they
        become at risk: tier kept, the lower tier pending, with the date they
        would drop) or ends without a move of their tier (risk ends)."""
        lines = []
        for pid, row in rows.items():
            pending = row.get("downgrade_tier_id")
            was_pending = (old_state.get(pid) or {}).get("downgrade_tier_id")
            if pending and not was_pending:
                kind = "at_risk"
            elif was_pending and not pending and pid not in moved:
                kind = "risk_ends"
            else:
                continue
            lines.append(
                {
                    "kind": kind,
                    "partner_id": pid,
                    "from_tier_id": row["tier_id"],
                    "to_tier_id": row["tier_id"],
                    "pending_tier_id": pending,
                    "drop_date": self._drop_date(row) if pending else False,
                    "revenue_to_keep": row.get("revenue_to_keep") or 0.0,
                    "revenue_window": row["revenue_window"],
                    "order_count_window": row["order_count_window"],
                    "recency_days": row["recency_days"],
                    "cumulative_share": row["cumulative_share"],
                }
            )
        return lines

    def _evaluation_step(self):
        """Time between two full evaluations of the program: the interval of
        the scheduled recompute (an interval under a day counts as a day: the
        grace counts one evaluation per date); None when no scheduled
        evaluation moves tiers (the cron is inactive, or the program does not
        apply computed tiers automatically: only a manager's Apply does)."""
        cron = self.env.ref(
            "customer_tier.ir_cron_customer_tier_recompute", raise_if_not_found=False
        )
        cron = cron and cron.sudo()
        if not cron or not cron.active or not self.program_id.auto_apply:
            return None
        if cron.interval_type in ("days", "weeks", "months"):
            return relativedelta(**{cron.interval_type: cron.interval_number})
        return relativedelta(days=1)

    def _drop_date(self, row):
        """Date of the scheduled evaluation that spends the grace of an at-risk
        ``row`` (its downgrade applies then, unless the customer qualifies
        again), assuming the scheduled evaluations run from the evaluation
        date at the scheduled recompute's interval (:meth:`_evaluation_step`,
        by default one full evaluation a day): unit evaluations, the one that
        brings the count to the grace length; unit days, the first one at
        least the grace length after the grace started (``downgrade_since``;
        with daily evaluations that date). False when no scheduled evaluation
        applies it."""
        step = self._evaluation_step()
        program = self.program_id
        if step is None:
            return False
        if program.grace_unit == "days":
            due = row["downgrade_since"] + timedelta(days=program.grace_length)
            drop = self.eval_date
            while drop < due:
                drop += step
            return drop
        return self.eval_date + step * max(
            program.grace_length - row["downgrade_count"], 1
        )

    def _summary_sentence_html(self):
        """One sentence: the moves applied now, the customers who become at
        risk (with the first drop date) and those whose risk ends."""
        env = self.env
        if not (
            self.count_up or self.count_down or self.count_new or self.risk_line_ids
        ):
            return Markup()
        if self.count_up or self.count_down or self.count_new:
            sentence = env._(
                "%(up)s up, %(down)s down, %(new)s new now",
                up=self.count_up,
                down=self.count_down,
                new=self.count_new,
            )
        else:
            sentence = env._("No customer changes tier now")
        clauses = []
        if self.count_at_risk and self.first_drop_date:
            clauses.append(
                env._(
                    "%(count)s become at risk (first drop on %(date)s)",
                    count=self.count_at_risk,
                    date=format_date(env, self.first_drop_date),
                )
            )
        elif self.count_at_risk:
            clauses.append(
                env._(
                    "%(count)s become at risk (no scheduled evaluation applies "
                    "the drop)",
                    count=self.count_at_risk,
                )
            )
        if self.count_risk_ends:
            clauses.append(env._("risk ends for %(count)s", count=self.count_risk_ends))
        for clause in clauses:
            sentence = env._("%(summary)s; %(clause)s", summary=sentence, clause=clause)
        if self.reclassify:
            sentence = env._(
                "Re-classification (no grace): %(summary)s", summary=sentence
            )
        return Markup("<p class='fw-bold'>%s</p>") % sentence

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
        if self._runs_in_background():
            request = self.env["customer.tier.recompute.request"]._queue(
                self, uuid.uuid4().hex
            )
            self.state = "done"
            return self._queued_notification(request)
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
            self.eval_date,
            force_apply=True,
            run_ref=run_ref,
            reclassify=self.reclassify,
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

    def _runs_in_background(self):
        """A recompute of more customers than the program's batch size runs
        in the background, in batches, with progress (a smaller one at once)."""
        return self.count_same + len(self.line_ids) > self.program_id.batch_size

    def _queued_notification(self, request):
        """Apply of a large recompute: it runs in the background; the
        request's form (its progress) opens behind the notification."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Recompute running in the background"),
                "message": self.env._(
                    "%(count)s customers are evaluated in batches of %(batch)s. "
                    "A note on the tier program tells you when it is done.",
                    count=request.total,
                    batch=self.program_id.batch_size,
                ),
                "type": "info",
                "sticky": True,
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": request._name,
                    "res_id": request.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
        }

    def _applied_notification(self, run_ref):
        """What Apply moved, as a notification; when something moved, the
        tier moves of this run (and only them) open behind it."""
        title = (
            self.env._("Customers re-classified")
            if self.reclassify
            else self.env._("Tiers recomputed")
        )
        if self.line_ids:
            message = self._applied_summary()
            kind, after = (
                "success",
                self.env["customer.tier.history"]._run_action(run_ref, self.eval_date),
            )
        else:
            message = self.env._("No customer changed tier.")
            kind, after = "info", {"type": "ir.actions.act_window_close"}
        if self.reclassify:
            message = self.env._(
                "Re-classification (no grace): %(summary)s", summary=message
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind == "success",
                "next": after,
            },
        }

    def _applied_summary(self):
        """ "N up, M down, K new." of the applied lines, with the moves from and
        to no tier counted apart."""
        counts = {"up": 0, "down": 0, "new": 0, "from_none": 0, "to_none": 0}
        for line in self.line_ids:
            counts[line.direction] += 1
            counts["from_none"] += not line.from_tier_id
            counts["to_none"] += not line.to_tier_id
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
        return message


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
    kind = fields.Selection(
        [
            ("move", "Moves Now"),
            ("at_risk", "Becomes at Risk"),
            ("risk_ends", "Risk Ends"),
        ],
        string="Status",
        default="move",
        required=True,
        readonly=True,
    )
    pending_tier_id = fields.Many2one(
        "customer.tier",
        string="Would Drop To",
        readonly=True,
        help="The lower tier the customer qualifies for: it applies when the "
        "grace runs out, unless the customer qualifies again before.",
    )
    drop_date = fields.Date(
        string="Would Drop On",
        readonly=True,
        help="Date of the scheduled evaluation that spends the grace, assuming "
        "the scheduled recompute runs at its interval from the evaluation date "
        "(by default one full evaluation a day). Empty when no scheduled "
        "evaluation applies tiers (the program does not apply them "
        "automatically, or the scheduled recompute is inactive).",
    )
    revenue_to_keep = fields.Monetary(string="Revenue to Keep", readonly=True)
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
