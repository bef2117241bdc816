"""A recompute a manager applied, run in the background in batches.

The recompute wizard applies a large recompute (more customers than the
program's batch size) here instead of at once: the request records what was
previewed (date, re-classification, the moves) and who asked, and triggers
the scheduled recompute, which runs it batch by batch before its daily work
(``customer.tier.program._cron_recompute``), committing and reporting
progress after each batch (``ir.cron._notify_progress``). When it is done, a
note on the program's chatter notifies the manager, with the tier moves of
the run one click away.
"""

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import format_date
from odoo.tools.sql import SQL

_logger = logging.getLogger(__name__)


class CustomerTierRecomputeRequest(models.Model):
    _name = "customer.tier.recompute.request"
    _description = "Background Tier Recompute"
    _order = "id desc"
    _rec_name = "program_id"

    program_id = fields.Many2one(
        "customer.tier.program", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True
    )
    eval_date = fields.Date(string="Evaluation Date", required=True, readonly=True)
    reclassify = fields.Boolean(string="Re-classification", readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Requested By", required=True, readonly=True
    )
    run_ref = fields.Char(string="Run", required=True, readonly=True, copy=False)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="queued",
        required=True,
        readonly=True,
    )
    # moves the preview showed: {partner id: [from tier id, to tier id]}
    planned_moves = fields.Json(readonly=True)
    cursor = fields.Integer(
        readonly=True, help="Partner id of the last customer written."
    )
    total = fields.Integer(string="Customers", readonly=True)
    done_count = fields.Integer(string="Written", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    count_up = fields.Integer(string="Up", readonly=True)
    count_down = fields.Integer(string="Down", readonly=True)
    count_new = fields.Integer(string="New", readonly=True)
    count_differs = fields.Integer(
        string="Moves Unlike the Preview",
        readonly=True,
        help="Moves that differ from the preview: orders changed between the "
        "preview and the batch that evaluated the customer.",
    )
    date_done = fields.Datetime(string="Done On", readonly=True)

    @api.depends("done_count", "total")
    def _compute_progress(self):
        for request in self:
            request.progress = (
                100.0 * request.done_count / request.total if request.total else 0.0
            )

    def action_view_moves(self):
        """The tier moves this run wrote (so far)."""
        self.ensure_one()
        return self.env["customer.tier.history"]._run_action(
            self.run_ref, self.eval_date
        )

    @api.model
    def _cron_process(self):
        """One batch of the oldest open request, as the scheduled recompute's
        first work. Returns ``(written, remaining)``, or None when no request
        is open."""
        request = self.search([("state", "in", ("queued", "running"))], order="id")[:1]
        if not request:
            return None
        try:
            with self.env.cr.savepoint():
                return request._run_batch()
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            # (as the daily batches: dropped, run again shortly)
            _logger.info(
                "Tier recompute request %s: batch interrupted by a concurrent "
                "update (%s), run again shortly.",
                request.id,
                exc.pgcode,
            )
            self.env.invalidate_all()
            self.env.ref(
                "customer_tier.ir_cron_customer_tier_recompute"
            ).sudo()._trigger(at=fields.Datetime.now() + timedelta(minutes=1))
            return 0, max(request.total - request.done_count, 1)
        except Exception:
            _logger.exception("Tier recompute request %s failed.", request.id)
            self.env.invalidate_all()
            request.state = "failed"
            request.program_id.sudo().message_post(
                body=request.with_context(lang=request.user_id.lang).env._(
                    "The tier recompute of %(date)s failed; the customers "
                    "written before the failure keep their new tiers.",
                    date=format_date(self.env, request.eval_date),
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                partner_ids=request.user_id.partner_id.ids,
            )
            return 0, 0

    def _run_batch(self):
        """Write the next ``batch_size`` profiles of the request, as its
        requester would in the wizard (language, company), and count its
        moves; the last batch marks it done and notifies the requester."""
        self.ensure_one()
        program = self.program_id.with_user(self.user_id).with_context(
            lang=self.user_id.lang, allowed_company_ids=self.company_id.ids
        )
        engine = program._engine()
        result = engine.run(
            self.eval_date,
            batch_size=program.batch_size,
            force_apply=True,
            run_ref=self.run_ref,
            reclassify=self.reclassify,
            batch_after=self.cursor,
        )
        counts = self._count_moves(result["changes"], engine.batch_ids)
        done = self.done_count + result["written"]
        self.write(
            {
                "state": "running" if result["remaining"] else "done",
                "cursor": max(engine.batch_ids, default=self.cursor),
                "done_count": done,
                "total": max(self.total, done + result["remaining"]),
                "count_up": self.count_up + counts["up"],
                "count_down": self.count_down + counts["down"],
                "count_new": self.count_new + counts["new"],
                "count_differs": self.count_differs + counts["differs"],
            }
        )
        if not result["remaining"]:
            self.date_done = fields.Datetime.now()
            self._notify_done()
        return result["written"], result["remaining"]

    def _count_moves(self, changes, batch_ids):
        """Moves up, down and new among ``changes``, and the customers of the
        batch whose move differs from the preview's."""
        History = self.env["customer.tier.history"]
        Tier = self.env["customer.tier"]
        counts = {"up": 0, "down": 0, "new": 0, "same": 0}
        applied = {}
        for pid, old, new, _cause in changes:
            direction = History._direction(Tier.browse(old), Tier.browse(new))
            counts[direction] += 1
            if direction != "same":
                applied[pid] = [old or False, new or False]
        planned = {
            int(pid): move
            for pid, move in (self.planned_moves or {}).items()
            if int(pid) in batch_ids
        }
        counts["differs"] = sum(
            applied.get(pid) != planned.get(pid) for pid in set(applied) | set(planned)
        )
        return counts

    def _summary(self):
        message = self.env._(
            "%(up)s up, %(down)s down, %(new)s new.",
            up=self.count_up,
            down=self.count_down,
            new=self.count_new,
        )
        if self.reclassify:
            message = self.env._(
                "Re-classification (no grace): %(summary)s", summary=message
            )
        if self.count_differs:
            message += " " + self.env._(
                "%(count)s moves differ from the preview (orders changed since).",
                count=self.count_differs,
            )
        return message

    def _notify_done(self):
        """A note on the program, to the requester (inbox), with the link to
        this request (its tier moves one click away), and a notification in
        the requester's open browser."""
        request = self.with_context(lang=self.user_id.lang)
        env = request.env
        title = env._(
            "Tier recompute of %(date)s done",
            date=format_date(env, self.eval_date),
        )
        summary = request._summary()
        body = Markup("<p>%s</p><p>%s <a href='/odoo/%s/%s'>%s</a></p>") % (
            title,
            summary,
            self._name,
            self.id,
            env._("Tier moves of this recompute"),
        )
        self.program_id.sudo().message_post(
            body=body,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=self.user_id.partner_id.ids,
        )
        self.user_id._bus_send(
            "simple_notification",
            {"title": title, "message": summary, "sticky": True, "type": "success"},
        )

    @api.model
    def _queue(self, wizard, run_ref):
        """Record what ``wizard`` previewed and trigger the scheduled
        recompute to run it (the wizard checked the user may)."""
        request = self.sudo().create(
            {
                "program_id": wizard.program_id.id,
                "eval_date": wizard.eval_date,
                "reclassify": wizard.reclassify,
                "user_id": self.env.uid,
                "run_ref": run_ref,
                "planned_moves": {
                    str(line.partner_id.id): [
                        line.from_tier_id.id,
                        line.to_tier_id.id,
                    ]
                    for line in wizard.line_ids
                },
                "total": wizard.count_same + len(wizard.line_ids),
            }
        )
        cron = self.env.ref(
            "customer_tier.ir_cron_customer_tier_recompute", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger()
        return request.sudo(False)

    @api.model
    def _open_count(self):
        """Customers left to write in the open requests (at least 1 each)."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT COALESCE(SUM(GREATEST(total - done_count, 1)), 0) "
                "FROM customer_tier_recompute_request "
                "WHERE state IN ('queued', 'running')"
            )
        )
        return rows[0][0]
