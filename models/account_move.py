"""Tier points credited on invoice posting (tier program ``loyalty_credit_on``
= invoice).

A posted customer invoice credits, on the card of each invoiced order's
customer, the points of the invoiced amount: the program's rules on the
untaxed amount of the invoice lines of that order converted to company
currency with the order's ``currency_rate`` (so invoicing a whole order
credits what confirming it would have), times the customer's current tier
multiplier, rounded down. A posted credit note debits the points of the
amount it refunds: the same share of the points its invoice credited, or at
the current multiplier when it refunds no credited invoice; never more than
the card holds. Resetting either to draft removes its line and restores the
balance. One history line per (move, card), linked to the move, so posting
twice never credits twice; an order credited on confirmation (before the
program switched to invoice posting) is not credited again.
"""

from collections import defaultdict

from odoo import models

from .customer_tier_loyalty import PAYMENT_PROGRAM_TYPES, round_points, rule_points

MOVE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.move_type in MOVE_TYPES)._tier_points_post()
        return posted

    def button_draft(self):
        posted = self.filtered(
            lambda m: m.state == "posted" and m.move_type in MOVE_TYPES
        )
        res = super().button_draft()
        posted._tier_points_unpost()
        return res

    def _tier_points_history(self, cards=None):
        domain = [("order_model", "=", "account.move"), ("order_id", "in", self.ids)]
        if cards is not None:
            domain.append(("card_id", "in", cards.ids))
        return self.env["loyalty.history"].sudo().search(domain)

    def _tier_points_by_order(self):
        """(tier program, order) -> (items, currency rate) of this move's lines."""
        self.ensure_one()
        Program = self.env["customer.tier.program"].sudo()
        programs = {}
        items = defaultdict(list)
        for line in self.invoice_line_ids:
            sale_lines = line.sale_line_ids
            order = sale_lines.order_id[:1]
            if not order or not line.product_id:
                continue
            if sale_lines.reward_id.program_id.program_type in PAYMENT_PROGRAM_TYPES:
                continue
            if order.company_id not in programs:
                programs[order.company_id] = Program._get_for_company(order.company_id)
            program = programs[order.company_id]
            if not program.loyalty_program_id or program.loyalty_credit_on != "invoice":
                continue
            quantity = 0.0 if sale_lines.reward_id else line.quantity
            items[program, order].append(
                (line.product_id, quantity, line.price_subtotal, line.price_total)
            )
        return items

    def _tier_points_post(self):
        Card = self.env["loyalty.card"].sudo().with_context(loyalty_no_mail=True)
        History = self.env["loyalty.history"].sudo()
        for move in self:
            points_by_card = defaultdict(float)
            orders_by_card = defaultdict(list)
            for (program, order), items in move._tier_points_by_order().items():
                loyalty = program.loyalty_program_id.sudo()
                if not loyalty.active:
                    continue
                base = rule_points(loyalty, items, order.currency_rate)
                multiplier = order._tier_points_multiplier(program)
                card = Card.search(
                    [
                        ("program_id", "=", loyalty.id),
                        ("partner_id", "=", order.partner_id.id),
                    ],
                    limit=1,
                )
                if not card:
                    if move.move_type == "out_refund" or not base * multiplier:
                        continue
                    card = Card.create(
                        {"program_id": loyalty.id, "partner_id": order.partner_id.id}
                    )
                if move._tier_points_history(card) or History.search_count(
                    [
                        ("card_id", "=", card.id),
                        ("order_model", "=", "sale.order"),
                        ("order_id", "=", order.id),
                        ("issued", ">", 0),
                    ],
                    limit=1,
                ):
                    continue  # already booked, or credited on confirmation
                points_by_card[card] += move._tier_points_amount(card, base, multiplier)
                orders_by_card[card].append(order.name)
            for card, points in points_by_card.items():
                points = round_points(points)
                if move.move_type == "out_refund":
                    points = min(points, max(card.points, 0.0))
                if not points:
                    continue
                refund = move.move_type == "out_refund"
                History.create(
                    {
                        "card_id": card.id,
                        "order_model": "account.move",
                        "order_id": move.id,
                        "points_date": move.invoice_date,
                        "issued": 0.0 if refund else points,
                        "used": points if refund else 0.0,
                        "description": self.env._(
                            "%(move)s (%(orders)s)",
                            move=move.name,
                            orders=", ".join(orders_by_card[card]),
                        ),
                    }
                )
                card.points += -points if refund else points

    def _tier_points_amount(self, card, base, multiplier):
        """Points of ``base`` for this move: a credit note refunds the same
        share of the points its invoice credited on ``card``."""
        self.ensure_one()
        invoice = self.reversed_entry_id
        if self.move_type == "out_refund" and invoice:
            credit = invoice._tier_points_history(card)
            invoice_base = sum(
                rule_points(
                    program.loyalty_program_id.sudo(), items, order.currency_rate
                )
                for (program, order), items in invoice._tier_points_by_order().items()
                if program.loyalty_program_id == card.program_id
                and order.partner_id == card.partner_id
            )
            if credit and invoice_base:
                return sum(credit.mapped("issued")) * base / invoice_base
        return base * multiplier

    def _tier_points_unpost(self):
        lines = self._tier_points_history()
        cards = lines.card_id.with_context(loyalty_no_mail=True)
        for line in lines:
            line.card_id.with_context(loyalty_no_mail=True).points += (
                line.used - line.issued
            )
        lines.unlink()
        cards._tier_expire_points()
