"""The partner lists with the tier: what the tier filters find, and the
queries of the list's and kanban's web call, which do not grow with the
customers shown (``bench/ui_latency.py`` times them on 56,000 partners)."""

from datetime import date

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import CustomerTierCase

E = date(2024, 6, 30)


@tagged("post_install", "-at_install")
class TestPartnerListLatency(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._deactivate_other_programs()
        cls._set_thresholds(cls.program_b, cls.THRESHOLDS)
        cls.core = cls._tiered("Core", 3, 4000)  # A: 12,000 in 3 orders
        cls.key = cls._tiered("Key", 2, 1500)  # B: 3,000 in 2 orders
        # tier A in company B only (nothing bought in company A)
        cls.elsewhere = cls._customer("Elsewhere", user_id=cls.user_own.id)
        cls._contact(cls.elsewhere, "Elsewhere Buyer")
        for month in (4, 5, 6):
            cls._order(cls.elsewhere, 4000, date(2024, month, 1), company=cls.company_b)
        cls._run(E)
        cls._run(E, company=cls.company_b)
        cls.ours = (cls.core | cls.key | cls.elsewhere).with_context(active_test=False)
        cls.ours |= cls.ours.child_ids

    @classmethod
    def _tiered(cls, name, orders, amount):
        customer = cls._customer(name, user_id=cls.user_own.id)
        cls._contact(customer, f"{name} Buyer")
        for month in range(7 - orders, 7):
            cls._order(customer, amount, date(2024, month, 1))
        return customer

    def _filters(self, env):
        Partner = env["res.partner"]
        arch = etree.fromstring(
            Partner.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        return {
            node.get("name"): safe_eval(node.get("domain"), {"uid": env.uid})
            for node in arch.xpath("//filter[starts-with(@name, 'tier_')]")
        }

    def _spec(self, env, view_type):
        """The specification the web client sends for the partner list or
        kanban: every field of the view, a many2one with its display name."""
        Partner = env["res.partner"]
        arch = etree.fromstring(
            Partner.get_views([(False, view_type)])["views"][view_type]["arch"]
        )
        nodes = arch if view_type == "list" else arch.iter("field")
        spec = {}
        for node in nodes:
            if node.tag != "field":
                continue
            field = Partner._fields[node.get("name")]
            if field.type == "many2one":
                spec[field.name] = {"fields": {"display_name": {}}}
            elif field.type in ("one2many", "many2many"):
                spec[field.name] = {"fields": {"display_name": {}}}
            else:
                spec[field.name] = {}
        self.assertIn("customer_tier_id", spec)
        return spec

    def test_tier_filter_finds_the_contacts_of_the_tier(self):
        """Core (A) finds the customers of tier A in the current company and
        their contacts; the tier of another company does not count."""
        self.assertEqual(
            self.elsewhere.with_company(self.company_b).customer_tier_id.code, "A"
        )
        self.user_manager.company_ids |= self.company_b
        for company, expected in (
            (self.company, self.core | self.core.child_ids),
            (self.company_b, self.elsewhere | self.elsewhere.child_ids),
        ):
            env = self._env_as(self.user_manager, company)
            Partner = env["res.partner"]
            found = Partner.search(
                [*self._filters(env)["tier_a"], ("id", "in", self.ours.ids)]
            )
            self.assertEqual(found, expected.with_env(env))

    def test_tier_conditions_match_the_stored_tier(self):
        """Every way of searching the tier finds what reading it gives."""
        Partner = self.env["res.partner"].with_company(self.company)
        ours = self.ours.with_company(self.company)
        tier_a, tier_b = self.tiers["A"], self.tiers["B"]
        self.assertEqual(self.core.with_company(self.company).customer_tier_id, tier_a)
        cases = [
            ("=", tier_a.id, lambda t: t == tier_a),
            ("in", [tier_a.id, tier_b.id], lambda t: t in (tier_a | tier_b)),
            ("in", [], lambda t: False),
            ("!=", tier_a.id, lambda t: t != tier_a),
            ("not in", [tier_a.id], lambda t: t != tier_a),
            ("=", False, lambda t: not t),
            ("!=", False, lambda t: bool(t)),
            ("in", [tier_a.id, False], lambda t: not t or t == tier_a),
        ]
        for operator, value, wanted in cases:
            with self.subTest(operator=operator, value=value):
                found = Partner.search(
                    [("customer_tier_id", operator, value), ("id", "in", ours.ids)]
                )
                expected = ours.browse(
                    [p.id for p in ours if wanted(p.customer_tier_id)]
                )
                self.assertEqual(found, expected)

    def _web_search_read(self, Partner, domain, spec):
        """(queries, result) of the web call of a list or kanban page."""
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        result = Partner.web_search_read(
            [*domain, ("id", "in", self.ours.ids)], spec, limit=80, count_limit=10001
        )
        return self.env.cr.sql_log_count - before, result

    def test_list_and_kanban_queries_do_not_grow(self):
        """The list's and kanban's web call (the tier column, and with the
        Core filter) makes as many queries for one customer of tier A as for
        seven: the tier and its colour are read once for the page."""
        env = self._env_as(self.user_own)
        Partner = env["res.partner"]
        core_filter = self._filters(env)["tier_a"]
        specs = {"list": self._spec(env, "list"), "kanban": self._spec(env, "kanban")}

        def calls():
            return {
                (view_type, name): self._web_search_read(Partner, domain, spec)
                for view_type, spec in specs.items()
                for name, domain in (("all", []), ("core", core_filter))
            }

        calls()  # warm the caches (views, rules)
        small = calls()
        self.assertEqual(small["list", "core"][1]["length"], 2)
        for index in range(6):
            customer = self._tiered(f"More Core {index}", 3, 4000)
            self.ours |= customer | customer.child_ids
        self._run(E)
        large = calls()
        self.assertEqual(large["list", "core"][1]["length"], 14)
        for key, (count, _result) in small.items():
            with self.subTest(view=key):
                self.assertEqual(large[key][0], count)
        # the page, its count, the rows' tier and colour, and Odoo's own
        # fields of the view (kanban: activities ...)
        for view_type, queries in (("list", 10), ("kanban", 12)):
            self.env.invalidate_all()
            with self.assertQueryCount(queries):
                Partner.web_search_read(
                    [*core_filter, ("id", "in", self.ours.ids)],
                    specs[view_type],
                    limit=80,
                    count_limit=10001,
                )
