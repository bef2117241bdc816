"""Points expiry on the cards of tier points programs.

Each credit (a history line with points issued) is a lot that expires on its
``points_expiration_date``. Redemptions and other debits (points used) take
the oldest lots first (FIFO) among the lots still valid on the day of the
debit; only when those do not cover it (a debit of points whose expiry was
not written yet) do they take already expired lots, oldest first. Expiry
lines (``points_expiry_type`` expiry / reversal) are not debits: they are
what the rule writes. On a given day, the points due to expire are the
remainders of the lots expired by then, less the net points already written
off by expiry lines; writing them (and only them) keeps the card's balance
equal to the sum of its history and makes a rerun change nothing.
"""

from collections import defaultdict
from datetime import date, timedelta

from odoo import api, fields, models
from odoo.tools import float_compare, float_is_zero

PRECISION = 2


def fifo_lots(lines):
    """Lots left after FIFO consumption, and the net points already expired.

    ``lines``: dicts with ``id``, ``points_date``, ``issued``, ``used``,
    ``points_expiration_date`` and ``points_expiry_type``, any order.
    Returns ``(lots, written)``: ``lots`` a list of ``[expiration_date or
    None, remaining points]`` in credit order, ``written`` the points written
    off by expiry lines net of expiry reversals.
    """
    lots = []
    written = 0.0
    ordered = sorted(
        lines, key=lambda line: (line["points_date"] or date.min, line["id"])
    )
    for line in ordered:
        issued, used = line["issued"] or 0.0, line["used"] or 0.0
        if line["points_expiry_type"] == "expiry":
            written += used - issued
            continue
        if line["points_expiry_type"] == "reversal":
            written -= issued - used
            continue
        if issued > 0:
            lots.append([line["points_expiration_date"] or None, issued])
        debit = used + (-issued if issued < 0 else 0.0)
        if debit <= 0:
            continue
        day = line["points_date"] or date.min
        valid = [lot for lot in lots if not lot[0] or lot[0] > day]
        expired = [lot for lot in lots if lot[0] and lot[0] <= day]
        for lot in valid + expired:
            take = min(lot[1], debit)
            lot[1] -= take
            debit -= take
            if debit <= 0:
                break
    return lots, written


def points_due(lots, written, day):
    """Points to write off on ``day`` (negative: to give back)."""
    expired = sum(remaining for expiry, remaining in lots if expiry and expiry <= day)
    return round(expired - written, PRECISION)


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    is_tier_points_program = fields.Boolean(related="program_id.is_tier_points_program")
    points_expiring_soon = fields.Float(
        string="Expiring Soon",
        compute="_compute_points_expiry",
        help="Tier points programs: points that expire within the program's "
        "notice period (30 days by default), including points already due "
        "that the daily expiry run has not written off yet.",
    )
    points_next_expiration_date = fields.Date(
        string="Next Expiry",
        compute="_compute_points_expiry",
        help="First day on which some of the card's points expire.",
    )

    @api.depends("points", "history_ids.issued", "history_ids.used")
    @api.depends_context("uid")
    def _compute_points_expiry(self):
        today = fields.Date.context_today(self)
        lots_by_card = self._tier_points_lots()
        notice_by_program = {
            program: program._tier_program().loyalty_expiry_notice_days
            for program in self.program_id
        }
        for card in self:
            notice = notice_by_program.get(card.program_id, 0)
            lots, written = lots_by_card.get(card.id, ([], 0.0))
            horizon = today + timedelta(days=notice)
            soon = points_due(lots, written, horizon)
            card.points_expiring_soon = max(min(soon, card.points), 0.0)
            upcoming = [
                expiry
                for expiry, remaining in lots
                if expiry
                and not float_is_zero(remaining, precision_digits=PRECISION)
                and expiry > today
            ]
            due_now = points_due(lots, written, today) > 0
            card.points_next_expiration_date = (
                today if due_now else min(upcoming, default=False)
            )

    def _tier_points_lots(self):
        """Card id -> ``fifo_lots`` of its history, from one read."""
        cards = self.filtered(lambda c: c.id and c.program_id.is_tier_points_program)
        if not cards:
            return {}
        rows = (
            self.env["loyalty.history"]
            .sudo()
            .search_read(
                [("card_id", "in", cards.ids)],
                [
                    "card_id",
                    "points_date",
                    "issued",
                    "used",
                    "points_expiration_date",
                    "points_expiry_type",
                ],
                load=False,
            )
        )
        by_card = defaultdict(list)
        for row in rows:
            by_card[row["card_id"]].append(row)
        return {card_id: fifo_lots(lines) for card_id, lines in by_card.items()}

    def _tier_expire_points(self, day=None):
        """Write the expiry (or expiry reversal) lines due on ``day``.

        Points written off never exceed the card's balance, so a balance never
        turns negative; points are given back (reversal) when the credit they
        expired from was cancelled. Marks the credits expired by ``day`` as
        processed. Returns the history lines created.
        """
        day = day or fields.Date.context_today(self)
        cards = self.sudo().filtered("program_id.is_tier_points_program")
        lots_by_card = cards._tier_points_lots()
        vals_list = []
        for card in cards:
            lots, written = lots_by_card.get(card.id, ([], 0.0))
            due = points_due(lots, written, day)
            if float_compare(due, 0.0, precision_digits=PRECISION) > 0:
                due = round(min(due, max(card.points, 0.0)), PRECISION)
                if float_is_zero(due, precision_digits=PRECISION):
                    continue
                vals_list.append(
                    {
                        "card_id": card.id,
                        "points_date": day,
                        "used": due,
                        "issued": 0.0,
                        "points_expiry_type": "expiry",
                        "description": self.env._("Points expired"),
                    }
                )
            elif float_compare(due, 0.0, precision_digits=PRECISION) < 0:
                vals_list.append(
                    {
                        "card_id": card.id,
                        "points_date": day,
                        "issued": -due,
                        "used": 0.0,
                        "points_expiry_type": "reversal",
                        "description": self.env._(
                            "Expired points given back (cancelled credit)"
                        ),
                    }
                )
        History = self.env["loyalty.history"].sudo()
        lines = History.create(vals_list)
        cards = cards.with_context(loyalty_no_mail=True, tracking_disable=True)
        for line in lines:
            card = cards.browse(line.card_id.id)
            card.points = round(card.points + line.issued - line.used, PRECISION)
        History.search(
            [
                ("card_id", "in", cards.ids),
                ("points_expiration_date", "<=", day),
                ("points_expiry_done", "=", False),
            ]
        ).points_expiry_done = True
        return lines

    def action_view_tier_points_history(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "customer_tier.loyalty_history_action_tier_points"
        )
        action["domain"] = [("card_id", "in", self.ids)]
        action["context"] = {"create": False}
        return action
