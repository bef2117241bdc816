import base64
import io
import zipfile
from datetime import date

from openpyxl import load_workbook

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.customer_tier.report.customer_tier_workbook import _Writer

from .test_reports import EVAL, TierReportsCommon

SHEETS = ["Summary", "Customers", "Pareto", "Migration", "Follow-ups"]


@tagged("post_install", "-at_install")
class TestTierWorkbook(TierReportsCommon):
    def export(self, user=None, **values):
        vals = {
            "company_id": self.company.id,
            "date_from": date(2024, 4, 1),
            "date_to": EVAL,
            **values,
        }
        Wizard = self.env["customer.tier.workbook.wizard"].with_context(
            allowed_company_ids=[vals["company_id"]]
        )
        if user:
            Wizard = Wizard.with_user(user)
        wizard = Wizard.create(vals)
        data = wizard._generate_xlsx()
        return data, load_workbook(io.BytesIO(data))

    @staticmethod
    def rows(sheet, header_row=1):
        """Header and the data rows below it, as lists of values."""
        values = [
            list(r) for r in sheet.iter_rows(min_row=header_row, values_only=True)
        ]
        return values[0], values[1:]

    @staticmethod
    def find_row(sheet, value, col=1):
        for row in sheet.iter_rows():
            if row[col - 1].value == value:
                return row
        return None

    # ------------------------------------------------------------------
    def test_sheets_and_customers(self):
        data, book = self.export(self.manager)
        self.assertEqual(book.sheetnames, SHEETS)
        sheet = book["Customers"]
        header, rows = self.rows(sheet)
        self.assertEqual(header[:4], ["Customer", "Reference", "Tier Code", "Tier"])
        self.assertIn("Revenue (window)", header)
        self.assertEqual(len(rows), 11)  # ten customers and the prospect
        col = {name: i for i, name in enumerate(header)}
        profile = self.profile_of(0)
        row = next(r for r in rows if r[0] == "Report Customer 01")
        self.assertEqual(row[col["Tier Code"]], "A")
        self.assertEqual(row[col["Tier"]], self.tier_a.name)
        self.assertEqual(row[col["Salesperson"]], self.salesman.name)
        self.assertEqual(row[col["Country"]], profile.country_id.name)
        self.assertEqual(row[col["Industry"]], "Ceramics")
        for label, fname in (
            ("Revenue (window)", "revenue_window"),
            ("Margin (window)", "margin_window"),
            ("Orders (window)", "order_count_window"),
            ("Average Order", "average_order_value"),
            ("Revenue (lifetime)", "revenue_total"),
            ("Orders (lifetime)", "order_count"),
            ("Days Since Last Order", "recency_days"),
            ("Reorder Cycle (days)", "reorder_cycle_days"),
            ("Revenue Share", "revenue_share"),
            ("Cumulative Share", "cumulative_share"),
            ("Pareto Rank", "pareto_rank"),
        ):
            self.assertAlmostEqual(row[col[label]], profile[fname], places=4, msg=label)
        for label, fname in (
            ("First Order", "first_order_date"),
            ("Last Order", "last_order_date"),
            ("Expected Next Order", "expected_order_date"),
            ("Tier Since", "tier_since"),
        ):
            self.assertEqual(row[col[label]].date(), profile[fname], label)
        self.assertEqual(row[col["Revenue (window)"]], 20000)
        self.assertEqual(row[col["Reorder Overdue"]], "No")
        # formats: money, percentage, date; frozen header; autofilter; colours
        cells = self.find_row(sheet, "Report Customer 01")
        money = cells[col["Revenue (window)"]]
        self.assertIn("#,##0.00", money.number_format)
        self.assertIn("$", money.number_format)
        self.assertEqual(cells[col["Revenue Share"]].number_format, "0.0%")
        self.assertEqual(cells[col["Last Order"]].number_format, "yyyy-mm-dd")
        self.assertEqual(cells[col["Tier Code"]].fill.fgColor.rgb, "FF30C381")
        self.assertEqual(sheet.freeze_panes, "B2")
        self.assertEqual(sheet.auto_filter.ref, f"A1:AF{len(rows) + 1}")
        self.assertTrue(sheet["A1"].font.bold)
        # constant memory mode: strings written inline, no shared strings table
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.assertNotIn("xl/sharedStrings.xml", archive.namelist())
            self.assertIn(
                't="inlineStr"', archive.read("xl/worksheets/sheet2.xml").decode()
            )

    def test_summary(self):
        _data, book = self.export(self.manager)
        sheet = book["Summary"]
        header_row = next(r[0].row for r in sheet.iter_rows() if r[0].value == "Code")
        header, rows = self.rows(sheet, header_row)
        self.assertEqual(
            header,
            [
                "Code",
                "Tier",
                "Kind",
                "Customers",
                "Revenue (window)",
                "Share of Revenue",
                "Margin (window)",
                "Margin %",
                "Orders (window)",
                "Average Order",
            ],
        )
        by_name = {r[1]: r for r in rows}
        a = by_name[self.tier_a.name]
        self.assertEqual(a[3], 2)
        self.assertEqual(a[4], 32000)
        self.assertAlmostEqual(a[5], 32000 / 46000, places=6)
        self.assertEqual(a[8], 3)  # three orders in the window
        self.assertAlmostEqual(a[9], 32000 / 3, places=2)
        profiles_a = self.profiles.filtered(lambda p: p.tier_id == self.tier_a)
        self.assertAlmostEqual(a[6], sum(profiles_a.mapped("margin_window")), places=2)
        total = rows[-1]
        self.assertEqual(total[0], "Total")
        self.assertEqual(total[3], 11)
        self.assertEqual(total[4], 46000)
        # prospect grades are listed too; the prospect holds no grade yet
        self.assertEqual(sum(r[3] for r in rows[:-1]), 11)

    def test_pareto_sheet_and_chart(self):
        data, book = self.export(self.manager)
        sheet = book["Pareto"]
        headline = {
            sheet.cell(row, 1).value: sheet.cell(row, 4).value for row in range(2, 7)
        }
        self.assertEqual(headline["Customers with revenue"], 10)
        self.assertEqual(headline["Top 20 % of customers"], 2)
        self.assertAlmostEqual(
            headline["Share of revenue held by the top 20 %"], 32000 / 46000, places=6
        )
        self.assertEqual(headline["Customers bringing 80 % of revenue"], 3)
        header_row = next(r[0].row for r in sheet.iter_rows() if r[0].value == "Rank")
        header, rows = self.rows(sheet, header_row)
        self.assertEqual(
            header[:6],
            [
                "Rank",
                "Customer",
                "Tier",
                "Revenue (window)",
                "Share",
                "Cumulative Share",
            ],
        )
        self.assertEqual([r[1] for r in rows], self.customers.mapped("name"))
        self.assertAlmostEqual(rows[2][5], 37000 / 46000, places=6)
        self.assertAlmostEqual(rows[-1][5], 1.0, places=6)
        # the native combo chart: revenue columns, cumulative line on a 2nd axis
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
            self.assertEqual(charts, ["xl/charts/chart1.xml"])
            xml = archive.read("xl/charts/chart1.xml").decode()
            drawing_rels = archive.read("xl/worksheets/_rels/sheet3.xml.rels").decode()
        self.assertIn("drawing", drawing_rels)  # the chart sits on the Pareto sheet
        self.assertIn("<c:barChart>", xml)
        self.assertIn("<c:lineChart>", xml)
        self.assertIn('<c:barDir val="col"/>', xml)
        self.assertEqual(xml.count("<c:valAx>"), 2)  # primary and secondary
        self.assertIn('<c:crosses val="max"/>', xml)  # secondary axis on the right
        last = header_row + len(rows)
        self.assertIn(f"Pareto!$D${header_row + 1}:$D${last}", xml)
        self.assertIn(f"Pareto!$F${header_row + 1}:$F${last}", xml)

    def test_pareto_bands_for_many_customers(self):
        """Above 100 customers the chart plots 5 % bands of customers."""
        writer = _Writer(self.env, self.company, EVAL, EVAL, None, 30)
        revenues = sorted((float(1000 - i) for i in range(200)), reverse=True)
        cumulative, top, share, _count_80 = writer.pareto_figures(revenues)
        self.assertEqual(top, 40)
        bands = writer._bands(revenues, cumulative)
        self.assertEqual(len(bands), 20)
        self.assertEqual(sum(b[1] for b in bands), 200)
        self.assertEqual(bands[0][0], "Top 5 %")
        self.assertAlmostEqual(bands[3][3], share, places=9)  # 4 bands = 20 %
        self.assertAlmostEqual(bands[-1][3], 1.0, places=9)

    def test_migration_sheet(self):
        _data, book = self.export(self.manager, date_from=date(2024, 1, 1))
        sheet = book["Migration"]
        header_row = next(
            r[0].row for r in sheet.iter_rows() if r[0].value == "From \\ To"
        )
        header = [c.value for c in sheet[header_row]]
        self.assertEqual(header[0], "From \\ To")
        self.assertEqual(header[-1], "Total")
        to_names = header[1:-1]
        # the customers that entered the tiering: the first row, named as in
        # the pivot of the Tier Migration report
        self.assertEqual(sheet.cell(header_row + 1, 1).value, "New")
        matrix = {}
        row = header_row + 1
        while sheet.cell(row, 1).value != "Total":
            source = sheet.cell(row, 1).value
            for col, target in enumerate(to_names, start=2):
                matrix[source, target] = sheet.cell(row, col).value
            row += 1
        moves = self.env["customer.tier.history"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", ">=", date(2024, 1, 1)),
                ("date", "<=", EVAL),
            ]
        )
        self.assertEqual(sum(matrix.values()), len(moves))
        self.assertEqual(sheet.cell(row, len(header)).value, len(moves))
        for (source, target), count in matrix.items():
            expected = moves.filtered(
                lambda m, s=source, t=target: (
                    (m.from_tier_id.display_name or "New") == s
                    and (m.to_tier_id.display_name or "No tier") == t
                )
            )
            self.assertEqual(count, len(expected), f"{source} -> {target}")
        a_to_b = matrix[self.tier_a.display_name, self.tier_b.display_name]
        self.assertEqual(a_to_b, 1)
        # the list of moves below the matrices
        listed = [
            r
            for r in sheet.iter_rows(values_only=True)
            if r[0] in self.customers.mapped("name")
        ]
        self.assertEqual(len(listed), len(moves))

    def test_followups_sheet(self):
        _data, book = self.export(self.manager)
        header, rows = self.rows(book["Follow-ups"])
        self.assertEqual(header[:4], ["Status", "Customer", "Tier", "Salesperson"])
        col = {name: i for i, name in enumerate(header)}
        by_name = {r[1]: r for r in rows}
        overdue = by_name["Report Customer 05"]
        self.assertEqual(overdue[0], "Overdue")
        self.assertEqual(overdue[col["Reorder"]], "Overdue")
        self.assertEqual(
            overdue[col["Expected Next Order"]].date(),
            self.profile_of(4).expected_order_date,
        )
        # exactly the profiles of the follow-up domain, with their status
        writer = _Writer(self.env, self.company, date(2024, 4, 1), EVAL, None, 30)
        expected = self.Profile.search(writer.followup_domain())
        self.assertEqual(set(by_name), set(expected.partner_id.mapped("name")))
        for profile in expected:
            status = writer.followup_status(profile)
            self.assertEqual(by_name[profile.partner_id.name][0], status[0])
        # c1's reorder (7 August) is beyond the 30 days after 30 June ...
        c1 = by_name.get("Report Customer 01")
        self.assertFalse(c1 and c1[col["Reorder"]])
        # ... and within 60 days
        _data, book = self.export(self.manager, horizon_days=60)
        _header, rows = self.rows(book["Follow-ups"])
        upcoming = {r[1]: r for r in rows}["Report Customer 01"]
        self.assertEqual(upcoming[col["Reorder"]], "Upcoming")
        self.assertEqual(
            upcoming[col["Days Past Expected"]],
            (EVAL - self.profile_of(0).expected_order_date).days,
        )
        if writer.has_followup_dates():
            self.assertIn("Next Follow-up", header)
            dated = expected.filtered("next_followup_date")
            for profile in dated:
                row = by_name[profile.partner_id.name]
                self.assertEqual(
                    row[col["Next Follow-up"]].date(), profile.next_followup_date
                )

    def test_empty_period_and_company(self):
        # a period without moves: an empty matrix
        _data, book = self.export(
            self.manager, date_from=date(2020, 1, 1), date_to=date(2020, 3, 31)
        )
        sheet = book["Migration"]
        total_row = next(
            r for r in sheet.iter_rows(values_only=True) if r[0] == "Total"
        )
        self.assertEqual(total_row[-1], 0)
        # a company without any profile: every sheet has its headers, no chart
        empty = self.env["res.company"].create({"name": "Empty Reports Co"})
        self.manager.company_ids |= empty
        data, book = self.export(self.manager, company_id=empty.id)
        self.assertEqual(book.sheetnames, SHEETS)
        header, rows = self.rows(book["Customers"])
        self.assertEqual(header[0], "Customer")
        self.assertFalse(rows)
        header, rows = self.rows(book["Follow-ups"])
        self.assertEqual(header[0], "Status")
        self.assertFalse(rows)
        pareto = book["Pareto"]
        self.assertEqual(pareto.cell(2, 4).value, 0)
        self.assertTrue(any(r[0] == "Rank" for r in pareto.iter_rows(values_only=True)))
        summary_total = next(
            r for r in book["Summary"].iter_rows(values_only=True) if r[0] == "Total"
        )
        self.assertEqual(summary_total[3], 0)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.assertFalse([n for n in archive.namelist() if "chart" in n])

    def test_salesperson_exports_own_customers(self):
        own = (
            self.customers[0]
            | self.customers[3]
            | self.customers[4]
            | self.customers[7]
        )
        _data, book = self.export(self.salesman)
        _header, rows = self.rows(book["Customers"])
        self.assertEqual(
            {r[0] for r in rows}, set(own.mapped("name")) | {"Report Prospect"}
        )
        _header, rows = self.rows(book["Pareto"], 8)
        self.assertEqual([r[1] for r in rows], own.mapped("name"))
        moves = [
            r
            for r in book["Migration"].iter_rows(values_only=True)
            if r[0] and str(r[0]).startswith("Report Customer")
        ]
        self.assertTrue(moves)
        self.assertTrue({m[0] for m in moves} <= set(own.mapped("name")))
        # filtering on another salesperson gives nothing more than own rights
        _data, book = self.export(self.salesman, user_ids=[(6, 0, self.salesman2.ids)])
        _header, rows = self.rows(book["Customers"])
        self.assertFalse(rows)
        # a manager filtering on that salesperson gets that salesperson's customers
        _data, book = self.export(self.manager, user_ids=[(6, 0, self.salesman2.ids)])
        _header, rows = self.rows(book["Customers"])
        self.assertEqual(
            {r[0] for r in rows},
            set(
                (self.customers[1] | self.customers[2] | self.customers[5]).mapped(
                    "name"
                )
            ),
        )
        # a salesperson of company B sees none of these customers
        _data, book = self.export(self.user_b, company_id=self.company_b.id)
        _header, rows = self.rows(book["Customers"])
        self.assertFalse(rows)

    def test_wizard_download(self):
        wizard = (
            self.env["customer.tier.workbook.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "company_id": self.company.id,
                    "date_from": date(2024, 4, 1),
                    "date_to": EVAL,
                }
            )
        )
        action = wizard.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(
            f"/web/content/customer.tier.workbook.wizard/{wizard.id}/file_data",
            action["url"],
        )
        self.assertEqual(
            wizard.file_name, "customer_tiers_Tier_Test_Co_A_2024-06-30.xlsx"
        )
        book = load_workbook(io.BytesIO(base64.b64decode(wizard.file_data)))
        self.assertEqual(book.sheetnames, SHEETS)
        wizard.date_from = date(2024, 7, 1)
        with self.assertRaises(UserError):
            wizard.action_export()

    def test_queries_do_not_grow_with_the_customers(self):
        """The sheets read their rows a chunk at a time (one query of the
        profiles' columns, one per record type they point to): as many
        queries for ten customers as for twenty, and the new customers are
        in the Customers sheet."""
        Workbook = self.env["customer.tier.workbook"].with_user(self.manager)

        def write():
            output = io.BytesIO()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            Workbook._write_workbook(output, self.company, date(2024, 4, 1), EVAL)
            return self.env.cr.sql_log_count - before, load_workbook(output)

        write()  # warm the caches (rules, translations)
        small, _book = write()
        for index in range(10):
            customer = self._customer(f"Later {index}", user_id=self.salesman.id)
            self._order(customer, 100 + index, date(2024, 6, 1))
            self._order(customer, 100, date(2024, 3, 1))
        self._run(EVAL)
        large, book = write()
        self.assertEqual(large, small)
        _header, rows = self.rows(book["Customers"])
        names = {row[0] for row in rows}
        self.assertTrue({f"Later {index}" for index in range(10)} <= names)
        self.env.invalidate_all()
        with self.assertQueryCount(47):
            Workbook._write_workbook(io.BytesIO(), self.company, date(2024, 4, 1), EVAL)
