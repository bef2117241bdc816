from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import CustomerTierCase

D1 = date(2024, 3, 31)
EVAL = date(2024, 6, 30)


class TierReportsCommon(CustomerTierCase):
    """Ten buying customers and a prospect of company A, two full evaluations
    (31 March and 30 June 2024), hence tier moves between them.

    Thresholds: A from 10,000, B from 3,000, C from 1,000, D the rest (no other
    condition, no downgrade grace). Window revenue on 30 June:

    ====  =======  ===========  ===============================
    c1     20,000  user_own     two orders (cycle 90 days)
    c2     12,000  salesman2
    c3      5,000  salesman2    15,000 in May 2023: A -> B in Q2
    c4      3,000  user_own     first order in May 2024
    c5      2,000  user_own     two orders, reorder overdue
    c6      1,500  salesman2
    c7      1,000  -
    c8        800  user_own
    c9        500  -
    c10       200  -
    ====  =======  ===========  ===============================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # company A only: the users of company A work in it
        cls.env = cls.env(
            context=dict(cls.env.context, allowed_company_ids=[cls.company.id])
        )
        cls.program.write({"grace_length": 0, "auto_apply": True})
        zero = {"min_orders": 0, "max_recency_days": 0, "min_margin": 0}
        cls._set_thresholds(
            cls.program,
            {
                "A": dict(zero, min_revenue=10000),
                "B": dict(zero, min_revenue=3000),
                "C": dict(zero, min_revenue=1000),
            },
        )
        cls.manager = cls.user_manager
        cls.salesman = cls.user_own
        cls.salesman2 = mail_new_test_user(
            cls.env,
            login="ct_rep_sales2",
            name="Report Salesman Two",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        be, cn = cls.env.ref("base.be"), cls.env.ref("base.cn")
        cls.industry = cls.env["res.partner.industry"].create({"name": "Ceramics"})
        owners = [
            cls.salesman,
            cls.salesman2,
            cls.salesman2,
            cls.salesman,
            cls.salesman,
            cls.salesman2,
            None,
            cls.salesman,
            None,
            None,
        ]
        cls.customers = cls.env["res.partner"]
        for i, owner in enumerate(owners, start=1):
            cls.customers |= cls._customer(
                f"Report Customer {i:02d}",
                user_id=owner.id if owner else False,
                country_id=(be if i % 2 else cn).id,
                industry_id=cls.industry.id if i <= 3 else False,
                email=f"c{i}@example.com",
            )
        cls.prospect = cls._customer(
            "Report Prospect", customer_rank=1, user_id=cls.salesman.id
        )
        c = cls.customers
        for partner, day, amount in (
            (c[0], "2024-02-10", 10000),
            (c[0], "2024-05-10", 10000),
            (c[1], "2024-01-15", 12000),
            (c[2], "2023-05-15", 15000),
            (c[2], "2024-04-20", 5000),
            (c[3], "2024-05-05", 3000),
            (c[4], "2023-12-01", 1000),
            (c[4], "2024-01-01", 1000),
            (c[5], "2024-03-01", 1500),
            (c[6], "2024-02-01", 1000),
            (c[7], "2024-03-15", 800),
            (c[8], "2024-01-20", 500),
            (c[9], "2024-02-20", 200),
        ):
            cls._order(partner, amount, date.fromisoformat(day))
        cls._run(D1)
        cls._run(EVAL)
        cls.Profile = cls.env["customer.tier.profile"]
        cls.profiles = cls.Profile.search([("company_id", "=", cls.company.id)])
        cls.profile = {p.partner_id: p for p in cls.profiles}

    def profile_of(self, index):
        return self.profile[self.customers[index]]


@tagged("post_install", "-at_install")
class TestTierReports(TierReportsCommon):
    def test_fixture(self):
        self.assertEqual(len(self.profiles), 11)
        self.assertEqual(self.profile_of(0).tier_id, self.tier_a)
        self.assertEqual(self.profile_of(2).tier_id, self.tier_b)
        self.assertEqual(self.profile_of(0).user_id, self.salesman)
        self.assertEqual(self.profile_of(1).country_id, self.env.ref("base.cn"))
        self.assertTrue(self.profile_of(4).reorder_overdue)

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------
    def test_views_load(self):
        ref = self.env.ref
        cases = {
            "customer.tier.profile": [
                ("customer_tier.customer_tier_profile_view_pivot_analysis", "pivot"),
                ("customer_tier.customer_tier_profile_view_graph_analysis", "graph"),
                ("customer_tier.customer_tier_profile_view_search_analysis", "search"),
            ],
            "customer.tier.pareto.report": [
                ("customer_tier.customer_tier_pareto_report_view_list", "list"),
                ("customer_tier.customer_tier_pareto_report_view_pivot", "pivot"),
                ("customer_tier.customer_tier_pareto_report_view_graph", "graph"),
                ("customer_tier.customer_tier_pareto_report_view_search", "search"),
            ],
            "customer.tier.history": [
                ("customer_tier.customer_tier_history_view_pivot_migration", "pivot"),
                ("customer_tier.customer_tier_history_view_graph_migration", "graph"),
                ("customer_tier.customer_tier_history_view_search_migration", "search"),
            ],
        }
        for model, views in cases.items():
            for user in (self.manager, self.salesman):
                result = (
                    self.env[model]
                    .with_user(user)
                    .get_views([(ref(xmlid).id, kind) for xmlid, kind in views])
                )
                self.assertEqual(
                    set(result["views"]), {kind for _x, kind in views}, model
                )
        pivot = self.env["customer.tier.profile"].get_views(
            [
                (
                    ref("customer_tier.customer_tier_profile_view_pivot_analysis").id,
                    "pivot",
                )
            ]
        )["views"]["pivot"]["arch"]
        for measure in ("revenue_window", "margin_window", "average_order_value"):
            self.assertIn(f'name="{measure}"', pivot)
        for xmlid in (
            "customer_tier.customer_tier_analysis_action",
            "customer_tier.customer_tier_pareto_report_action",
            "customer_tier.customer_tier_migration_action",
            "customer_tier.customer_tier_workbook_wizard_action",
        ):
            action = (
                self.env["ir.actions.act_window"]
                .with_user(self.manager)
                ._for_xml_id(xmlid)
            )
            self.assertTrue(action["res_model"])
        menus = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(ref("customer_tier.customer_tier_pareto_report_menu").id, menus)
        menus = self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids()
        # Sales > Reporting is for sales managers; salespeople export from
        # Sales > Customer Tiers
        self.assertEqual(
            ref("customer_tier.customer_tier_analysis_menu").parent_id,
            ref("sale.menu_sale_report"),
        )
        self.assertNotIn(ref("sale.menu_sale_report").id, menus)
        self.assertIn(ref("customer_tier.customer_tier_workbook_user_menu").id, menus)
        # the export wizard form opens for a salesperson
        wizard = Form(
            self.env["customer.tier.workbook.wizard"].with_user(self.salesman)
        )
        self.assertEqual(wizard.company_id, self.company)

    # ------------------------------------------------------------------
    # Analysis measures
    # ------------------------------------------------------------------
    def test_read_group_measures_sum_to_profiles(self):
        Profile = self.Profile.with_user(self.manager)
        domain = [("company_id", "=", self.company.id)]
        fields_ = [
            "revenue_window:sum",
            "margin_window:sum",
            "order_count_window:sum",
            "average_order_value:avg",
        ]
        for groupby in (
            "tier_id",
            "country_id",
            "user_id",
            "industry_id",
            "frequency_class",
            "rfm_segment_id",
            "is_prospect",
        ):
            groups = Profile.read_group(domain, fields_, [groupby], lazy=False)
            self.assertEqual(sum(g["__count"] for g in groups), 11, groupby)
            for fname in ("revenue_window", "margin_window", "order_count_window"):
                self.assertAlmostEqual(
                    sum(g[fname] for g in groups),
                    sum(self.profiles.mapped(fname)),
                    places=2,
                    msg=f"{fname} by {groupby}",
                )
            for group in groups:
                members = self.profiles.filtered_domain(group["__domain"])
                self.assertEqual(len(members), group["__count"])
                self.assertAlmostEqual(
                    group["average_order_value"],
                    sum(members.mapped("average_order_value")) / len(members),
                    places=2,
                )
        by_tier = {
            g["tier_id"] and g["tier_id"][0]: g
            for g in Profile.read_group(domain, fields_, ["tier_id"], lazy=False)
        }
        self.assertEqual(by_tier[False]["__count"], 1)  # the prospect, no grade
        self.assertEqual(by_tier[self.tier_a.id]["__count"], 2)
        self.assertEqual(by_tier[self.tier_a.id]["revenue_window"], 32000)
        self.assertEqual(by_tier[self.tier_c.id]["revenue_window"], 4500)

    def test_saved_filters(self):
        filters = self.env["ir.filters"].search(
            [
                (
                    "action_id",
                    "in",
                    [
                        self.env.ref("customer_tier.customer_tier_analysis_action").id,
                        self.env.ref("customer_tier.customer_tier_migration_action").id,
                        self.env.ref(
                            "customer_tier.customer_tier_pareto_report_action"
                        ).id,
                    ],
                )
            ]
        )
        self.assertGreaterEqual(len(filters), 8)
        for saved in filters:
            domain = saved._get_eval_domain()
            context = safe_eval(saved.context)
            records = self.env[saved.model_id].with_user(self.manager).search(domain)
            groupby = context["group_by"]
            self.env[saved.model_id].with_user(self.manager).read_group(
                domain, ["__count"], groupby, lazy=False
            )
            self.assertIsNotNone(records)
        pareto = self.env.ref("customer_tier.customer_tier_filter_pareto_report_80")
        top = self.env["customer.tier.pareto.report"].search(
            [("company_id", "=", self.company.id), *pareto._get_eval_domain()]
        )
        # 20,000 + 12,000 + 5,000 = 80.4 % > 80 %: the first two stay below
        self.assertEqual(top.partner_id, self.customers[:2])

    # ------------------------------------------------------------------
    # 80/20
    # ------------------------------------------------------------------
    def test_pareto_report(self):
        Report = self.env["customer.tier.pareto.report"].with_user(self.manager)
        rows = Report.search([("company_id", "=", self.company.id)])
        self.assertEqual(rows.partner_id, self.customers)  # ranked, no prospect
        self.assertEqual(rows.mapped("pareto_rank"), list(range(1, 11)))
        for row in rows:
            profile = self.profile[row.partner_id]
            self.assertEqual(row.pareto_rank, profile.pareto_rank)
            self.assertAlmostEqual(
                row.cumulative_share, 100 * profile.cumulative_share, places=2
            )
            self.assertAlmostEqual(
                row.revenue_share, 100 * profile.revenue_share, places=2
            )
        self.assertEqual(
            rows.filtered(lambda r: r.band == "1_top").partner_id, self.customers[:2]
        )
        # the headline: share of revenue held by the top 20 % of customers
        groups = Report.read_group(
            [("company_id", "=", self.company.id)],
            ["revenue_window:sum", "revenue_share:sum", "cumulative_share:max"],
            ["band"],
            lazy=False,
        )
        top = next(g for g in groups if g["band"] == "1_top")
        self.assertEqual(top["__count"], 2)
        self.assertEqual(top["revenue_window"], 32000)
        self.assertAlmostEqual(top["cumulative_share"], 100 * 32000 / 46000, places=2)
        self.assertAlmostEqual(top["revenue_share"], 100 * 32000 / 46000, places=2)
        deciles = Report.read_group(
            [("company_id", "=", self.company.id)],
            ["cumulative_share:max"],
            ["decile"],
            lazy=False,
        )
        self.assertEqual(
            [g["decile"] for g in deciles], [f"{d:02d}" for d in range(1, 11)]
        )
        self.assertAlmostEqual(deciles[-1]["cumulative_share"], 100.0, places=2)

    def test_pareto_report_access(self):
        Report = self.env["customer.tier.pareto.report"]
        own = Report.with_user(self.salesman).search([])
        c = self.customers
        self.assertEqual(own.partner_id, c[0] | c[3] | c[4] | c[7])
        # ranked among own customers: nothing of the others shows through
        self.assertEqual(own.mapped("pareto_rank"), [1, 2, 3, 4])
        # company B sees none of company A's customers
        self.assertFalse(Report.with_env(self._env_as(self.user_b)).search([]))
        self.assertFalse(
            Report.with_user(self.user_all).search(
                [("company_id", "=", self.company_b.id)]
            )
        )
        self.assertEqual(len(Report.with_user(self.user_all).search([])), 10)

    # ------------------------------------------------------------------
    # Migration
    # ------------------------------------------------------------------
    def test_migration_matrix(self):
        History = self.env["customer.tier.history"].with_user(self.manager)
        for start, end in (
            (date(2024, 4, 1), EVAL),
            (date(2024, 1, 1), EVAL),
            (date(2023, 1, 1), date(2023, 12, 31)),
        ):
            domain = [
                ("company_id", "=", self.company.id),
                ("date", ">=", start),
                ("date", "<=", end),
            ]
            groups = History.read_group(
                domain,
                ["revenue_window:sum"],
                ["from_tier_id", "to_tier_id"],
                lazy=False,
            )
            moves = History.search(domain)
            self.assertEqual(sum(g["__count"] for g in groups), len(moves))
            for group in groups:
                cell = moves.filtered_domain(group["__domain"])
                self.assertEqual(len(cell), group["__count"])
                self.assertAlmostEqual(
                    sum(cell.mapped("revenue_window")),
                    group["revenue_window"],
                    places=2,
                )
        q2 = History.search(
            [
                ("company_id", "=", self.company.id),
                ("date", ">=", date(2024, 4, 1)),
                ("date", "<=", EVAL),
            ]
        )
        down = q2.filtered(
            lambda h: h.from_tier_id == self.tier_a and h.to_tier_id == self.tier_b
        )
        self.assertEqual(down.partner_id, self.customers[2])
        self.assertEqual(down.direction, "down")

    # ------------------------------------------------------------------
    # Tier card (QWeb PDF)
    # ------------------------------------------------------------------
    def test_tier_card(self):
        report = self.env.ref("customer_tier.customer_tier_card_report_action")
        self.assertEqual(report.binding_model_id.model, "customer.tier.profile")
        profile = self.profile_of(2)
        html, kind = report.with_user(self.manager)._render_qweb_html(
            report.report_name, profile.ids
        )
        self.assertEqual(kind, "html")
        html = html.decode()
        self.assertIn("Report Customer 03", html)
        self.assertIn(self.tier_b.name, html)
        self.assertIn("Tier trend", html)
        self.assertIn("Next expected order", html)
        self.assertNotIn("Points", html)  # no points data: nothing printed
        # a salesperson prints the card of an own customer
        html, _kind = report.with_user(self.salesman)._render_qweb_html(
            report.report_name, self.profile_of(0).ids
        )
        self.assertIn("Report Customer 01", html.decode())
        # the extension hook prints extra lines when a feature returns some
        Card = type(self.env["report.customer_tier.report_customer_tier_card"])
        with patch.object(
            Card, "_card_extra_lines", lambda self, p: [("Loyalty points", "1,234")]
        ):
            html, _kind = report._render_qweb_html(report.report_name, profile.ids)
        self.assertIn("Loyalty points", html.decode())

    def test_tier_card_pdf(self):
        """Only where wkhtmltopdf is installed (the test database may lack it)."""
        from odoo.addons.base.models.ir_actions_report import wkhtmltopdf_state

        if wkhtmltopdf_state != "ok":
            self.skipTest("wkhtmltopdf is not available")
        report = self.env.ref("customer_tier.customer_tier_card_report_action")
        report = report.with_context(force_report_rendering=True)
        pdf, kind = report._render_qweb_pdf(report.report_name, self.profile_of(0).ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
