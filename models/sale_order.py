from odoo import models
from odoo.tools import SQL

from .customer_tier_engine import counted_lines

# Index of the orders by customer holding every column the engine's
# aggregate of counted orders reads (TierEngine.aggregate_query), so that
# the aggregate of a few customers (a refresh, a batch of the scheduled
# recompute) reads their orders from the index alone: without it PostgreSQL
# reads the whole table for a batch, its orders being spread over every page
# (EXPLAIN on 5,000,000 orders, a batch of 5,000 customers: 87 ms instead of
# 2.2 s; built in 3 s). It holds the order's id as well, which the product
# categories of a few customers join their order lines on
# (CustomerTierProgram._category_query). Dropped at uninstall (hooks.py).
ORDER_FIGURES_INDEX = "customer_tier_sale_order_figures_index"
# Columns of ORDER_FIGURES_INDEX besides its key (partner_id).
ORDER_FIGURES_COLUMNS = (
    "id",
    "company_id",
    "state",
    "date_order",
    "amount_untaxed",
    "margin",
    "currency_rate",
    "write_date",
)
# Partial index of the open quotations (draft or sent orders) by customer,
# holding every column the prospect feature's open quotations read
# (CustomerTierProgram._prospect_inputs_query), run for every customer each
# night: it reads the quotations from this small index (a tenth of the
# orders) instead of the orders' pages. EXPLAIN ANALYZE on 500,000 orders
# (50,000 quotations), the inputs of 20,000 customers: 80 ms instead of
# 140 ms (medians); 2.7 MB, built in 0.2 s. Dropped at uninstall (hooks.py).
QUOTATION_INDEX = "customer_tier_sale_order_quotation_index"
# Partial index of the order lines that count in the line revenue
# (customer_tier_engine.counted_lines: its condition, word for word, so that
# the planner can use it) by order, holding the product and the subtotal:
# the product categories of the customers whose orders changed (a steady
# full evaluation's few hundred customers, their ten thousand orders) read
# their lines from it instead of the lines' pages, spread over the table.
# EXPLAIN ANALYZE on 1,500,000 lines (492 MB), the 493 customers of a
# steady day (their 11,000 orders): every page found in memory instead of
# 10,000 to 22,000 read, 56 ms instead of 260 ms (medians; with the order id
# in ORDER_FIGURES_INDEX); 47 MB, built in 1 s. Dropped at uninstall.
LINE_REVENUE_INDEX = "customer_tier_sale_order_line_revenue_index"


def line_revenue_condition():
    """The condition of LINE_REVENUE_INDEX: :func:`counted_lines` on the
    table itself (without its alias ``sol``)."""
    return SQL(counted_lines().code.replace("sol.", ""))


def _replace_index(cr, name, table, definition, columns):
    """Create the index ``name`` on ``table`` (``definition``: what follows
    ``ON table``) unless it exists with every column of ``columns``; an
    index of that name of an earlier version lacking one is dropped first."""
    cr.execute(
        SQL(
            "SELECT ARRAY(SELECT a.attname::text FROM pg_attribute a"
            " WHERE a.attrelid = c.oid) FROM pg_class c"
            " WHERE c.relname = %s AND c.relkind = 'i'",
            name,
        )
    )
    row = cr.fetchone()
    if row and set(columns) <= set(row[0]):
        return
    if row:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    cr.execute(
        SQL(
            "CREATE INDEX %s ON %s %s",
            SQL.identifier(name),
            SQL.identifier(table),
            definition,
        )
    )


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def init(self):
        res = super().init()
        columns = SQL(", ").join(SQL.identifier(c) for c in ORDER_FIGURES_COLUMNS)
        _replace_index(
            self.env.cr,
            ORDER_FIGURES_INDEX,
            "sale_order",
            SQL("(partner_id) INCLUDE (%s)", columns),
            ORDER_FIGURES_COLUMNS,
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON sale_order (partner_id) "
                "INCLUDE (company_id, date_order, validity_date, amount_untaxed, "
                "currency_rate) WHERE state IN ('draft', 'sent')",
                SQL.identifier(QUOTATION_INDEX),
            )
        )
        return res

    def action_confirm(self):
        res = super().action_confirm()
        self._refresh_customer_tiers()
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda o: o.state == "sale")
        res = super()._action_cancel()
        confirmed._refresh_customer_tiers()
        return res

    def _refresh_customer_tiers(self):
        """Refresh the tier profile of the orders' customers, per company."""
        Program = self.env["customer.tier.program"].sudo()
        for company, orders in self.grouped("company_id").items():
            program = Program.search([("company_id", "=", company.id)], limit=1)
            if program:
                program._engine().refresh_partners(
                    orders.partner_id.commercial_partner_id.ids
                )


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def init(self):
        res = super().init()
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON sale_order_line (order_id) "
                "INCLUDE (product_id, price_subtotal) WHERE %s",
                SQL.identifier(LINE_REVENUE_INDEX),
                line_revenue_condition(),
            )
        )
        return res
