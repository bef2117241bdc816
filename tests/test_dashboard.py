"""Issue 19: the Customer Tiers dashboard of the Dashboards app.

The dashboard is a spreadsheet (data/files/customer_tier_dashboard.json)
whose pivots, lists and charts the web client loads through the ORM as the
user who opens it. These tests check the file against the models (every
model, field, field chain, filter matching, formula and menu it names) and
run each data source as the web client would (its domain, the global filters'
domains, its measures and group-bys) for users of different reach: the record
rules decide what each one counts.

Fixture (company A unless said otherwise, evaluated on 2024-06-30; the moves
of the first evaluation are dated the day it runs):

* the own-documents salesperson's customers: Own Big 5,000, Own Small 1,000;
* the all-documents salesperson's customers: Big 20,000, Mid 3,000, Low 600;
* company B: B Customer 700 (company B's salesperson), and Own Big 9,000;
* Own Small and Big are churn risks; Own Big and Mid have a follow-up overdue,
  the others one in the future.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools import file_open, file_path

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.spreadsheet.utils.validate_data import (
    fields_in_spreadsheet,
    menus_xml_ids_in_spreadsheet,
    odoo_charts,
)

from .common import CustomerTierCase

DASHBOARD = "customer_tier.spreadsheet_dashboard_customer_tier"
PROFILE = "customer.tier.profile"
HISTORY = "customer.tier.history"
PARETO = "customer.tier.pareto.report"
FORMULA = re.compile(r"(PIVOT\.VALUE|PIVOT\.HEADER|ODOO\.LIST)\(([^()]*)\)")


@tagged("post_install", "-at_install")
class TestDashboard(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref(DASHBOARD)
        cls.data = json.loads(cls.dashboard.spreadsheet_data)
        cls.filters = {f["label"]: f for f in cls.data["globalFilters"]}

        cls.own_big = cls._customer("Own Big", user_id=cls.user_own.id)
        cls.own_small = cls._customer("Own Small", user_id=cls.user_own.id)
        cls.big = cls._customer("Big", user_id=cls.user_all.id)
        cls.mid = cls._customer("Mid", user_id=cls.user_all.id)
        cls.low = cls._customer("Low", user_id=cls.user_all.id)
        cls.b_customer = cls._customer("B Customer", user_id=cls.user_b.id)
        for partner, amount in (
            (cls.own_big, 5000),
            (cls.own_small, 1000),
            (cls.big, 20000),
            (cls.mid, 3000),
            (cls.low, 600),
        ):
            cls._order(partner, amount, date(2024, 6, 1))
        cls._order(cls.own_big, 9000, date(2024, 6, 1), company=cls.company_b)
        cls._order(cls.b_customer, 700, date(2024, 6, 1), company=cls.company_b)
        cls._run()
        cls._run(company=cls.company_b)
        cls.profiles = {
            p: cls._profile(p)
            for p in (cls.own_big, cls.own_small, cls.big, cls.mid, cls.low)
        }
        (cls.profiles[cls.own_small] | cls.profiles[cls.big]).churn_risk = True
        today = fields.Date.context_today(cls.dashboard)
        for partner, days in (
            (cls.own_big, -3),
            (cls.own_small, 5),
            (cls.big, 10),
            (cls.mid, -20),
            (cls.low, 30),
        ):
            cls.profiles[partner].next_followup_date = today + timedelta(days)
        cls.env.flush_all()
        cls.employee = mail_new_test_user(
            cls.env,
            login="ct_dash_employee",
            name="Employee Without Sales",
            groups="base.group_user",
            company_id=cls.company.id,
        )

    # ------------------------------------------------------------------
    # Helpers: the data sources of the file, run as the web client does
    # ------------------------------------------------------------------
    def _sources(self):
        """(kind, id, definition) of every ORM data source of the dashboard."""
        sources = [("pivot", pid, p) for pid, p in self.data["pivots"].items()]
        sources += [("list", lid, li) for lid, li in self.data["lists"].items()]
        sources += [("chart", c["id"], c) for c in odoo_charts(self.data)]
        return sources

    @staticmethod
    def _model(source):
        return source.get("model") or source["metaData"]["resModel"]

    def _filter_domain(self, source, values):
        """Domain the global filters add to ``source`` for ``values``
        (filter label -> ids, or (start, end) for the period)."""
        domain = []
        for label, value in values.items():
            match = source["fieldMatching"].get(self.filters[label]["id"])
            if not match or not value:
                continue
            if self.filters[label]["type"] == "date":
                start, end = value
                domain += [(match["chain"], ">=", start), (match["chain"], "<=", end)]
            else:
                domain.append((match["chain"], "in", value))
        return domain

    def _pivot(self, env, name, values=None):
        """read_group of the pivot named ``name`` as ``env``'s user, keyed by
        the row (and column) values."""
        pivot = next(p for p in self.data["pivots"].values() if p["name"] == name)
        groupby = [r["fieldName"] for r in pivot["rows"] + pivot["columns"]]
        measures = [
            m["fieldName"] for m in pivot["measures"] if m["fieldName"] != "__count"
        ]
        domain = pivot["domain"] + self._filter_domain(pivot, values or {})
        groups = env[pivot["model"]].read_group(domain, measures, groupby, lazy=False)
        result = {}
        for group in groups:
            key = tuple(
                group[g][0] if isinstance(group[g], tuple) else group[g]
                for g in groupby
            )
            result[key] = group
        return result

    def _list(self, env, name, values=None):
        lst = next(li for li in self.data["lists"].values() if li["name"] == name)
        order = ", ".join(
            "{} {}".format(o["name"], "asc" if o["asc"] else "desc")
            for o in lst["orderBy"]
        )
        domain = lst["domain"] + self._filter_domain(lst, values or {})
        return env[lst["model"]].search(domain, order=order)

    def _run_all(self, env, values=None):
        """Every data source, as ``env``'s user: nothing may raise."""
        for kind, _sid, source in self._sources():
            model = env[self._model(source)]
            domain = (
                source["searchParams"]["domain"]
                if kind == "chart"
                else source["domain"]
            ) + self._filter_domain(source, values or {})
            if kind == "list":
                model.search_read(domain, source["columns"], limit=10)
            elif kind == "pivot":
                model.read_group(
                    domain,
                    [
                        m["fieldName"]
                        for m in source["measures"]
                        if m["fieldName"] != "__count"
                    ],
                    [r["fieldName"] for r in source["rows"] + source["columns"]],
                    lazy=False,
                )
            else:
                meta = source["metaData"]
                measures = [] if meta["measure"] == "__count" else [meta["measure"]]
                model.read_group(domain, measures, meta["groupBy"], lazy=False)

    def _month(self, offset):
        """First and last day of the month ``offset`` months from today's."""
        start = fields.Date.start_of(
            fields.Date.context_today(self.dashboard), "month"
        ) + relativedelta(months=offset)
        return start, fields.Date.end_of(start, "month")

    def _count(self, env, name, values=None, key=()):
        group = self._pivot(env, name, values).get(key)
        return group["__count"] if group else 0

    # ------------------------------------------------------------------
    # The record and its file
    # ------------------------------------------------------------------
    def test_dashboard_record(self):
        dashboard = self.dashboard
        self.assertEqual(dashboard.name, "Customer Tiers")
        self.assertTrue(dashboard.is_published)
        self.assertEqual(
            dashboard.dashboard_group_id,
            self.env.ref("spreadsheet_dashboard.spreadsheet_dashboard_group_sales"),
        )
        self.assertEqual(
            dashboard.group_ids,
            self.env.ref("customer_tier.group_customer_tier_user"),
        )
        # the file passes the spreadsheet module's own check of its fields
        dashboard._check_spreadsheet_data()
        self.assertEqual(
            {s["name"] for s in self.data["sheets"]}, {"Dashboard", "Data"}
        )

    def test_file_is_built_by_the_script(self):
        """The file is what tools/build_dashboard.py writes (no spreadsheet
        editor in the community edition: the script is the source)."""
        script = file_path("customer_tier/tools/build_dashboard.py")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "dashboard.json")
            subprocess.run([sys.executable, script, out], check=True, timeout=60)
            with open(out) as f:
                built = json.load(f)
        with file_open("customer_tier/data/files/customer_tier_dashboard.json") as f:
            self.assertEqual(json.load(f), built)
        self.assertEqual(self.data, built)

    def test_fields_exist(self):
        """Every model, field and field chain the file names exists: pivots
        (measures, rows, columns, domain), lists (columns, order, domain),
        charts (measure, group-by, domain) and the filters' matchings."""
        for model, names in fields_in_spreadsheet(self.data).items():
            self.assertIn(model, self.env)
            for chain in names:
                self._check_chain(model, chain)
        for kind, sid, source in self._sources():
            model = self._model(source)
            self.assertIn(model, (PROFILE, HISTORY, PARETO), (kind, sid))
            Model = self.env[model]
            if kind == "pivot":
                for m in source["measures"]:
                    if m["fieldName"] != "__count":
                        field = Model._fields[m["fieldName"]]
                        self.assertTrue(field.aggregator, (sid, field.name))
                for g in source["rows"] + source["columns"]:
                    name = g["fieldName"]
                    self.assertTrue(
                        Model.fields_get([name], ["groupable"])[name]["groupable"]
                    )
            elif kind == "list":
                for name in source["columns"] + [o["name"] for o in source["orderBy"]]:
                    self.assertIn(name, Model._fields, (sid, name))
            for leaf in (
                source["searchParams"]["domain"]
                if kind == "chart"
                else source["domain"]
            ):
                if isinstance(leaf, list):
                    self._check_chain(model, leaf[0])

    def _check_chain(self, model, chain):
        Model = self.env[model]
        for name in chain.split("."):
            self.assertIn(name, Model._fields, (model, chain))
            field = Model._fields[name]
            if field.relational:
                Model = self.env[field.comodel_name]
        return field

    def test_filter_matchings(self):
        """Each filter is matched to the right field of each data source: the
        period on the date of a tier move (the profiles and the 80/20 are the
        state at the last evaluation), the company on the company, the
        salesperson on the salesperson except for the 80/20 report (a subset
        of a company's ranking is no 80/20 curve)."""
        self.assertEqual(set(self.filters), {"Period", "Company", "Salesperson"})
        expected = {
            "Period": {HISTORY: "date"},
            "Company": {PROFILE: "company_id", HISTORY: "company_id"},
            "Salesperson": {PROFILE: "user_id", HISTORY: "user_id"},
        }
        expected["Company"][PARETO] = "company_id"
        for kind, sid, source in self._sources():
            model = self._model(source)
            for label, flt in self.filters.items():
                match = source["fieldMatching"].get(flt["id"])
                chain = expected[label].get(model)
                self.assertEqual(match and match["chain"], chain, (kind, sid, label))
                if not chain:
                    continue
                field = self._check_chain(model, chain)
                if flt["type"] == "date":
                    self.assertIn(field.type, ("date", "datetime"))
                    self.assertEqual(match["type"], field.type)
                else:
                    self.assertEqual(field.type, "many2one")
                    self.assertEqual(field.comodel_name, flt["modelName"])
        for source in self._sources():
            self.assertFalse(
                set(source[2]["fieldMatching"])
                - {f["id"] for f in self.filters.values()}
            )
        self.assertEqual(self.filters["Period"]["defaultValue"], "this_month")

    def test_formulas_reference_sources(self):
        """PIVOT.VALUE / PIVOT.HEADER name a pivot of the file and one of its
        measures or group-bys; ODOO.LIST a list and one of its columns."""
        pivots = self.data["pivots"]
        lists = self.data["lists"]
        seen = set()
        for sheet in self.data["sheets"]:
            for ref, cell in sheet["cells"].items():
                for func, args in FORMULA.findall(cell.get("content", "")):
                    args = [a.strip().strip('"') for a in args.split(",")]
                    seen.add(func)
                    if func == "ODOO.LIST":
                        self.assertIn(args[0], lists, ref)
                        self.assertIn(args[2], lists[args[0]]["columns"], ref)
                        continue
                    pivot = pivots[args[0]]
                    groupbys = {
                        g["fieldName"] for g in pivot["rows"] + pivot["columns"]
                    }
                    rest = args[1:]
                    if func == "PIVOT.VALUE":
                        measures = {m["fieldName"] for m in pivot["measures"]}
                        self.assertIn(rest[0], measures, ref)
                        rest = rest[1:]
                    for name in rest[::2]:
                        self.assertIn(name.lstrip("#"), groupbys, ref)
        self.assertEqual(seen, {"PIVOT.VALUE", "PIVOT.HEADER", "ODOO.LIST"})
        # every pivot and list is used
        used = json.dumps(self.data["sheets"])
        for pid in pivots:
            self.assertRegex(used, r"PIVOT\.(VALUE|HEADER)\(%s," % pid)
        for lid in lists:
            self.assertIn("ODOO.LIST(%s," % lid, used)

    def test_menus_and_charts(self):
        for xmlid in menus_xml_ids_in_spreadsheet(self.data):
            menu = self.env.ref(xmlid)
            self.assertTrue(menu.action, xmlid)
        sheets = {s["name"] for s in self.data["sheets"]}
        figures = [f for s in self.data["sheets"] for f in s["figures"]]
        for figure in figures:
            chart = figure["data"]
            ranges = [d["dataRange"] for d in chart.get("dataSets", [])]
            ranges += [chart[k] for k in ("labelRange", "keyValue") if chart.get(k)]
            for rng in ranges:
                self.assertIn(rng.split("!")[0], sheets, rng)
        # the 80/20 curve: one point per customer decile (share of the ranked
        # customers, share of revenue they bring) from the 80/20 report, on a
        # linear axis, and the 80 % line
        curve = next(f["data"] for f in figures if f["data"]["type"] == "line")
        self.assertFalse(curve["labelsAsText"])
        data_sheet = next(s for s in self.data["sheets"] if s["name"] == "Data")
        cells = data_sheet["cells"]
        first = int(re.search(r"\d+", curve["labelRange"]).group())
        self.assertEqual(curve["labelRange"], "Data!A%d:A%d" % (first, first + 10))
        self.assertEqual(
            [d["dataRange"] for d in curve["dataSets"]],
            [
                "Data!B%d:B%d" % (first - 1, first + 10),
                "Data!C%d:C%d" % (first - 1, first + 10),
            ],
        )
        self.assertEqual(cells["A%d" % first]["content"], "0")
        self.assertEqual(cells["B%d" % first]["content"], "0")
        for k in range(1, 11):
            for column, fname in (("A", "customer_share"), ("B", "cumulative_share")):
                self.assertIn(
                    'PIVOT.VALUE(2,"%s","decile","%02d")' % (fname, k),
                    cells["%s%d" % (column, first + k)]["content"],
                )
        self.assertEqual(
            {cells["C%d" % (first + k)]["content"] for k in range(11)}, {"0.8"}
        )
        self.assertEqual(self.data["pivots"]["2"]["model"], PARETO)
        self.assertEqual(self.data["pivots"]["2"]["rows"], [{"fieldName": "decile"}])

    # ------------------------------------------------------------------
    # Who sees it, and what each one counts
    # ------------------------------------------------------------------
    def test_visible_to_tier_users_only(self):
        Dashboard = self.env["spreadsheet.dashboard"]
        for user in (self.user_own, self.user_all, self.user_manager, self.user_b):
            self.assertIn(
                self.dashboard,
                Dashboard.with_env(self._env_as(user)).search([]),
                user.login,
            )
        employee = self._env_as(self.employee)
        self.assertNotIn(self.dashboard, Dashboard.with_env(employee).search([]))
        group = self.env["spreadsheet.dashboard.group"].with_env(employee)
        sales = group.search([("id", "=", self.dashboard.dashboard_group_id.id)])
        self.assertNotIn(self.dashboard, sales.published_dashboard_ids)

    def test_readonly_dashboard(self):
        for user in (self.user_own, self.user_manager, self.user_b):
            data = self.dashboard.with_env(self._env_as(user)).get_readonly_dashboard()
            self.assertFalse(data.get("is_sample"))
            self.assertEqual(data["snapshot"]["pivots"], self.data["pivots"])
            self.assertEqual(data["revisions"], [])
            self.assertEqual(data["default_currency"]["code"], "USD")

    def test_all_sources_run_as_each_user(self):
        month = self._month(0)
        for user in (self.user_own, self.user_all, self.user_manager, self.user_b):
            env = self._env_as(user)
            self._run_all(env)
            self._run_all(
                env,
                {
                    "Period": month,
                    "Company": [user.company_id.id],
                    "Salesperson": [user.id],
                },
            )

    def test_manager_figures(self):
        env = self._env_as(self.user_manager)
        tiers = self._pivot(env, "Customers by tier")
        self.assertEqual(sum(g["__count"] for g in tiers.values()), 5)
        self.assertEqual(sum(g["revenue_window"] for g in tiers.values()), 29600)
        # Big 20,000: A needs 3 orders -> B; B needs 2 orders -> C for all
        self.assertEqual(
            {k[0]: g["__count"] for k, g in tiers.items()}, {self.tier_c.id: 5}
        )
        bands = self._pivot(env, "80/20 bands")
        # top 20 % of 5 customers: the first one, Big, 20,000 of 29,600
        self.assertEqual(bands[("1_top",)]["__count"], 1)
        self.assertAlmostEqual(
            bands[("1_top",)]["cumulative_share"], 100 * 20000 / 29600, places=2
        )
        deciles = self._pivot(env, "80/20 curve by customer decile")
        self.assertEqual(
            {k[0]: round(g["cumulative_share"], 2) for k, g in deciles.items()},
            {
                "02": round(100 * 20000 / 29600, 2),
                "04": round(100 * 25000 / 29600, 2),
                "06": round(100 * 28000 / 29600, 2),
                "08": round(100 * 29000 / 29600, 2),
                "10": 100.0,
            },
        )
        self.assertEqual(self._count(env, "Churn risks"), 2)
        self.assertEqual(self._count(env, "Overdue follow-ups"), 2)
        self.assertEqual(
            self._list(env, "Overdue follow-ups, oldest first").partner_id,
            self.mid | self.own_big,
        )
        self.assertEqual(
            self._list(env, "Churn risks by revenue").partner_id,
            self.big | self.own_small,
        )
        # the first evaluation's moves are dated the day they were written
        this_month = {"Period": self._month(0)}
        self.assertEqual(
            self._count(env, "Tier moves by direction", this_month, ("new",)), 5
        )
        self.assertEqual(
            self._count(env, "Tier moves by direction", {"Period": self._month(1)}),
            0,
        )
        # the salesperson filter narrows the manager's view to one portfolio
        own = {"Salesperson": [self.user_own.id]}
        tiers = self._pivot(env, "Customers by tier", own)
        self.assertEqual(sum(g["__count"] for g in tiers.values()), 2)
        self.assertEqual(sum(g["revenue_window"] for g in tiers.values()), 6000)
        self.assertEqual(self._count(env, "Churn risks", own), 1)
        self.assertEqual(
            self._list(env, "Latest tier moves", own).partner_id,
            self.own_big | self.own_small,
        )

    def test_own_documents_salesperson_counts_own_customers(self):
        env = self._env_as(self.user_own)
        tiers = self._pivot(env, "Customers by tier")
        self.assertEqual(sum(g["__count"] for g in tiers.values()), 2)
        self.assertEqual(sum(g["revenue_window"] for g in tiers.values()), 6000)
        regions = self._pivot(env, "Revenue by region and tier")
        self.assertEqual(sum(g["revenue_window"] for g in regions.values()), 6000)
        # the 80/20 among own customers: the top 20 % is Own Big, 5,000 of 6,000
        bands = self._pivot(env, "80/20 bands")
        self.assertEqual(bands[("1_top",)]["__count"], 1)
        self.assertEqual(bands[("1_top",)]["revenue_window"], 5000)
        self.assertAlmostEqual(
            bands[("1_top",)]["cumulative_share"], 100 * 5000 / 6000, places=2
        )
        self.assertEqual(sum(g["__count"] for g in bands.values()), 2)
        # the curve's points: Own Big is half of the customers and 5/6 of the
        # revenue, both are all of it
        deciles = self._pivot(env, "80/20 curve by customer decile")
        self.assertEqual(
            {
                k[0]: (g["customer_share"], round(g["cumulative_share"], 2))
                for k, g in deciles.items()
            },
            {"05": (50, round(100 * 5000 / 6000, 2)), "10": (100, 100)},
        )
        self.assertEqual(self._count(env, "Churn risks"), 1)
        self.assertEqual(
            self._list(env, "Churn risks by revenue").partner_id, self.own_small
        )
        self.assertEqual(self._count(env, "Overdue follow-ups"), 1)
        self.assertEqual(
            self._list(env, "Overdue follow-ups, oldest first").partner_id,
            self.own_big,
        )
        moves = self._list(env, "Latest tier moves")
        self.assertEqual(moves.partner_id, self.own_big | self.own_small)
        self.assertEqual(
            sum(
                g["__count"]
                for g in self._pivot(env, "Tier moves by direction").values()
            ),
            2,
        )
        # another salesperson in the filter shows nothing more
        theirs = {"Salesperson": [self.user_all.id]}
        self.assertFalse(self._pivot(env, "Customers by tier", theirs))
        self.assertFalse(self._list(env, "Churn risks by revenue", theirs))

    def test_other_company_user_counts_own_company(self):
        env = self._env_as(self.user_b)
        tiers = self._pivot(env, "Customers by tier")
        self.assertEqual(sum(g["__count"] for g in tiers.values()), 2)
        self.assertEqual(sum(g["revenue_window"] for g in tiers.values()), 9700)
        bands = self._pivot(env, "80/20 bands")
        self.assertEqual(sum(g["__count"] for g in bands.values()), 2)
        self.assertEqual(self._count(env, "Churn risks"), 0)
        for model in (PROFILE, HISTORY, PARETO):
            self.assertEqual(
                set(env[model].search([]).company_id), {self.company_b}, model
            )
        # company A in the company filter does not open company A
        a = {"Company": [self.company.id]}
        self.assertFalse(self._pivot(env, "Customers by tier", a))
        self.assertFalse(self._list(env, "Latest tier moves", a))

    def test_company_filter(self):
        env = self.env(
            context=dict(
                self.env.context,
                allowed_company_ids=[self.company.id, self.company_b.id],
            )
        )
        both = self._pivot(env, "Customers by tier")
        self.assertEqual(sum(g["__count"] for g in both.values()), 7)
        for company, count, revenue in (
            (self.company, 5, 29600),
            (self.company_b, 2, 9700),
        ):
            tiers = self._pivot(env, "Customers by tier", {"Company": [company.id]})
            self.assertEqual(sum(g["__count"] for g in tiers.values()), count)
            self.assertEqual(sum(g["revenue_window"] for g in tiers.values()), revenue)
            bands = self._pivot(env, "80/20 bands", {"Company": [company.id]})
            self.assertEqual(sum(g["__count"] for g in bands.values()), count)
            self.assertAlmostEqual(
                max(g["cumulative_share"] for g in bands.values()), 100, places=2
            )

    def test_pareto_menu_graph_is_a_curve(self):
        """The 80/20 menu's graph draws the curve by customer decile: no
        group-by of the action's search replaces the decile (grouped by band
        it was a line of two points); the list still opens grouped by band."""
        action = self.env.ref("customer_tier.customer_tier_pareto_report_action")
        self.assertNotIn("group_by", action.context or "")
        Report = self.env[PARETO]
        graph = etree.fromstring(
            Report.get_views([(False, "graph")])["views"]["graph"]["arch"]
        )
        self.assertEqual(graph.get("type"), "line")
        self.assertEqual(
            [(f.get("name"), f.get("type")) for f in graph.iter("field")],
            [("decile", None), ("cumulative_share", "measure")],
        )
        listing = etree.fromstring(
            Report.get_views([(False, "list")])["views"]["list"]["arch"]
        )
        self.assertEqual(listing.get("default_group_by"), "band")
        groups = Report.read_group(
            [("company_id", "=", self.company.id)],
            ["cumulative_share:max"],
            ["decile"],
            lazy=False,
        )
        self.assertEqual(len(groups), 5)  # five customers: one a point of the curve
        self.assertEqual(
            [round(g["cumulative_share"], 2) for g in groups],
            [round(100 * v / 29600, 2) for v in (20000, 25000, 28000, 29000, 29600)],
        )
