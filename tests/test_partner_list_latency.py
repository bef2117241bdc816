"""The partner lists with the tier: what the tier filters find, and the
queries of the list's and kanban's web call, which do not grow with the
customers shown (``bench/ui_latency.py`` times them on 56,000 partners)."""

from datetime import date

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

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

    def _conditions(self, company):
        """(operator, value, wanted) triples: every way of searching the
        tier, with what reading the tier must give for a match."""
        tier_a, tier_b = self.tiers["A"], self.tiers["B"]
        if company == self.company_b:
            tier_a, tier_b = (
                {t.code: t for t in self.program_b._customer_tiers()}[code]
                for code in "AB"
            )
        name = tier_a.name.lower()
        return [
            ("=", tier_a.id, lambda t: t == tier_a),
            ("in", [tier_a.id, tier_b.id], lambda t: t in (tier_a | tier_b)),
            ("in", [], lambda t: False),
            ("!=", tier_a.id, lambda t: t != tier_a),
            ("not in", [tier_a.id], lambda t: t != tier_a),
            ("not in", [], lambda t: True),
            ("=", False, lambda t: not t),
            ("!=", False, lambda t: bool(t)),
            ("in", [tier_a.id, False], lambda t: not t or t == tier_a),
            ("not in", [tier_a.id, False], lambda t: bool(t) and t != tier_a),
            ("ilike", name, lambda t: bool(t) and name in t.name.lower()),
            ("not ilike", name, lambda t: name not in (t.name or "").lower()),
            # the conditions on the tier's own fields (the search filters)
            ("code", "A", lambda t: t.code == "A"),
            ("kind", "prospect", lambda t: t.kind == "prospect"),
            ("code!=", "A", lambda t: bool(t) and t.code != "A"),
        ]

    def _assert_conditions_match(self, env, partners):
        """Every condition of ``_conditions`` finds, among ``partners``, the
        partners whose tier read as ``env``'s user (in its company) matches."""
        Partner = env["res.partner"]
        ours = partners.with_env(env)
        tiers = {p.id: p.customer_tier_id.sudo() for p in ours}
        for operator, value, wanted in self._conditions(env.company):
            if operator in ("code", "kind"):
                term = (f"customer_tier_id.{operator}", "=", value)
            elif operator == "code!=":
                term = ("customer_tier_id.code", "!=", value)
            else:
                term = ("customer_tier_id", operator, value)
            with self.subTest(user=env.user.login, company=env.company.name, term=term):
                if "." in term[0] and not env["customer.tier"].has_access("read"):
                    # a condition on the tier's fields reads tiers: refused
                    # as Odoo refuses it to a user who may not read them
                    with self.assertRaises(AccessError):
                        Partner.search([term])
                    continue
                found = Partner.search([term, ("id", "in", ours.ids)])
                expected = ours.browse([p.id for p in ours if wanted(tiers[p.id])])
                self.assertEqual(found, expected)

    def _assert_stored_tier_is_the_profiles(self, partners):
        """What the profile search relies on: in each company, the tier
        stored on each commercial partner is its profile's tier (none
        without a profile)."""
        for company in self.company | self.company_b:
            for partner in partners.commercial_partner_id:
                profile = self._profile(partner, company)
                with self.subTest(partner=partner.name, company=company.name):
                    self.assertEqual(
                        partner.with_company(company).sudo().commercial_tier_id,
                        profile.tier_id,
                    )

    def test_tier_conditions_match_the_stored_tier(self):
        """Every way of searching the tier finds what reading it gives, in
        both companies, for a manager, a salesperson limited to own
        documents (who reads no profile of another salesperson's customer)
        and an employee with no sales or tier rights at all."""
        # a customer of another salesperson, and one nobody follows
        other = self._tiered("Other", 3, 4000)
        other.user_id = self.user_all
        lone = self._customer("Lone")
        self._run(E)
        partners = self.ours | other | other.child_ids | lone
        employee = mail_new_test_user(
            self.env,
            login="ct_employee",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set((self.company | self.company_b).ids)],
        )
        self.user_manager.company_ids |= self.company_b
        self.user_own.company_ids |= self.company_b
        self._assert_stored_tier_is_the_profiles(partners)
        for user in (self.user_manager, self.user_own, employee):
            for company in self.company | self.company_b:
                self._assert_conditions_match(self._env_as(user, company), partners)

    def test_tier_conditions_follow_every_change_of_tier(self):
        """The cases where a stored tier could part from its profile's: a
        manual override and its end, a prospect's grade (by hand too), a
        contact moved to another company, a company that becomes a contact:
        the search still finds what reading the tier gives."""
        Profile = self.env["customer.tier.profile"]
        grades = {t.code: t for t in self.program._prospect_grades()}
        prospect = self._customer(
            "Prospect",
            customer_rank=1,
            tier_company_size="enterprise",
            tier_reputation="5",
            tier_product_fit="5",
        )
        buyer = self._contact(prospect, "Prospect Buyer")
        self._run(E)
        partners = self.ours | prospect | buyer
        # a manual override, then a manual grade on the prospect
        Profile.browse(self._profile(self.key).id).write(
            {"manual_tier_id": self.tiers["A"].id, "manual_reason": "Key account"}
        )
        Profile.browse(self._profile(prospect).id).write(
            {"manual_tier_id": grades["A"].id}
        )
        self.assertEqual(self.key.with_company(self.company).customer_tier_id.code, "A")
        self.assertEqual(buyer.with_company(self.company).customer_tier_id, grades["A"])
        env = self._env_as(self.user_manager)
        self._assert_stored_tier_is_the_profiles(partners)
        self._assert_conditions_match(env, partners)
        # the override ends; a contact moves from Core to Key; Elsewhere
        # becomes a contact of Core
        self._profile(self.key).action_clear_override()
        self.core.child_ids[:1].parent_id = self.key
        self.elsewhere.write({"parent_id": self.core.id, "is_company": False})
        partners |= self.key.child_ids | self.core.child_ids
        self.assertEqual(
            self.elsewhere.with_company(self.company).customer_tier_id.code, "A"
        )
        self._assert_stored_tier_is_the_profiles(partners)
        self._assert_conditions_match(env, partners)
        self._assert_conditions_match(
            self._env_as(self.user_b, self.company_b), partners
        )

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
