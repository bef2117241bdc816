"""Revenue basis of a program: confirmed orders, or invoiced net of credit notes.

``customer.tier.program.revenue_basis`` chooses the documents the money
figures of the profiles count:

* ``orders`` (default): the engine's own figures, from the counted orders
  (:mod:`.customer_tier_engine`); this feature does nothing;
* ``invoiced``: the window and lifetime revenue and margin, and the average
  order, come from the company's customer invoices and credit notes instead.

Exact meaning on the invoiced basis (one SQL aggregate, :func:`invoiced_query`):

* counted documents (:func:`counted_moves`): ``account.move`` posted
  (``state = 'posted'``), of type ``out_invoice`` or ``out_refund``, of the
  program's company, with an ``invoice_date`` on or before the evaluation
  date; drafts, cancelled moves and vendor bills never count;
* customer: the commercial partner of the move's ``partner_id``, as for
  orders (what ``account.move.commercial_partner_id`` stores, unless the
  contact moved to another company since);
* window (:func:`move_in_window`): ``invoice_date`` after the evaluation date
  less N months, the orders' window (:func:`.window_bounds`);
* revenue: the untaxed amount in company currency at the document's own
  rate: ``-balance`` of the move's product lines (``display_type =
  'product'``: no tax, payment term, section, note or cash-rounding line), as
  Odoo's Invoicing Analysis (``account.invoice.report``) counts them. A credit
  note's lines are debits, so it comes out negative. (The move's
  ``amount_untaxed_signed`` is the same sum plus the cash-rounding lines, and
  holds no line costs: the lines give both figures in one pass.) The window
  revenue is never below 0: credit notes in the window refunding invoices of
  before it bring it to 0 at most, so that shares and ranks stay shares of
  the company's positive revenue;
* cost of a line (:func:`line_cost`), signed as the document (a credit note
  takes the cost back): linked to a sale order line (``sale_line_ids``; the
  lowest id when several), that line's ``purchase_price`` divided by its
  order's rate (:data:`.ORDER_RATE`), times the invoiced quantity in the sale
  line's unit of measure; not linked, the product's standard price of the
  company (per the product's unit, 0 when not set: today's cost, not the
  cost on the invoice date) times the quantity in the product's unit; a line
  without product costs 0;
* margin: revenue less the cost of the lines, window and lifetime;
* average order: the window revenue over the confirmed orders in the window.

Order counts, first and last order, recency, orders per year, reorder cycle
and the frequency class stay those of the confirmed orders, and a customer is
still a partner with a counted order: invoices of a partner without one
count for nothing (it stays a prospect). The predicted 12-month value reads
the orders as well.

Posting a customer invoice or credit note, or resetting one to draft (or
cancelling a posted one, which resets it first), refreshes its customers'
profiles at once, one refresh per company and call, when the company's
program counts invoices. A change of basis applies at the next full
evaluation, like a change of method: *Recompute Tiers* previews it.
"""

from odoo import fields, models
from odoo.tools import SQL

from .customer_tier_engine import (
    ORDER_RATE,
    EngineFeature,
    partner_filter,
    window_bounds,
    without_jit,
)

MOVE_TYPES = ("out_invoice", "out_refund")
REVENUE_BASES = [
    ("orders", "Confirmed Orders"),
    ("invoiced", "Invoiced, Net of Credit Notes"),
]


def counted_moves(company_id, eval_date):
    """SQL condition: the move ``am`` is a counted document of the invoiced
    basis (module docstring): posted, a customer invoice or credit note, of
    the company, dated (``invoice_date``) on or before ``eval_date``."""
    return SQL(
        "am.state = 'posted' AND am.move_type IN %s AND am.company_id = %s"
        " AND am.invoice_date <= %s",
        MOVE_TYPES,
        company_id,
        eval_date,
    )


def move_in_window(eval_date, months):
    """SQL condition: a counted move ``am`` (:func:`counted_moves`, which
    bounds its date by ``eval_date``) is dated in the window of ``months``
    months ending on ``eval_date`` (:func:`.window_bounds`)."""
    start, _end = window_bounds(eval_date, months)
    return SQL("am.invoice_date >= %s", start)


def line_cost(standard_price):
    """SQL: the cost in company currency of the invoice line ``aml`` of the
    move ``am``, signed as the document (module docstring). Reads the linked
    sale line ``sol`` of order ``so`` and the units ``line_uom`` (the
    line's), ``sol_uom`` (the sale line's) and ``product_uom`` (the
    product's); ``standard_price``: the SQL of the product's (``pp``)
    standard price of the company."""
    return SQL(
        """
        (CASE am.move_type WHEN 'out_refund' THEN -1 ELSE 1 END)
        * aml.quantity / COALESCE(line_uom.factor, 1)
        * (CASE
             WHEN sol.id IS NOT NULL
             THEN COALESCE(sol.purchase_price, 0) / %(rate)s
                  * COALESCE(sol_uom.factor, 1)
             WHEN pp.id IS NOT NULL
             THEN COALESCE(%(standard_price)s, 0) * COALESCE(product_uom.factor, 1)
             ELSE 0
           END)
        """,
        rate=ORDER_RATE,
        standard_price=standard_price,
    )


def sale_line_link(partner_ids):
    """SQL: the sale line ``link.order_line_id`` of the invoice line ``aml``
    whose cost counts, the lowest id of its ``sale_line_ids``. For a few
    partners, looked up line by line (an index probe each); for the whole
    company, the links of every invoice line in one pass, hash-joined: probing
    the index once per line costs twice as much at a million lines."""
    if partner_ids is not None:
        return SQL(
            """
            LEFT JOIN LATERAL (
                  SELECT rel.order_line_id
                    FROM sale_order_line_invoice_rel rel
                   WHERE rel.invoice_line_id = aml.id
                   ORDER BY rel.order_line_id
                   LIMIT 1
            ) link ON TRUE
            """
        )
    return SQL(
        """
        LEFT JOIN (
              SELECT invoice_line_id, MIN(order_line_id) AS order_line_id
                FROM sale_order_line_invoice_rel
               GROUP BY invoice_line_id
        ) link ON link.invoice_line_id = aml.id
        """
    )


def invoiced_query(env, company, eval_date, months, partner_ids=None):
    """Per commercial partner: lifetime revenue, lifetime cost, window
    revenue, window cost of the counted moves (module docstring), in company
    currency; ``partner_ids``: those partners only (None: the company's)."""
    standard_price = (
        env["product.product"]
        .with_company(company)
        .sudo()
        ._field_to_sql("pp", "standard_price")
    )
    cost = line_cost(standard_price)
    window = move_in_window(eval_date, months)
    return SQL(
        """
        SELECT p.commercial_partner_id,
               SUM(-aml.balance),
               SUM(%(cost)s),
               COALESCE(SUM(-aml.balance) FILTER (WHERE %(in_window)s), 0),
               COALESCE(SUM(%(cost)s) FILTER (WHERE %(in_window)s), 0)
          FROM account_move am
          JOIN res_partner p ON p.id = am.partner_id
          JOIN account_move_line aml
            ON aml.move_id = am.id AND aml.display_type = 'product'
          %(link)s
          LEFT JOIN sale_order_line sol ON sol.id = link.order_line_id
          LEFT JOIN sale_order so ON so.id = sol.order_id
          LEFT JOIN uom_uom sol_uom ON sol_uom.id = sol.product_uom
          LEFT JOIN uom_uom line_uom ON line_uom.id = aml.product_uom_id
          LEFT JOIN product_product pp ON pp.id = aml.product_id
          LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
          LEFT JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
         WHERE %(counted)s
               %(partner_filter)s
         GROUP BY p.commercial_partner_id
        """,
        cost=cost,
        link=sale_line_link(partner_ids),
        in_window=window,
        counted=counted_moves(company.id, eval_date),
        partner_filter=partner_filter(partner_ids),
    )


class RevenueBasisFeature(EngineFeature):
    """The money figures of the invoiced basis (module docstring).

    Sequence 5, first: every later feature (the prospects' share of wallet)
    and the tiers read the money figures of the program's basis. On the
    invoiced basis, ``extend_figures`` replaces the revenue, margin and
    average order of every customer of the plan and has the engine rank and
    score again (``engine.rescore``): the shares, ranks and RFM monetary
    scores the engine computed before the features follow the invoices.
    State: ``invoiced``, the program's basis, read once."""

    name = "revenue_basis"
    sequence = 5

    def __init__(self, engine):
        super().__init__(engine)
        self.invoiced = self.program.sudo().revenue_basis == "invoiced"

    @property
    def ranks(self):
        """On the invoiced basis, customers are ranked by invoiced revenue."""
        return self.invoiced

    def extend_figures(self, figures, eval_date, full):
        if not self.invoiced or not figures:
            return
        engine = self.engine
        # every customer's figures, even for one batch of a full evaluation:
        # the shares and ranks read them all
        scope = None if full else list(figures)
        query = invoiced_query(
            self.env, engine.company, eval_date, self.program.window_months, scope
        )
        if scope is None:
            # JIT compilation adds a fifth to the company-wide statement
            with without_jit(self.env):
                rows = self.env.execute_query(query)
        else:
            rows = self.env.execute_query(query)
        amounts = {row[0]: row[1:] for row in rows}
        dp = engine.currency.decimal_places
        for pid, fig in figures.items():
            revenue, cost, revenue_w, cost_w = (
                float(v or 0.0) for v in amounts.get(pid, (0, 0, 0, 0))
            )
            window = round(max(revenue_w, 0.0), dp)
            count_w = fig["order_count_window"]
            fig.update(
                revenue_window=window,
                margin_window=round(revenue_w - cost_w, dp),
                revenue_total=round(revenue, dp),
                margin_total=round(revenue - cost, dp),
                average_order_value=round(window / count_w, dp) if count_w else 0.0,
            )
        engine.rescore()


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    revenue_basis = fields.Selection(
        REVENUE_BASES,
        required=True,
        default="orders",
        tracking=True,
        help="The documents the revenue and margin count (window and lifetime).\n"
        "Confirmed orders: the untaxed amount and margin of the confirmed sale "
        "orders, at each order's rate.\n"
        "Invoiced, net of credit notes: the untaxed amount of the posted "
        "customer invoices less that of the posted credit notes, dated by "
        "their invoice date, at each document's rate; the margin takes off the "
        "cost of the invoiced lines (the sale line's cost, else the product's "
        "cost). Drafts and cancelled documents do not count.\n"
        "Orders, recency and the reorder cycle always count the confirmed "
        "orders. A change applies at the next full evaluation: preview it with "
        "Recompute Tiers.",
    )

    def _engine_features(self):
        return [*super()._engine_features(), RevenueBasisFeature]


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._refresh_invoiced_tiers()
        return posted

    def button_draft(self):
        posted = self.filtered(lambda m: m.state == "posted")
        res = super().button_draft()
        posted._refresh_invoiced_tiers()
        return res

    def _refresh_invoiced_tiers(self):
        """Refresh the tier profiles of the customers of these customer
        invoices and credit notes, one refresh per company, where the
        company's program counts invoices."""
        moves = self.filtered(lambda m: m.move_type in MOVE_TYPES)
        if not moves:
            return
        Program = self.env["customer.tier.program"].sudo()
        for company, company_moves in moves.grouped("company_id").items():
            program = Program._get_for_company(company)
            if program and program.revenue_basis == "invoiced":
                program._engine().refresh_partners(
                    company_moves.partner_id.commercial_partner_id.ids
                )
