"""Dimensions of a customer on its profile, the classification view.

Product preference (window line revenue by category, company currency),
share of wallet, region, relationship type, needs and competing suppliers,
the saved filters of the classification, the access of a salesperson limited
to own documents. Company A's currency is USD with 0.8 EUR per USD from
2024-01-01.
"""

from datetime import date, datetime, time
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import CustomerTierCase

E = date(2024, 6, 30)


class DimensionCase(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        Product = cls.env["product.product"]
        cls.categories = {}
        cls.products = {}
        for name in ("Chairs", "Desks", "Lamps", "Cables"):
            cls.categories[name] = Category.create({"name": f"Tier Test {name}"})
            cls.products[name] = Product.create(
                {
                    "name": f"Tier Test {name} item",
                    "type": "consu",
                    "categ_id": cls.categories[name].id,
                    "list_price": 100.0,
                    "taxes_id": [Command.clear()],
                }
            )
        cls.need = {
            code: cls.env.ref(f"customer_tier.customer_tier_need_{xmlid}")
            for code, xmlid in (
                ("price", "price_sensitive"),
                ("speed", "delivery_speed"),
                ("support", "technical_support"),
            )
        }
        cls.program.region_group_ids = [
            Command.set(
                [
                    cls.env.ref("customer_tier.region_europe").id,
                    cls.env.ref("base.south_america").id,
                    cls.env.ref("customer_tier.region_east_asia").id,
                ]
            )
        ]

    @classmethod
    def _lines_order(cls, partner, lines, order_date, currency=None, state="sale"):
        """An order of ``lines`` ((category name, untaxed amount) in order
        currency), confirmed without the refresh on confirmation, dated
        ``order_date`` (noon UTC)."""
        currency = currency or cls.usd
        when = datetime.combine(order_date, time(12, 0))
        with patch.object(
            type(cls.env["sale.order"]), "_refresh_customer_tiers", lambda self: None
        ):
            order = cls.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "pricelist_id": cls.pricelists[(currency, cls.company)].id,
                    "date_order": when,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.products[name].id,
                                "product_uom_qty": 1.0,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                        for name, amount in lines
                    ],
                }
            )
            if state == "sale":
                order.action_confirm()
        order.date_order = when
        return order

    def _raw(self, partner, *columns):
        self.env.flush_all()
        return self.env.execute_query_dict(
            SQL(
                "SELECT %s FROM customer_tier_profile "
                "WHERE partner_id = %s AND company_id = %s",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                partner.id,
                self.company.id,
            )
        )[0]


@tagged("post_install", "-at_install")
class TestProductPreference(DimensionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = cls._customer("Category buyer")
        # USD: chairs 1,000, desks 500
        cls._lines_order(
            cls.buyer, [("Chairs", 1000.0), ("Desks", 500.0)], date(2024, 2, 1)
        )
        # EUR (0.8 per USD): desks 800 EUR = 1,000, lamps 400 EUR = 500,
        # cables 80 EUR = 100
        cls._lines_order(
            cls.buyer,
            [("Desks", 800.0), ("Lamps", 400.0), ("Cables", 80.0)],
            date(2024, 5, 1),
            currency=cls.eur,
        )
        # outside the window, a quotation: not counted
        cls._lines_order(cls.buyer, [("Cables", 90000.0)], date(2023, 1, 15))
        cls._lines_order(
            cls.buyer, [("Cables", 90000.0)], date(2024, 6, 1), state="draft"
        )
        cls.single = cls._customer("Single-category buyer")
        cls._lines_order(cls.single, [("Lamps", 300.0)], date(2024, 6, 1))
        cls.prospect = cls._customer("No orders", customer_rank=1)
        cls._run(E)

    def test_top_categories(self):
        """Desks 1,500, chairs 1,000, lamps 500, cables 100 of 3,100."""
        profile = self._profile(self.buyer)
        cat = self.categories
        self.assertEqual(profile.main_category_id, cat["Desks"])
        self.assertAlmostEqual(profile.main_category_share, 1500 / 3100, places=4)
        self.assertEqual(
            profile.top_category_ids, cat["Desks"] | cat["Chairs"] | cat["Lamps"]
        )
        self.assertEqual(
            profile.category_summary,
            "Tier Test Desks 48% · Tier Test Chairs 32% · Tier Test Lamps 16%",
        )
        single = self._profile(self.single)
        self.assertEqual(single.main_category_id, cat["Lamps"])
        self.assertAlmostEqual(single.main_category_share, 1.0)
        prospect = self._profile(self.prospect)
        self.assertFalse(prospect.main_category_id)
        self.assertFalse(prospect.top_category_ids)
        self.assertFalse(prospect.category_summary)

    def test_search_and_group_by_category(self):
        Profile = self.env["customer.tier.profile"]
        cat = self.categories
        found = Profile.search(
            [
                ("company_id", "=", self.company.id),
                ("top_category_ids", "in", cat["Lamps"].ids),
            ]
        )
        self.assertEqual(found.partner_id, self.buyer | self.single)
        groups = dict(
            Profile._read_group(
                [("company_id", "=", self.company.id), ("is_prospect", "=", False)],
                ["main_category_id"],
                ["__count"],
            )
        )
        self.assertEqual(groups, {cat["Desks"]: 1, cat["Lamps"]: 1})

    def test_incremental_refresh_updates_categories(self):
        """A new order refreshes the customer: cables lead, the stale
        category rows go."""
        self._lines_order(self.buyer, [("Cables", 5000.0)], date(2024, 6, 20))
        self._program()._engine().refresh_partners(self.buyer.ids, eval_date=E)
        profile = self._profile(self.buyer)
        cat = self.categories
        self.assertEqual(profile.main_category_id, cat["Cables"])
        self.assertEqual(
            profile.top_category_ids, cat["Cables"] | cat["Desks"] | cat["Chairs"]
        )
        # the window moves on: nothing left in it a year later
        self._run(date(2025, 12, 31))
        profile = self._profile(self.buyer)
        self.assertFalse(profile.main_category_id)
        self.assertFalse(profile.top_category_ids)


@tagged("post_install", "-at_install")
class TestShareOfWallet(DimensionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.known = cls._customer(
            "Known wallet",
            tier_estimated_purchase=50000.0,
            tier_estimated_currency_id=cls.eur.id,
        )
        cls.over = cls._customer(
            "Underestimated",
            tier_estimated_purchase=10000.0,
            tier_estimated_currency_id=cls.usd.id,
        )
        cls.unknown = cls._customer("Unknown wallet")
        for partner in cls.known | cls.over | cls.unknown:
            cls._lines_order(partner, [("Chairs", 20000.0)], date(2024, 3, 1))
        cls.prospect = cls._customer(
            "Prospect wallet",
            tier_estimated_purchase=80000.0,
            tier_estimated_currency_id=cls.usd.id,
        )
        cls._run(E)

    def test_share_of_wallet(self):
        # 50,000 EUR = 62,500 USD; 20,000 / 62,500 = 32 %
        known = self._profile(self.known)
        self.assertAlmostEqual(known.estimated_purchase, 62500.0)
        self.assertAlmostEqual(known.share_of_wallet, 0.32)
        self.assertAlmostEqual(known.share_of_wallet_raw, 0.32)
        self.assertEqual(known.wallet_band, "medium")
        # 20,000 / 10,000: capped at 100 %, raw value kept
        over = self._profile(self.over)
        self.assertAlmostEqual(over.share_of_wallet, 1.0)
        self.assertAlmostEqual(over.share_of_wallet_raw, 2.0)
        self.assertEqual(over.wallet_band, "dominant")
        # a prospect: nothing bought yet
        prospect = self._profile(self.prospect)
        self.assertAlmostEqual(prospect.share_of_wallet, 0.0)
        self.assertEqual(prospect.wallet_band, "low")

    def test_unknown_estimate_is_empty(self):
        row = self._raw(
            self.unknown,
            "estimated_purchase",
            "share_of_wallet",
            "share_of_wallet_raw",
            "wallet_band",
        )
        self.assertEqual(set(row.values()), {None})
        # averages leave the unknown out: (0.32 + 1.0 + 0.0) / 3
        Profile = self.env["customer.tier.profile"]
        [[average]] = Profile._read_group(
            [("company_id", "=", self.company.id)], [], ["share_of_wallet:avg"]
        )
        self.assertAlmostEqual(average, (0.32 + 1.0 + 0.0) / 3, places=4)

    def test_window_is_annualized(self):
        """A 24-month window: revenue per year = window revenue / 2."""
        self.program.window_months = 24
        self._run(E)
        self.assertAlmostEqual(self._profile(self.known).share_of_wallet, 0.16)

    def test_estimate_edit_updates_share(self):
        self.unknown.write(
            {
                "tier_estimated_purchase": 40000.0,
                "tier_estimated_currency_id": self.usd.id,
            }
        )
        self._program()._engine().refresh_partners(self.unknown.ids, eval_date=E)
        self.assertAlmostEqual(self._profile(self.unknown).share_of_wallet, 0.5)
        self.assertEqual(self._profile(self.unknown).wallet_band, "high")
        self.unknown.tier_estimated_purchase = 0.0
        self._program()._engine().refresh_partners(self.unknown.ids, eval_date=E)
        self.assertIsNone(self._raw(self.unknown, "share_of_wallet")["share_of_wallet"])


@tagged("post_install", "-at_install")
class TestRelationshipNeedsRegion(DimensionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        base = cls.env.ref
        cls.alliance = cls._customer(
            "Alliance",
            tier_relationship_type="strategic_alliance",
            tier_need_ids=[Command.set([cls.need["support"].id, cls.need["speed"].id])],
            country_id=base("base.fr").id,
        )
        cls.vendor = cls._customer(
            "Vendor only",
            tier_relationship_type="vendor",
            tier_need_ids=[Command.set(cls.need["price"].ids)],
            country_id=base("base.br").id,
        )
        cls.plain = cls._customer("Plain", country_id=base("base.us").id)
        cls.contact = cls._contact(cls.vendor, "Vendor buyer")
        for partner in cls.alliance | cls.vendor | cls.plain:
            cls._lines_order(partner, [("Chairs", 800.0)], date(2024, 5, 1))
        cls._run(E)

    def test_partner_filters(self):
        """The partner search filters of the view."""
        Partner = self.env["res.partner"]
        self.assertEqual(
            Partner.search([("tier_relationship_type", "=", "strategic_alliance")]),
            self.alliance,
        )
        price = Partner.search([("tier_need_ids.code", "=", "price_sensitive")])
        # contacts share the facts of their company (commercial fields)
        self.assertEqual(price, self.vendor | self.contact)
        self.assertEqual(self.contact.tier_relationship_type, "vendor")

    def test_profile_dimensions(self):
        alliance = self._profile(self.alliance)
        self.assertEqual(alliance.relationship_type, "strategic_alliance")
        self.assertEqual(alliance.need_ids, self.need["support"] | self.need["speed"])
        Profile = self.env["customer.tier.profile"]
        domain = [("company_id", "=", self.company.id)]
        self.assertEqual(
            Profile.search(
                [*domain, ("need_ids.code", "=", "price_sensitive")]
            ).partner_id,
            self.vendor,
        )
        by_relationship = dict(
            Profile._read_group(domain, ["relationship_type"], ["__count"])
        )
        self.assertEqual(
            by_relationship, {"strategic_alliance": 1, "vendor": 1, False: 1}
        )
        by_need = dict(Profile._read_group(domain, ["need_ids"], ["__count"]))
        self.assertEqual(by_need[self.need["price"]], 1)
        self.assertEqual(by_need[self.need["support"]], 1)

    def test_partner_change_follows_on_profile(self):
        """ORM changes of the partner reach the profile without a recompute."""
        self.plain.write(
            {
                "tier_relationship_type": "partner",
                "tier_need_ids": [Command.link(self.need["price"].id)],
            }
        )
        profile = self._profile(self.plain)
        self.assertEqual(profile.relationship_type, "partner")
        self.assertEqual(profile.need_ids, self.need["price"])
        self.plain.country_id = self.env.ref("base.jp")
        self.assertEqual(
            profile.region_id, self.env.ref("customer_tier.region_east_asia")
        )

    def test_region(self):
        europe = self.env.ref("customer_tier.region_europe")
        self.assertEqual(self._profile(self.alliance).region_id, europe)
        self.assertEqual(
            self._profile(self.vendor).region_id, self.env.ref("base.south_america")
        )
        self.assertFalse(self._profile(self.plain).region_id)  # not a program region
        # the smallest group holding the country wins: EU (27) over Europe
        eu = self.env.ref("base.europe")
        self.program.region_group_ids = [Command.link(eu.id)]
        self.assertEqual(self._profile(self.alliance).region_id, eu)
        self._run(E)
        self.assertEqual(self._profile(self.alliance).region_id, eu)
        Profile = self.env["customer.tier.profile"]
        groups = dict(
            Profile._read_group(
                [("company_id", "=", self.company.id)], ["region_id"], ["__count"]
            )
        )
        self.assertEqual(
            groups,
            {eu: 1, self.env.ref("base.south_america"): 1, Profile.region_id: 1},
        )


@tagged("post_install", "-at_install")
class TestCompetitors(DimensionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partner_manager = cls.env.ref("base.group_partner_manager")
        (cls.user_own | cls.user_all).write({"groups_id": [(4, partner_manager.id)]})
        cls.own = cls._customer("Own customer", user_id=cls.user_own.id)
        cls.other = cls._customer("Other customer", user_id=cls.user_all.id)
        cls.rival = cls._customer("Rival Supplies Ltd")
        for partner in cls.own | cls.other:
            cls._lines_order(partner, [("Desks", 900.0)], date(2024, 5, 1))
        cls.env["customer.tier.competitor"].create(
            [
                {
                    "partner_id": cls.other.id,
                    "competitor_partner_id": cls.rival.id,
                    "products": "Desks",
                    "estimated_share": 40.0,
                },
                {"partner_id": cls.other.id, "name": "Local workshop"},
            ]
        )
        cls._run(E)

    def test_competitor_lines(self):
        lines = self.other.tier_competitor_ids
        self.assertEqual(lines.mapped("name"), ["Rival Supplies Ltd", "Local workshop"])
        profile = self._profile(self.other)
        self.assertEqual(profile.competitor_count, 2)
        self.assertEqual(profile.competitor_ids, lines)
        Competitor = self.env["customer.tier.competitor"]
        with self.assertRaises(ValidationError):
            Competitor.create(
                {
                    "partner_id": self.other.id,
                    "name": "Too big",
                    "estimated_share": 70.0,
                }
            )
        with self.assertRaises(ValidationError):
            Competitor.create(
                {"partner_id": self.rival.id, "competitor_partner_id": self.rival.id}
            )
        Competitor.create({"partner_id": self.own.id, "name": "Newcomer"})
        self.assertEqual(self._profile(self.own).competitor_count, 1)
        Profile = self.env["customer.tier.profile"]
        self.assertEqual(
            Profile.search(
                [
                    ("company_id", "=", self.company.id),
                    ("partner_id.tier_competitor_ids.name", "ilike", "rival"),
                ]
            ).partner_id,
            self.other,
        )

    def test_own_salesperson_competitors(self):
        env = self._env_as(self.user_own)
        Competitor = env["customer.tier.competitor"]
        line = Competitor.create(
            {"partner_id": self.own.id, "name": "Their old supplier"}
        )
        line.estimated_share = 25.0
        self.assertEqual(self.own.with_env(env).tier_competitor_ids, line)
        # another salesperson's customer: neither seen nor changed
        self.assertFalse(self.other.with_env(env).tier_competitor_ids)
        with self.assertRaises(AccessError):
            Competitor.create({"partner_id": self.other.id, "name": "Sneaky"})
        # through the partner form of an own customer
        with Form(self.own.with_env(env), view="base.view_partner_form") as form:
            form.tier_relationship_type = "preferred_supplier"
            with form.tier_competitor_ids.new() as new:
                new.name = "Another rival"
                new.estimated_share = 10.0
        self.assertEqual(len(self.own.tier_competitor_ids), 2)
        self.assertEqual(self.own.tier_relationship_type, "preferred_supplier")


@tagged("post_install", "-at_install")
class TestClassification(DimensionCase):
    """The saved filters of the classification answer their questions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        grades = cls.grades
        grades["A"].min_score = 70.0
        grades["B"].min_score = 40.0
        grades["C"].min_score = 15.0
        fr = cls.env.ref("base.fr").id
        cls.core = cls._customer("Core FR", country_id=fr)
        for day in (date(2024, 2, 1), date(2024, 4, 1), date(2024, 6, 1)):
            cls._lines_order(cls.core, [("Chairs", 5000.0)], day)
        cls.general_price = cls._customer(
            "General price", tier_need_ids=[Command.set(cls.need["price"].ids)]
        )
        cls._lines_order(cls.general_price, [("Lamps", 600.0)], date(2024, 6, 1))
        cls.general = cls._customer("General")
        cls._lines_order(cls.general, [("Lamps", 600.0)], date(2024, 6, 1))
        big = {
            "tier_estimated_purchase": 500000.0,
            "tier_estimated_currency_id": cls.usd.id,
            "tier_company_size": "enterprise",
            "tier_reputation": "5",
            "tier_product_fit": "5",
        }
        cls.prospect_a = cls._customer("Prospect A idle", **big)
        cls.prospect_a_busy = cls._customer("Prospect A busy", **big)
        cls.prospect_a_busy.activity_schedule(
            "mail.mail_activity_data_call", date_deadline=E, user_id=cls.env.uid
        )
        cls._run(E)

    def _favorite(self, xmlid):
        favorite = self.env.ref(f"customer_tier.{xmlid}")
        domain = [*safe_eval(favorite.domain), ("company_id", "=", self.company.id)]
        return self.env["customer.tier.profile"].search(domain).partner_id, favorite

    def test_favorites(self):
        self.assertEqual(self._profile(self.core).tier_id, self.tier_a)
        self.assertEqual(self._profile(self.prospect_a).tier_id, self.grades["A"])
        partners, favorite = self._favorite("customer_tier_filter_core_by_region")
        self.assertEqual(partners, self.core)
        self.assertEqual(safe_eval(favorite.context)["group_by"], ["region_id"])
        partners, _favorite = self._favorite(
            "customer_tier_filter_prospects_a_no_followup"
        )
        self.assertEqual(partners, self.prospect_a)
        partners, _favorite = self._favorite(
            "customer_tier_filter_price_sensitive_general"
        )
        self.assertEqual(partners, self.general_price)
        partners, _favorite = self._favorite("customer_tier_filter_one_time_buyers")
        self.assertEqual(partners, self.general_price | self.general)
        for xmlid in (
            "customer_tier_filter_wallet_by_tier",
            "customer_tier_filter_needs_by_tier",
        ):
            self._favorite(xmlid)  # valid domains

    def test_pivot_every_dimension(self):
        """Every dimension groups with the tier (what the pivot asks)."""
        Profile = self.env["customer.tier.profile"]
        domain = [("company_id", "=", self.company.id)]
        for dimension in (
            "main_category_id",
            "top_category_ids",
            "need_ids",
            "industry_id",
            "country_id",
            "region_id",
            "frequency_class",
            "relationship_type",
            "wallet_band",
            "company_size",
            "source_id",
            "reputation",
            "product_fit",
            "is_prospect",
        ):
            with self.subTest(dimension=dimension):
                groups = Profile._read_group(
                    domain, [dimension, "tier_id"], ["__count"]
                )
                self.assertGreaterEqual(sum(count for *_keys, count in groups), 5)

    def test_views(self):
        Profile = self.env["customer.tier.profile"].with_env(
            self._env_as(self.user_manager)
        )
        action = self.env.ref("customer_tier.customer_tier_classification_action")
        views = Profile.get_views(
            [(view.view_id.id, view.view_mode) for view in action.view_ids]
            + [(action.search_view_id.id, "search")]
        )
        self.assertEqual(
            set(views["views"]), {"list", "pivot", "graph", "form", "search"}
        )
        self.assertIn("region_id", views["views"]["pivot"]["arch"])
        self.assertIn("prospects_a", views["views"]["search"]["arch"])
        profile = self._profile(self.prospect_a).with_env(
            self._env_as(self.user_manager)
        )
        with Form(profile) as form:
            self.assertIn("Score", form.prospect_score_explanation)
        for model, view in (
            ("customer.tier.need", "customer_tier.customer_tier_need_view_list"),
            (
                "customer.tier.competitor",
                "customer_tier.customer_tier_competitor_view_list",
            ),
        ):
            arch = self.env[model].get_views([(self.env.ref(view).id, "list")])
            self.assertTrue(arch["views"]["list"]["arch"])
        with Form(self.program.with_env(self._env_as(self.user_manager))) as form:
            form.prospect_weight_fit = 25
        self.assertEqual(self.program.prospect_weight_fit, 25)
        with Form(self.grades["A"].with_env(self._env_as(self.user_manager))) as form:
            form.min_score = 75.0
        self.assertEqual(self.grades["A"].min_score, 75.0)
        partner_views = self.env["res.partner"].get_views([(False, "search")])
        self.assertIn("tier_rel_alliance", partner_views["views"]["search"]["arch"])
