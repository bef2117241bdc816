"""The indexes the views' searches need are there and usable.

The test data is far too small for the planner to prefer an index on its
own, so sequential scans are disabled for the statement: the plan then shows
whether the index matches the SQL the ORM really generates (the figures that
justify the profile lists' index, measured on 20,000 profiles, are in
``customer.tier.profile.init``, where it is created).
"""

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.customer_tier.models.customer_tier_engine import counted_lines
from odoo.addons.customer_tier.models.sale_order import (
    LINE_REVENUE_INDEX,
    ORDER_FIGURES_COLUMNS,
    ORDER_FIGURES_INDEX,
    QUOTATION_INDEX,
)

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestIndexes(CustomerTierCase):
    def _plan(self, model, domain, order=None, limit=None):
        query = model._search(domain, order=order, limit=limit)
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        try:
            rows = self.env.execute_query(SQL("EXPLAIN %s", query.select()))
        finally:
            self.env.cr.execute("SET LOCAL enable_seqscan = on")
        return "\n".join(row[0] for row in rows)

    def test_profile_list_reads_the_order_index(self):
        # the lists' first page in their default order comes from the index,
        # with no sort (a tier filter may also go through the tier index,
        # depending on the table's statistics)
        Profile = self.env["customer.tier.profile"]
        plan = self._plan(Profile, [("company_id", "in", self.company.ids)], limit=80)
        self.assertIn("customer_tier_profile_company_order_index", plan)
        self.assertNotIn("Sort", plan)

    def test_history_by_date_uses_the_date_index(self):
        History = self.env["customer.tier.history"]
        plan = self._plan(History, [("date", ">=", self.eval_date)], limit=80)
        self.assertIn("customer_tier_history__date_index", plan)

    def test_profile_of_a_customer_uses_the_unique_index(self):
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = %s",
            ["customer_tier_profile__partner_id_index"],
        )
        self.assertFalse(self.env.cr.fetchall(), "redundant index left")
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(
            "EXPLAIN SELECT id FROM customer_tier_profile WHERE partner_id = 1"
        )
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute("SET LOCAL enable_seqscan = on")
        self.assertIn("customer_tier_profile_partner_company_uniq", plan)

    def test_partners_of_a_tier_read_the_tier_index_alone(self):
        """The partners' tier filter (a condition on the tier's fields, as
        the search view's *Core (A)*) finds the customers of the tier in the
        tier index of the profiles, without reading the profiles or the
        tier stored on every partner."""
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = %s",
            ["customer_tier_profile__tier_id_index"],
        )
        self.assertFalse(self.env.cr.fetchall(), "redundant index left")
        Partner = self.env["res.partner"].with_company(self.company)
        domain = [
            ("customer_tier_id.kind", "=", "customer"),
            ("customer_tier_id.code", "=", "A"),
        ]
        sql = Partner._search(domain).select().code
        self.assertNotIn("commercial_tier_id", sql)
        self.assertIn('SELECT partner_id FROM "customer_tier_profile"', sql)
        # the profile side of that search, from the index alone (no index
        # scan or bitmap scan reading the table allowed)
        Profile = self.env["customer.tier.profile"]
        query = Profile._search(
            [("company_id", "=", self.company.id), ("tier_id", "in", self.tier_a.ids)]
        )
        scans = ("enable_seqscan", "enable_indexscan", "enable_bitmapscan")
        for scan in scans:
            self.env.cr.execute(SQL("SET LOCAL %s = off", SQL.identifier(scan)))
        try:
            rows = self.env.execute_query(SQL("EXPLAIN %s", query.select("partner_id")))
        finally:
            for scan in scans:
                self.env.cr.execute(SQL("SET LOCAL %s = on", SQL.identifier(scan)))
        plan = "\n".join(row[0] for row in rows)
        self.assertIn(
            "Index Only Scan using customer_tier_profile_tier_partner_index", plan
        )

    def test_aggregate_of_a_few_customers_reads_the_orders_index(self):
        """The engine's aggregate of a few customers' orders (a refresh, a
        batch) reads their orders from the module's covering index alone."""
        customer = self._customer("Index Customer")
        self._order(customer, 800.0, self.eval_date)
        self.env.flush_all()
        # (statistics of the tables as on a live database)
        self.env.cr.execute("ANALYZE sale_order, res_partner")
        query = self.program._engine().aggregate_query(
            self.eval_date, [customer.id], inputs=True
        )
        # (index-only scans alone: on a few orders another index would do)
        scans = ("seqscan", "bitmapscan", "indexscan")
        for scan in scans:
            self.env.cr.execute(f"SET LOCAL enable_{scan} = off")
        try:
            plan = "\n".join(
                row[0] for row in self.env.execute_query(SQL("EXPLAIN %s", query))
            )
        finally:
            for scan in scans:
                self.env.cr.execute(f"SET LOCAL enable_{scan} = on")
        self.assertIn(f"Index Only Scan using {ORDER_FIGURES_INDEX}", plan)

    def _index_plan(self, query):
        """EXPLAIN of ``query`` on the orders and lines with the module's
        indexes and their primary keys only (the others dropped for the
        EXPLAIN, then restored) and no sequential or bitmap scan: on the
        few rows of a test, never vacuumed, the planner would pick any
        index of the same column, or none; here the plan shows whether the
        module's index can serve the query (its key and its condition)."""
        cr = self.env.cr
        cr.execute("ANALYZE sale_order, sale_order_line, res_partner")
        others = self.env.execute_query(
            SQL(
                "SELECT indexname FROM pg_indexes "
                "WHERE tablename IN ('sale_order', 'sale_order_line') "
                "AND indexname NOT LIKE 'customer\\_tier\\_%%' "
                "AND indexname NOT LIKE '%%\\_pkey'"
            )
        )
        cr.execute("SAVEPOINT index_plan")
        try:
            for (name,) in others:
                cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
            cr.execute("SET LOCAL enable_seqscan = off")
            cr.execute("SET LOCAL enable_bitmapscan = off")
            return "\n".join(
                row[0] for row in self.env.execute_query(SQL("EXPLAIN %s", query))
            )
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT index_plan")

    def test_categories_of_a_few_customers_read_the_indexes(self):
        """The product categories of a few customers (those whose orders
        changed, on a steady full evaluation) can read their orders from the
        orders' covering index, and the counted lines of an order from the
        lines' revenue index (its condition is the engine's condition of a
        counted line, which the planner must recognise)."""
        customer = self._customer("Category Customer")
        order = self._order(customer, 800.0, self.eval_date)
        self.env.flush_all()
        query = self.program._category_query(
            self.program._engine(), self.eval_date, [customer.id]
        )
        plan = self._index_plan(query)
        self.assertIn(f"Scan using {ORDER_FIGURES_INDEX}", plan)
        self.assertNotIn("Seq Scan on sale_order", plan)
        # (on the few lines of the test, the planner reads the lines first:
        # the lines of one order, as the category query reads them)
        lines = SQL(
            "SELECT sol.product_id, sol.price_subtotal FROM sale_order_line sol "
            "WHERE sol.order_id = %s AND %s",
            order.id,
            counted_lines(),
        )
        plan = self._index_plan(lines)
        self.assertIn(f"Scan using {LINE_REVENUE_INDEX}", plan)
        # and the figures are those of the order's line
        rows = self.env.execute_query(query)
        self.assertEqual(
            [(pid, categ, float(revenue)) for pid, categ, _name, revenue, _t in rows],
            [(customer.id, self.product.categ_id.id, 800.0)],
        )

    def test_open_quotations_read_the_quotation_index(self):
        """The open quotations of the prospect inputs (every customer, each
        night) can be read from the partial index of the quotations (its
        condition is the query's)."""
        customer = self._customer("Quotation Customer")
        self._order(customer, 300.0, self.eval_date, state="draft")
        self._order(customer, 500.0, self.eval_date, state="sent")
        self.env.flush_all()
        query = self.program._prospect_inputs_query(
            self.program._engine(), self.eval_date, [customer.id]
        )
        plan = self._index_plan(query)
        self.assertIn(f"Scan using {QUOTATION_INDEX}", plan)
        self.assertNotIn("Seq Scan on sale_order", plan)
        (row,) = self.env.execute_query(query)
        self.assertEqual((row[0], row[10], float(row[11])), (customer.id, 2, 800.0))

    def _index_columns(self, name):
        return self.env.execute_query(
            SQL(
                "SELECT c.oid, ARRAY(SELECT a.attname::text FROM pg_attribute a"
                " WHERE a.attrelid = c.oid ORDER BY a.attnum)"
                " FROM pg_class c WHERE c.relname = %s",
                name,
            )
        )

    def test_orders_index_of_an_earlier_version_is_replaced(self):
        """The orders' index of an earlier version (without the order id)
        is replaced by the module's init (an upgrade needs no migration); a
        current one is kept as it is."""
        ((oid, columns),) = self._index_columns(ORDER_FIGURES_INDEX)
        self.assertEqual(columns, ["partner_id", *ORDER_FIGURES_COLUMNS])
        self.env["sale.order"].init()
        self.assertEqual(self._index_columns(ORDER_FIGURES_INDEX), [(oid, columns)])
        self.env.cr.execute(
            SQL(
                "DROP INDEX %(index)s; CREATE INDEX %(index)s ON sale_order "
                "(partner_id) INCLUDE (company_id, state, date_order, "
                "amount_untaxed, margin, currency_rate, write_date)",
                index=SQL.identifier(ORDER_FIGURES_INDEX),
            )
        )
        self.env["sale.order"].init()
        ((_oid, columns),) = self._index_columns(ORDER_FIGURES_INDEX)
        self.assertEqual(columns, ["partner_id", *ORDER_FIGURES_COLUMNS])
