"""Loyalty points per tier, on Odoo's own loyalty programs.

Every company's tier program links a ``loyalty.program`` of type Loyalty
Cards (``loyalty_program_id``, created by the module: one rule "1 point per
100 units spent", three rewards). Points are credited, redeemed and reversed by
``sale_loyalty`` itself (cards, ``sale.order.coupon.points``, history lines),
so the standard screens show them and a balance is always the sum of its
history. The module only changes, for linked programs:

* how many points an order earns (``_program_check_compute_points``): the
  program's rules applied to the untaxed amount in company currency (order
  amount divided by the order's ``currency_rate``, as the tier figures do;
  rewards paid with points, eWallets and gift cards do not count), times the
  multiplier of the customer's tier (``loyalty_new_customer_multiplier`` for
  customers without a customer tier), rounded down to whole points. The
  program credits points for future orders (``applies_on`` future); an order
  never pays with the points it earns itself;
* when: on confirmation (Odoo's own flow, reversed by cancelling the order),
  or, when the tier program says so, on invoice posting (see
  ``models/account_move.py``; the order then earns nothing on confirmation);
* who may redeem (``_get_claimable_rewards``, ``_apply_program_reward``): the
  customer's tier must be a customer tier that may redeem, and one of the
  reward's tiers when it lists some; discounts on specific products (freight,
  sample fees) are only offered when the order has such a line to discount;
* expiry (``models/loyalty_card.py``): each credit expires after
  ``loyalty_expiry_months``; a daily cron writes expiry history lines.
"""

import math
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_round

from ..hooks import KEPT_MODULE
from .customer_tier_bounds import (
    MAX_FACTOR,
    MAX_MONTHS,
    MAX_NOTICE_DAYS,
    check_bounds,
)

GIFT_TAG = "customer_tier.product_tag_loyalty_gift"
FREIGHT_PRODUCT = "customer_tier.product_tier_freight"
SAMPLE_FEE_PRODUCT = "customer_tier.product_tier_sample_fee"
STATEMENT_TEMPLATE = "customer_tier.mail_template_tier_points_statement"
# Number of recent movements on the partner and in the statement.
STATEMENT_LINES = 10
# Reward lines paid with points or with money on account: not revenue.
PAYMENT_PROGRAM_TYPES = ("loyalty", "ewallet", "gift_card")
# Range of the loyalty numbers a manager types (inclusive). The lower bounds
# left at None are refused by the older checks (_check_loyalty_numbers,
# _check_points_multiplier).
PROGRAM_BOUNDS = {
    "loyalty_expiry_months": (None, MAX_MONTHS),
    "loyalty_expiry_notice_days": (None, MAX_NOTICE_DAYS),
    "loyalty_new_customer_multiplier": (None, MAX_FACTOR),
}
TIER_BOUNDS = {"points_multiplier": (None, MAX_FACTOR)}


def round_points(points):
    """Whole points, rounded down (after absorbing float noise)."""
    return float(math.floor(float_round(points, precision_digits=6)))


def rule_points(program, items, currency_rate, currency=None):
    """Points (before the tier multiplier) the rules of ``program`` give.

    ``items``: ``(product, quantity, untaxed, total)`` tuples in the document
    currency (quantity 0 for reward lines). A rule counts the items whose
    product it accepts: "per money spent" gives its points per unit of their
    untaxed amount in company currency (``untaxed / currency_rate``), "per
    unit" per unit bought, "per order" once. With ``currency`` (an order), the
    rule's minimum purchase and quantity must be reached; without (invoices,
    credit notes), minimums do not apply.
    """
    if not items:
        return 0.0
    products = program.env["product.product"].browse({item[0].id for item in items})
    points = 0.0
    for rule, valid in program._get_valid_products(products).items():
        if rule.mode != "auto" or not rule.reward_point_amount:
            continue
        matched = [item for item in items if item[0] in valid]
        if not matched:
            continue
        quantity = sum(item[1] for item in matched)
        untaxed = sum(item[2] for item in matched)
        total = sum(item[3] for item in matched)
        if currency:
            base = total if rule.minimum_amount_tax_mode == "incl" else untaxed
            if rule._compute_amount(currency) > base or quantity < rule.minimum_qty:
                continue
        if rule.reward_point_mode == "money":
            points += rule.reward_point_amount * untaxed / (currency_rate or 1.0)
        elif rule.reward_point_mode == "unit":
            points += rule.reward_point_amount * quantity
        else:
            points += rule.reward_point_amount
    return max(points, 0.0)


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Points Program",
        copy=False,
        check_company=True,
        domain="[('program_type', '=', 'loyalty'), ('company_id', '=', company_id)]",
        help="Odoo loyalty program (type Loyalty Cards) through which the "
        "customers of this company earn and redeem tier points. Its rules say "
        "how many points a unit of untaxed amount (company currency) earns; "
        "each tier multiplies them.",
    )
    loyalty_credit_on = fields.Selection(
        [("confirm", "Order confirmation"), ("invoice", "Invoice posting")],
        string="Credit Points On",
        required=True,
        default="confirm",
        help="Order confirmation: the order's points are credited when it is "
        "confirmed and reversed when it is cancelled.\n"
        "Invoice posting: the points of the invoiced amount are credited when "
        "a customer invoice is posted, debited when a credit note is posted, "
        "and reversed when the invoice is reset to draft.",
    )
    loyalty_expiry_months = fields.Integer(
        string="Points Expire After (months)",
        default=12,
        help="Each credit of points expires this many months after it was "
        "earned; redemptions use the oldest points first. 0: points never "
        "expire. Changing it applies to credits earned afterwards.",
    )
    loyalty_expiry_notice_days = fields.Integer(
        string="Expiring Soon Within (days)",
        default=30,
        help="Cards and partners show the points that expire within this many days.",
    )
    loyalty_new_customer_multiplier = fields.Float(
        string="Multiplier Without Tier",
        default=1.0,
        help="Points multiplier of customers that have no customer tier yet "
        "(e.g. a prospect's first order).",
    )

    @api.constrains(
        "loyalty_expiry_months",
        "loyalty_expiry_notice_days",
        "loyalty_new_customer_multiplier",
    )
    def _check_loyalty_numbers(self):
        for program in self:
            if (
                program.loyalty_expiry_months < 0
                or program.loyalty_expiry_notice_days < 0
            ):
                raise ValidationError(
                    self.env._("Points expiry and notice periods cannot be negative.")
                )
            if program.loyalty_new_customer_multiplier < 0:
                raise ValidationError(
                    self.env._("A points multiplier cannot be negative.")
                )

    @api.constrains(*PROGRAM_BOUNDS)
    def _check_value_bounds_loyalty(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, PROGRAM_BOUNDS, label=lambda program: program.name)

    @api.constrains("loyalty_program_id", "company_id")
    def _check_loyalty_program(self):
        for program in self.filtered("loyalty_program_id"):
            loyalty = program.loyalty_program_id
            if loyalty.program_type != "loyalty":
                raise ValidationError(
                    self.env._(
                        "The points program of %(program)s must be a program of "
                        "type Loyalty Cards.",
                        program=program.name,
                    )
                )
            if loyalty.company_id != program.company_id:
                raise ValidationError(
                    self.env._(
                        "The points program of %(program)s must belong to its "
                        "company %(company)s.",
                        program=program.name,
                        company=program.company_id.name,
                    )
                )
            others = self.with_context(active_test=False).search_count(
                [("loyalty_program_id", "=", loyalty.id), ("id", "!=", program.id)]
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "The loyalty program %(loyalty)s already credits the points "
                        "of another tier program.",
                        loyalty=loyalty.name,
                    )
                )

    def write(self, vals):
        res = super().write(vals)
        if "sample_fee_product_ids" in vals:
            self._loyalty_sync_sample_fee_rewards()
        return res

    def _loyalty_sync_sample_fee_rewards(self):
        """Sample fee waivers discount the program's sample fee products."""
        for program in self.filtered(
            lambda p: p.loyalty_program_id and p.sample_fee_product_ids
        ):
            rewards = (
                program.loyalty_program_id.sudo()
                .with_context(active_test=False)
                .reward_ids.filtered(lambda r: r.tier_reward_type == "sample_fee")
            )
            if rewards:
                rewards.discount_product_ids = program.sample_fee_product_ids

    # ------------------------------------------------------------------
    # The company's points program
    # ------------------------------------------------------------------
    @api.model
    def _create_default_program(self, company):
        program = super()._create_default_program(company)
        program._loyalty_ensure_program()
        return program

    @api.model
    def _loyalty_create_missing_programs(self):
        """Give every tier program without one its points program.

        Run at each module update: a manager stops points by archiving the
        points program, not by emptying the link.
        """
        self.sudo().search(
            [("loyalty_program_id", "=", False)]
        )._loyalty_ensure_program()

    def _loyalty_ensure_program(self):
        for program in self.sudo().filtered(lambda p: not p.loyalty_program_id):
            if program._loyalty_take_back_kept_program():
                continue
            values = program._loyalty_program_values()
            if not values["reward_ids"]:
                continue  # module data not loaded yet; its data file calls again
            program.loyalty_program_id = (
                self.env["loyalty.program"].sudo().create(values)
            )

    def _loyalty_take_back_kept_program(self):
        """Link the points program an uninstall archived for the company, if
        any, and make it earn again: the customers find their cards and
        points, and no second program is created. Rewards get back their
        place in the tier scheme (free goods, freight, sample fees); their
        tier restrictions were removed with the tiers. Returns it."""
        self.ensure_one()
        Data = self.env["ir.model.data"].sudo()
        data = Data.search(
            [
                ("module", "=", KEPT_MODULE),
                ("model", "=", "loyalty.program"),
                ("name", "=", self._loyalty_kept_name(self.company_id)),
            ],
            limit=1,
        )
        loyalty = (
            self.env["loyalty.program"]
            .sudo()
            .with_context(active_test=False)
            .browse(data.res_id)
            .exists()
        )
        if (
            not loyalty
            or loyalty.program_type != "loyalty"
            or loyalty.company_id != self.company_id
            or self.with_context(active_test=False).search_count(
                [("loyalty_program_id", "=", loyalty.id)]
            )
        ):
            data.unlink()
            return loyalty.browse()
        self.loyalty_program_id = loyalty
        loyalty.action_unarchive()  # rules and rewards too, as in the form
        data.unlink()
        gift_tag = self.env.ref(GIFT_TAG, raise_if_not_found=False)
        freight = self.env.ref(FREIGHT_PRODUCT, raise_if_not_found=False)
        sample_fees = self.sample_fee_product_ids | (
            self.env.ref(SAMPLE_FEE_PRODUCT, raise_if_not_found=False)
            or self.env["product.product"]
        )
        for reward in loyalty.with_context(active_test=False).reward_ids:
            if reward.tier_reward_type:
                continue
            if (
                reward.reward_type == "product"
                and gift_tag
                and (reward.reward_product_tag_id == gift_tag)
            ):
                reward.tier_reward_type = "gift"
            elif reward.reward_type == "discount" and (
                reward.discount_applicability == "specific"
            ):
                if freight and freight in reward.discount_product_ids:
                    reward.tier_reward_type = "freight"
                elif reward.discount_product_ids & sample_fees:
                    reward.tier_reward_type = "sample_fee"
        return loyalty

    @api.model
    def _loyalty_kept_name(self, company):
        """Name of the external id (module ``KEPT_MODULE``) of the points
        program of ``company`` kept by an uninstall."""
        return f"loyalty_program_company_{company.id}"

    @api.model
    def _loyalty_uninstall(self):
        """Uninstall: archive the points programs of the tier programs.

        Without the module, a program would go on crediting points by its
        bare rules (no tier multiplier, no tier restriction on rewards, no
        expiry), a scheme nobody configured; archived, it credits nothing
        while the cards, their points and their history stay with the
        customers. The points program of each company's current tier program
        gets an external id in ``KEPT_MODULE`` so that a reinstall takes it
        back (``_loyalty_take_back_kept_program``) instead of creating a
        second one.
        """
        programs = (
            self.sudo()
            .with_context(active_test=False)
            .search([("loyalty_program_id", "!=", False)], order="active desc, id desc")
        )
        programs.loyalty_program_id.action_archive()  # rules and rewards too
        Data = self.env["ir.model.data"].sudo()
        for company in programs.company_id:
            loyalty = programs.filtered(lambda p, c=company: p.company_id == c)[
                :1
            ].loyalty_program_id
            name = self._loyalty_kept_name(company)
            Data.search([("module", "=", KEPT_MODULE), ("name", "=", name)]).unlink()
            Data.create(
                {
                    "module": KEPT_MODULE,
                    "name": name,
                    "model": loyalty._name,
                    "res_id": loyalty.id,
                    "noupdate": True,
                }
            )

    def _loyalty_program_values(self):
        """Values of the shipped points program: 1 point per 100 units of
        company currency spent (untaxed), free goods (products tagged Loyalty
        Gift) for 200 points, half of the freight for 500 points, waived
        sample and courier fees for 50 points."""
        self.ensure_one()
        rewards = []
        tag = self.env.ref(GIFT_TAG, raise_if_not_found=False)
        if tag:
            rewards.append(
                {
                    "reward_type": "product",
                    "reward_product_tag_id": tag.id,
                    "reward_product_qty": 1,
                    "required_points": 200,
                    "description": self.env._(
                        "Free goods (%(tag)s products)", tag=tag.name
                    ),
                    "tier_reward_type": "gift",
                }
            )
        freight = self.env.ref(FREIGHT_PRODUCT, raise_if_not_found=False)
        if freight:
            rewards.append(
                {
                    "reward_type": "discount",
                    "discount": 50.0,
                    "discount_mode": "percent",
                    "discount_applicability": "specific",
                    "discount_product_ids": [Command.set(freight.ids)],
                    "required_points": 500,
                    "description": self.env._("50% of the freight"),
                    "tier_reward_type": "freight",
                }
            )
        sample_fees = self.sample_fee_product_ids or self.env.ref(
            SAMPLE_FEE_PRODUCT, raise_if_not_found=False
        )
        if sample_fees:
            rewards.append(
                {
                    "reward_type": "discount",
                    "discount": 100.0,
                    "discount_mode": "percent",
                    "discount_applicability": "specific",
                    "discount_product_ids": [Command.set(sample_fees.ids)],
                    "required_points": 50,
                    "description": self.env._("Sample and courier fees waived"),
                    "tier_reward_type": "sample_fee",
                }
            )
        return {
            "name": self.env._("Tier Points"),
            "program_type": "loyalty",
            "company_id": self.company_id.id,
            "currency_id": self.company_id.currency_id.id,
            "applies_on": "future",
            "trigger": "auto",
            "portal_visible": True,
            "portal_point_name": self.env._("Points"),
            "rule_ids": [
                Command.create(
                    {
                        "reward_point_mode": "money",
                        "reward_point_amount": 0.01,
                        "minimum_qty": 0,
                        "minimum_amount": 0.0,
                    }
                )
            ],
            "reward_ids": [Command.create(vals) for vals in rewards],
            "communication_plan_ids": [],
        }

    def action_create_loyalty_program(self):
        self.ensure_one()
        # the points program is created with sudo: managers of the program only
        self.check_access("write")
        self._loyalty_ensure_program()
        return self.action_open_loyalty_program()

    def action_open_loyalty_program(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Points Program"),
            "res_model": "loyalty.program",
            "view_mode": "form",
            "views": [(self.env.ref("loyalty.loyalty_program_view_form").id, "form")],
            "res_id": self.loyalty_program_id.id,
        }

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    @api.model
    def _cron_expire_loyalty_points(self):
        """Scheduled points expiry, one bounded batch of cards per call.

        A card is due when one of its credits reached its expiry date and has
        not been processed yet; processing writes what ``fifo_lots`` says is
        due and marks those credits, so a rerun writes nothing. Progress is
        reported so the cron runner commits and calls again until no card is
        left.
        """
        today = fields.Date.context_today(self)
        programs = self.with_context(active_test=False).search(
            [("loyalty_program_id", "!=", False)]
        )
        if not programs:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0, 0
        Card = self.env["loyalty.card"].sudo()
        domain = [
            ("program_id", "in", programs.loyalty_program_id.ids),
            (
                "history_ids",
                "any",
                [
                    ("points_expiration_date", "<=", today),
                    ("points_expiry_done", "=", False),
                ],
            ),
        ]
        cards = Card.search(domain, limit=max(min(programs.mapped("batch_size")), 1))
        cards._tier_expire_points(today)
        remaining = Card.search_count(domain) if cards else 0
        self.env["ir.cron"]._notify_progress(done=len(cards), remaining=remaining)
        return len(cards), remaining

    def _loyalty_backfill(self, date_from=None):
        """Credit the confirmed orders (from ``date_from``) that earned no
        points yet: starting the points scheme on an existing database, or
        demo data generated while the points program was archived.

        Each order earns at the current tier of its customer, through Odoo's
        own order points (``sale.order.coupon.points``, so cancelling it
        reverses them) and a history line dated on the order date; the
        expiries due today are then written. Returns the orders credited.
        """
        History = self.env["loyalty.history"].sudo()
        Card = (
            self.env["loyalty.card"]
            .sudo()
            .with_context(loyalty_no_mail=True, tracking_disable=True)
        )
        credited = self.env["sale.order"]
        for program in self.filtered(
            lambda p: p.loyalty_program_id.active and p.loyalty_credit_on == "confirm"
        ):
            loyalty = program.loyalty_program_id.sudo()
            done = History.search(
                [
                    ("card_id.program_id", "=", loyalty.id),
                    ("order_model", "=", "sale.order"),
                ]
            ).mapped("order_id")
            domain = [
                ("company_id", "=", program.company_id.id),
                ("state", "=", "sale"),
                ("id", "not in", done),
            ]
            if date_from:
                domain.append(("date_order", ">=", date_from))
            cards = {}
            orders = (
                self.env["sale.order"].sudo().search(domain, order="date_order, id")
            )
            for order in orders:
                points = order._tier_points_earned(loyalty)
                if not points:
                    continue
                partner = order.partner_id
                if partner not in cards:
                    cards[partner] = Card.search(
                        [
                            ("program_id", "=", loyalty.id),
                            ("partner_id", "=", partner.id),
                        ],
                        limit=1,
                    ) or Card.create(
                        {"program_id": loyalty.id, "partner_id": partner.id}
                    )
                card = cards[partner]
                order._add_points_for_coupon({card: points})
                History.create(
                    {
                        "card_id": card.id,
                        "order_model": "sale.order",
                        "order_id": order.id,
                        "points_date": order.date_order.date(),
                        "issued": points,
                        "used": 0.0,
                        "description": self.env._(
                            "Order %(order)s", order=order.display_name
                        ),
                    }
                )
                credited |= order
            Card.browse([card.id for card in cards.values()])._tier_expire_points()
        return credited

    def _loyalty_redate_history(self):
        """Back-fill: date the points of each sale order on its order date and
        recompute the expiry of those credits (imported or demo orders whose
        points were credited today). Expiry runs again for them."""
        self.env["sale.order"].flush_model(["date_order"])
        self.env["loyalty.history"].flush_model()
        for program in self.filtered("loyalty_program_id"):
            self.env.execute_query(
                SQL(
                    """
                    UPDATE loyalty_history h
                       SET points_date = so.date_order::date,
                           points_expiration_date = CASE
                               WHEN h.issued > 0 AND %(months)s > 0
                               THEN (so.date_order::date
                                     + make_interval(months => %(months)s))::date
                           END,
                           points_expiry_done = FALSE
                      FROM loyalty_card c, sale_order so
                     WHERE h.card_id = c.id
                       AND c.program_id = %(loyalty)s
                       AND h.order_model = 'sale.order'
                       AND h.order_id = so.id
                       AND h.points_expiry_type IS NULL
                    """,
                    months=program.loyalty_expiry_months,
                    loyalty=program.loyalty_program_id.id,
                )
            )
        self.env["loyalty.history"].invalidate_model(
            ["points_date", "points_expiration_date", "points_expiry_done"]
        )


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    points_multiplier = fields.Float(
        default=1.0,
        aggregator=None,
        help="Points earned by customers of this tier are the program's base "
        "points times this multiplier (0: this tier earns no points).",
    )
    may_redeem = fields.Boolean(
        string="May Redeem Points",
        default=True,
        help="Customers of this tier may redeem their points for rewards (each "
        "reward may further be limited to some tiers).",
    )

    @api.constrains("points_multiplier")
    def _check_points_multiplier(self):
        for tier in self:
            if tier.points_multiplier < 0:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: a points multiplier cannot be negative.",
                        tier=tier.display_name,
                    )
                )

    @api.constrains(*TIER_BOUNDS)
    def _check_value_bounds_loyalty(self):
        check_bounds(self, TIER_BOUNDS)

    def _check_not_referenced(self):
        """A reward reserved to a tier would be open to every tier once the
        tier is deleted."""
        res = super()._check_not_referenced()
        rewards = (
            self.env["loyalty.reward"]
            .sudo()
            .with_context(active_test=False)
            .search([("customer_tier_ids", "in", self.ids)])
        )
        if rewards:
            raise UserError(
                self.env._(
                    "The rewards %(rewards)s are reserved to the tier(s) "
                    "%(tiers)s: deleting them would open those rewards to every "
                    "tier. Archive the tiers instead.",
                    rewards=", ".join(rewards.mapped("description")),
                    tiers=", ".join(self.mapped("display_name")),
                )
            )
        return res


class ResPartner(models.Model):
    _inherit = "res.partner"

    tier_loyalty_card_ids = fields.Many2many(
        "loyalty.card",
        string="Points Cards",
        compute="_compute_tier_points",
        groups="customer_tier.group_customer_tier_user",
        help="Cards of the company's tier points program held by the commercial "
        "partner or its contacts.",
    )
    tier_points_balance = fields.Float(
        string="Points Balance",
        compute="_compute_tier_points",
        groups="customer_tier.group_customer_tier_user",
    )
    tier_points_expiring = fields.Float(
        string="Points Expiring Soon",
        compute="_compute_tier_points",
        groups="customer_tier.group_customer_tier_user",
        help="Points that expire within the program's notice period (30 days "
        "by default) unless they are redeemed first.",
    )
    tier_points_expiration_date = fields.Date(
        string="Next Points Expiry",
        compute="_compute_tier_points",
        groups="customer_tier.group_customer_tier_user",
    )
    tier_points_history_ids = fields.Many2many(
        "loyalty.history",
        string="Recent Points Movements",
        compute="_compute_tier_points",
        groups="customer_tier.group_customer_tier_user",
    )

    @api.depends_context("company", "uid")
    def _compute_tier_points(self):
        """Cards and movements of the company's tier points program, read with
        the user's own access to loyalty cards and history (Odoo's loyalty
        rights and rules): the figures show no more than the loyalty menus
        would, and nothing to a user without access to loyalty cards."""
        Card = self.env["loyalty.card"]
        History = self.env["loyalty.history"]
        program = (
            self.env["customer.tier.program"].sudo()._get_for_company(self.env.company)
        )
        commercial = self.commercial_partner_id.filtered("id")
        cards_by_partner = defaultdict(lambda: Card)
        lines_by_partner = defaultdict(lambda: History)
        if program.loyalty_program_id and commercial and Card.has_access("read"):
            cards = Card.search(
                [
                    ("program_id", "=", program.loyalty_program_id.id),
                    ("partner_id", "child_of", commercial.ids),
                ]
            )
            for card in cards:
                cards_by_partner[card.partner_id.commercial_partner_id.id] |= card
            # one bounded query per customer (forms and statements, not lists)
            for partner_id, partner_cards in cards_by_partner.items():
                if not History.has_access("read"):
                    break
                lines_by_partner[partner_id] = History.search(
                    [("card_id", "in", partner_cards.ids)],
                    order="points_date desc, id desc",
                    limit=STATEMENT_LINES,
                )
        for partner in self:
            cards = cards_by_partner[partner.commercial_partner_id.id]
            partner.tier_loyalty_card_ids = cards
            partner.tier_points_balance = sum(cards.mapped("points"))
            partner.tier_points_expiring = sum(cards.mapped("points_expiring_soon"))
            partner.tier_points_expiration_date = min(
                filter(None, cards.mapped("points_next_expiration_date")), default=False
            )
            partner.tier_points_history_ids = lines_by_partner[
                partner.commercial_partner_id.id
            ]

    def action_view_tier_points_cards(self):
        self.ensure_one()
        cards = self.tier_loyalty_card_ids
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "loyalty.loyalty_card_action"
        )
        action.update(
            name=self.env._("Points Cards"),
            domain=[("id", "in", cards.ids)],
            context={"create": False},
        )
        if len(cards) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=cards.id)
        return action

    def action_view_tier_points_history(self):
        self.ensure_one()
        return self.tier_loyalty_card_ids.action_view_tier_points_history()

    def action_send_tier_points_statement(self):
        """Open the mail composer with the points statement of the customer."""
        self.ensure_one()
        partner = self.commercial_partner_id
        template = self.env.ref(STATEMENT_TEMPLATE, raise_if_not_found=False)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send Points Statement"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": partner.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                "force_email": True,
            },
        }


class SaleOrder(models.Model):
    _inherit = "sale.order"

    tier_points_multiplier_label = fields.Char(
        string="Tier Points Multiplier",
        compute="_compute_tier_points_multiplier_label",
        help="Multiplier the customer's tier applies to the loyalty points "
        "of the order (empty at ×1 or without a tier points program).",
    )

    @api.depends("partner_id", "company_id")
    @api.depends_context("company")
    def _compute_tier_points_multiplier_label(self):
        # one search for the orders' companies; the tier is the one the
        # order's policy already read (customer_tier_id)
        # (archived or not, as the points computation reads it; an active one
        # first)
        tier_programs = {}
        for program in (
            self.env["customer.tier.program"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("loyalty_program_id.active", "=", True),
                ],
                order="active desc, id",
            )
        ):
            tier_programs.setdefault(program.company_id, program)
        for order in self:
            tier_program = tier_programs.get(order.company_id)
            tier = order.customer_tier_id
            label = False
            if tier_program and order.partner_id:
                if tier and tier.kind == "customer":
                    multiplier = tier.points_multiplier
                    name = tier.display_name
                else:
                    multiplier = tier_program.loyalty_new_customer_multiplier
                    name = self.env._("new customer")
                if float_round(multiplier, precision_digits=6) != 1.0:
                    shown = format(multiplier, "g")  # ×2, ×1.5
                    label = self.env._(
                        "×%(multiplier)s (%(tier)s)", multiplier=shown, tier=name
                    )
            order.tier_points_multiplier_label = label

    def _tier_points_tier(self):
        """Current tier of the order's customer in the order's company."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        # the stored column of the commercial partner (customer_tier_id would
        # read the same through one more partner fetch)
        return partner.with_company(self.company_id).sudo().commercial_tier_id

    def _tier_points_multiplier(self, tier_program):
        tier = self._tier_points_tier()
        if tier and tier.kind == "customer":
            return tier.points_multiplier
        return tier_program.loyalty_new_customer_multiplier

    def _tier_points_items(self):
        """Lines that earn points, as ``rule_points`` items."""
        self.ensure_one()
        items = []
        for line in self.order_line - self._get_no_effect_on_threshold_lines():
            if line.display_type or not line.product_id:
                continue
            if line.reward_id.program_id.program_type in PAYMENT_PROGRAM_TYPES:
                continue
            quantity = 0.0 if line.reward_id else line.product_uom_qty
            items.append(
                (line.product_id, quantity, line.price_subtotal, line.price_total)
            )
        return items

    def _tier_points_earned(self, program):
        """Points the order earns on the tier points ``program`` on confirmation."""
        self.ensure_one()
        tier_program = program._tier_program()
        if tier_program.loyalty_credit_on != "confirm":
            return 0.0
        multiplier = self._tier_points_multiplier(tier_program)
        if multiplier <= 0:
            return 0.0
        base = rule_points(
            program, self._tier_points_items(), self.currency_rate, self.currency_id
        )
        return round_points(base * multiplier)

    def _program_check_compute_points(self, programs):
        result = super()._program_check_compute_points(programs)
        for program in programs.filtered("is_tier_points_program"):
            status = result.get(program)
            if status and "points" in status:
                status["points"] = [self._tier_points_earned(program)]
        return result

    def _tier_reward_refusal(self, reward):
        """Why the customer may not redeem ``reward`` (False when it may)."""
        self.ensure_one()
        if not reward.program_id.is_tier_points_program:
            return False
        tier = self._tier_points_tier()
        customer = self.partner_id.commercial_partner_id.display_name
        if not tier or tier.kind != "customer":
            return self.env._(
                "%(customer)s has no customer tier yet and cannot redeem points.",
                customer=customer,
            )
        if not tier.may_redeem:
            return self.env._(
                "%(customer)s is a %(tier)s customer: this tier cannot redeem points.",
                customer=customer,
                tier=tier.display_name,
            )
        if reward.customer_tier_ids and tier not in reward.customer_tier_ids:
            return self.env._(
                "%(reward)s is reserved to tiers %(tiers)s; %(customer)s is a "
                "%(tier)s customer.",
                reward=reward.description,
                tiers=", ".join(reward.customer_tier_ids.mapped("display_name")),
                customer=customer,
                tier=tier.display_name,
            )
        return False

    def _tier_reward_has_target(self, reward):
        """A discount on specific products needs a line of those products."""
        if (
            not reward.program_id.is_tier_points_program
            or reward.reward_type != "discount"
            or reward.discount_applicability != "specific"
        ):
            return True
        return any(
            line.price_total for line in self._get_specific_discountable_lines(reward)
        )

    def _get_claimable_rewards(self, forced_coupons=None):
        result = super()._get_claimable_rewards(forced_coupons=forced_coupons)
        claimable = {}
        for coupon, rewards in result.items():
            rewards = rewards.filtered(
                lambda r: (
                    not self._tier_reward_refusal(r) and self._tier_reward_has_target(r)
                )
            )
            if rewards:
                claimable[coupon] = rewards
        return claimable

    def _add_loyalty_history_lines(self):
        """On tier points cards: record the cost of all the order's reward
        lines of a card (Odoo records the last one only), so the history adds
        up to the balance, and drop lines that move no points (orders of
        tiers without multiplier, orders credited on invoice)."""
        res = super()._add_loyalty_history_lines()
        cards = (self.coupon_point_ids.coupon_id | self.order_line.coupon_id).filtered(
            "program_id.is_tier_points_program"
        )
        if not cards:
            return res
        costs = defaultdict(float)
        for line in self.order_line:
            if line.coupon_id in cards:
                costs[line.coupon_id] += line.points_cost
        history = self.env["loyalty.history"].search(
            [
                ("order_model", "=", self._name),
                ("order_id", "=", self.id),
                ("card_id", "in", cards.ids),
            ]
        )
        for line in history:
            if line.used != costs[line.card_id]:
                line.used = costs[line.card_id]
        history.filtered(lambda h: not h.issued and not h.used).sudo().unlink()
        return res

    def _update_loyalty_history(self, coupon_id, points):
        """A reward added to a confirmed order whose history line was dropped
        (no points moved on confirmation) gets its line back."""
        if coupon_id.program_id.is_tier_points_program and not self.env[
            "loyalty.history"
        ].search_count(
            [
                ("card_id", "=", coupon_id.id),
                ("order_model", "=", self._name),
                ("order_id", "=", self.id),
            ],
            limit=1,
        ):
            self.env["loyalty.history"].create(
                {
                    "card_id": coupon_id.id,
                    "order_model": self._name,
                    "order_id": self.id,
                    "description": self.env._(
                        "Order %(order)s", order=self.display_name
                    ),
                    "issued": 0.0,
                    "used": points,
                }
            )
            return
        return super()._update_loyalty_history(coupon_id, points)

    def _compute_loyalty_data(self):
        """Odoo sums the history lines whose ``order_id`` is the order's id
        whatever their model: leave out the lines of invoices (tier points
        credited on invoice)."""
        res = super()._compute_loyalty_data()
        History = self.env["loyalty.history"].sudo()
        confirmed = self.filtered(lambda o: o.state == "sale" and o.id)
        if not confirmed or not History.search_count(
            [("order_model", "!=", self._name), ("order_id", "in", confirmed.ids)],
            limit=1,
        ):
            return res
        totals = {
            order_id: (issued, used)
            for order_id, issued, used in History._read_group(
                [("order_model", "=", self._name), ("order_id", "in", confirmed.ids)],
                ["order_id"],
                ["issued:sum", "used:sum"],
            )
        }
        for order in confirmed:
            if order.id not in totals:
                order.loyalty_data = {}
                continue
            coupons = order.coupon_point_ids.coupon_id
            order.loyalty_data = {
                "point_name": (len(coupons) == 1 and coupons.point_name)
                or self.env._("Points"),
                "issued": totals[order.id][0],
                "cost": totals[order.id][1],
            }
        return res

    def _get_reward_values_product(self, reward, coupon, product=None, **kwargs):
        """A free-goods reward of a tier points program gives its quantity for
        its points once per application (Odoo's default claims as many as
        the card can pay); the salesperson applies it again for more."""
        values_list = super()._get_reward_values_product(
            reward, coupon, product=product, **kwargs
        )
        if reward.program_id.is_tier_points_program and not reward.clear_wallet:
            for values in values_list:
                values["product_uom_qty"] = reward.reward_product_qty
                values["points_cost"] = reward.required_points
        return values_list

    def _apply_program_reward(self, reward, coupon, **kwargs):
        refusal = self._tier_reward_refusal(reward)
        if refusal:
            return {"error": refusal}
        return super()._apply_program_reward(reward, coupon, **kwargs)

    def _action_cancel(self):
        cards = (self.coupon_point_ids.coupon_id | self.order_line.coupon_id).filtered(
            "program_id.is_tier_points_program"
        )
        res = super()._action_cancel()
        # Credits already partly expired: give the written-off part back.
        cards.exists()._tier_expire_points()
        return res
