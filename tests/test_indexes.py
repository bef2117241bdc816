"""The indexes the views' searches need are there and usable.

The test data is far too small for the planner to prefer an index on its
own, so sequential scans are disabled for the statement: the plan then shows
whether the index matches the SQL the ORM really generates (the figures that
justify the profile lists' index, measured on 20,000 profiles, are in
``customer.tier.profile.init``, where it is created).
"""

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.customer_tier.models.sale_order import ORDER_FIGURES_INDEX

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
