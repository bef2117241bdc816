"""The manager workbook (XLSX): Summary, Customers, Pareto, Migration, Follow-ups.

Written with xlsxwriter in ``constant_memory`` mode: every sheet is written row
after row and the rows are flushed to a temporary file as soon as the next row
starts, so a large export does not hold the sheets in memory. Profiles and
history rows are read in chunks with the user's own access rights (a
salesperson limited to own documents exports own customers only).
"""

import math
from datetime import date, timedelta
from types import SimpleNamespace

import xlsxwriter

from odoo import api, fields, models
from odoo.tools import float_round

CHUNK = 2000
# Spreadsheet serial numbers of dates: days since 1899-12-30 from 1 March 1900
# on (the 1900 date system counts a 29 February 1900).
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_LEAP_BUG_END = date(1900, 3, 1)
# Profile fields the Customers sheet writes (see _Writer._iter_rows).
CUSTOMER_FIELDS = [
    "id",
    "partner_id",
    "tier_id",
    "computed_tier_id",
    "is_prospect",
    "user_id",
    "country_id",
    "industry_id",
    "revenue_window",
    "margin_window",
    "order_count_window",
    "average_order_value",
    "revenue_total",
    "margin_total",
    "order_count",
    "first_order_date",
    "last_order_date",
    "recency_days",
    "reorder_cycle_days",
    "expected_order_date",
    "reorder_overdue",
    "frequency_class",
    "rfm_segment_id",
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "tier_since",
    "at_risk",
]
# Above this many ranked customers the Pareto chart plots 5 % bands of
# customers instead of one column per customer.
CHART_MAX_CUSTOMERS = 100
CHART_BANDS = 20
# Odoo's colour indexes (web ColorList) as spreadsheet fills and fonts.
TIER_COLORS = {
    1: ("#F06050", "#FFFFFF"),
    2: ("#F4A460", "#000000"),
    3: ("#F7CD1F", "#000000"),
    4: ("#6CC1ED", "#000000"),
    5: ("#814968", "#FFFFFF"),
    6: ("#EB7E7F", "#000000"),
    7: ("#2C8397", "#FFFFFF"),
    8: ("#475577", "#FFFFFF"),
    9: ("#D6145F", "#FFFFFF"),
    10: ("#30C381", "#000000"),
    11: ("#9365B8", "#FFFFFF"),
}


def _cache_converter(field, model):
    """The function that converts a value of ``field`` read from its column
    as the ORM caches it (``convert_to_cache``), for the common types
    without a call of the field per value."""
    if field.type == "integer":
        return lambda value: value or 0
    if field.type == "monetary":
        return lambda value: value or 0.0
    if field.type == "float":
        digits = field.get_digits(model.env)
        if digits:
            return lambda value: float_round(value or 0.0, precision_digits=digits[1])
        return lambda value: value or 0.0
    if field.type == "boolean":
        return bool
    if field.type == "date":
        return lambda value: value or None
    return lambda value: field.convert_to_cache(value, model, validate=False)


class CustomerTierWorkbook(models.AbstractModel):
    _name = "customer.tier.workbook"
    _description = "Customer Tier Workbook (XLSX)"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def _write_workbook(
        self, output, company, date_from, date_to, users=None, horizon_days=30
    ):
        """Write the workbook to ``output`` (a path or a binary file object).

        ``date_from``/``date_to`` bound the tier moves of the Migration sheet;
        ``date_to`` is also the reference date of the Follow-ups sheet, which
        lists reorders that are overdue or expected within ``horizon_days``
        after it. Figures are those of the profiles (the program's window at
        their last evaluation). ``users`` (res.users) restricts the export to
        the customers of these salespeople.
        """
        env = self.with_company(company).env
        writer = _Writer(env, company, date_from, date_to, users, horizon_days)
        workbook = xlsxwriter.Workbook(
            output, {"constant_memory": True, "default_date_format": "yyyy-mm-dd"}
        )
        try:
            writer.write_sheets(workbook)
        finally:
            workbook.close()
        return True


class _Writer:
    """One export: collects the data with ``env`` and writes the sheets."""

    def __init__(self, env, company, date_from, date_to, users, horizon_days):
        self.env = env
        self.company = company
        self.currency = company.currency_id
        self.date_from = date_from
        self.date_to = date_to
        self.users = users or env["res.users"]
        self.horizon_days = horizon_days
        self.program = env["customer.tier.program"].search(
            [("company_id", "=", company.id)], limit=1
        )
        self.profile_domain = [("company_id", "=", company.id)]
        if self.users:
            self.profile_domain.append(("user_id", "in", self.users.ids))

    # ------------------------------------------------------------------
    # Formats
    # ------------------------------------------------------------------
    def _formats(self, workbook):
        dp = self.currency.decimal_places
        number = "#,##0" + ("." + "0" * dp if dp else "")
        symbol = (self.currency.symbol or self.currency.name).replace('"', "")
        if self.currency.position == "before":
            money = f'"{symbol}"{number};-"{symbol}"{number}'
        else:
            money = f'{number} "{symbol}";-{number} "{symbol}"'
        add = workbook.add_format
        self.f_title = add({"bold": True, "font_size": 14})
        self.f_label = add({"bold": True})
        self.f_header = add(
            {
                "bold": True,
                "bg_color": "#D9E1F2",
                "border": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.f_money = add({"num_format": money})
        self.f_money_bold = add({"num_format": money, "bold": True, "top": 1})
        self.f_int = add({"num_format": "#,##0"})
        self.f_int_bold = add({"num_format": "#,##0", "bold": True, "top": 1})
        self.f_dec = add({"num_format": "#,##0.0"})
        self.f_pct = add({"num_format": "0.0%"})
        self.f_pct_bold = add({"num_format": "0.0%", "bold": True, "top": 1})
        self.f_date = add({"num_format": "yyyy-mm-dd"})
        self.f_text = add({})
        self.f_bold = add({"bold": True, "top": 1})
        self.f_overdue = add({"font_color": "#C00000", "bold": True})
        self._tier_formats = {}
        self._workbook = workbook
        self.money_format = money
        whole = money.replace(number, "#,##0")
        self.money_axis_format = whole

    def _tier_format(self, color):
        if color not in TIER_COLORS:
            return self.f_text
        if color not in self._tier_formats:
            bg, fg = TIER_COLORS[color]
            self._tier_formats[color] = self._workbook.add_format(
                {"bg_color": bg, "font_color": fg, "bold": True}
            )
        return self._tier_formats[color]

    @staticmethod
    def _cell(sheet, row, col, value, fmt=None):
        # by exact type, the most frequent first: a workbook of 20,000
        # customers writes a million cells
        kind = type(value)
        if kind is str:
            if value:
                sheet.write_string(row, col, value, fmt)
            else:
                sheet.write_blank(row, col, None, fmt)
        elif kind is float or kind is int:
            sheet.write_number(row, col, value, fmt)
        elif value is None or value is False:
            sheet.write_blank(row, col, None, fmt)
        elif kind is bool:
            sheet.write_boolean(row, col, value, fmt)
        elif kind is date and value >= EXCEL_LEAP_BUG_END:
            # the serial number write_datetime computes, without its
            # conversion through a datetime
            sheet.write_number(row, col, (value - EXCEL_EPOCH).days, fmt)
        elif hasattr(value, "year"):
            sheet.write_datetime(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)

    def _header(self, sheet, row, labels, widths=None):
        sheet.set_row(row, 30)  # room for wrapped labels
        for col, label in enumerate(labels):
            sheet.write_string(row, col, label, self.f_header)
        if widths:
            for col, width in enumerate(widths):
                sheet.set_column(col, col, width)

    # ------------------------------------------------------------------
    # Sheets
    # ------------------------------------------------------------------
    def write_sheets(self, workbook):
        self._formats(workbook)
        sheets = [
            (self.env._("Summary"), self._write_summary),
            (self.env._("Customers"), self._write_customers),
            (self.env._("Pareto"), self._write_pareto),
            (self.env._("Migration"), self._write_migration),
            (self.env._("Follow-ups"), self._write_followups),
        ]
        added = [(workbook.add_worksheet(name[:31]), method) for name, method in sheets]
        for sheet, method in added:
            method(sheet)
            self.env.invalidate_all()

    def _tiers(self, extra=None):
        """Tiers of the program (customer tiers first, best first), then any
        other tier met in the data (archived ones)."""
        tiers = self.env["customer.tier"]
        if self.program:
            tiers = self.program._customer_tiers() | self.program._prospect_grades()
        if extra:
            tiers |= extra.sorted(lambda t: (t.kind, t.sequence, t.id)) - tiers
        return tiers

    def _summary_rows(self):
        groups = self.env["customer.tier.profile"]._read_group(
            self.profile_domain,
            ["tier_id"],
            [
                "__count",
                "revenue_window:sum",
                "margin_window:sum",
                "order_count_window:sum",
            ],
        )
        return {tier: values for tier, *values in groups}

    def _write_summary(self, sheet):
        data = self._summary_rows()
        tiers = self._tiers(self.env["customer.tier"].union(*data))
        total_revenue = sum(v[1] for v in data.values())
        row = 0
        sheet.write_string(row, 0, self.env._("Customer Tiers"), self.f_title)
        row += 1
        info = [
            (self.env._("Company"), self.company.name),
            (self.env._("Program"), self.program.name or ""),
            (self.env._("Last full evaluation"), self.program.last_run_date or ""),
            (self.env._("Window (months)"), self.program.window_months or ""),
            (self.env._("Moves from"), self.date_from),
            (self.env._("Moves to"), self.date_to),
            (
                self.env._("Salespeople"),
                ", ".join(self.users.mapped("name")) or self.env._("All"),
            ),
            (self.env._("Currency"), self.currency.name),
        ]
        for label, value in info:
            sheet.write_string(row, 0, label, self.f_label)
            self._cell(
                sheet, row, 1, value, self.f_date if hasattr(value, "year") else None
            )
            row += 1
        row += 1
        self._header(
            sheet,
            row,
            [
                self.env._("Code"),
                self.env._("Tier"),
                self.env._("Kind"),
                self.env._("Customers"),
                self.env._("Revenue (window)"),
                self.env._("Share of Revenue"),
                self.env._("Margin (window)"),
                self.env._("Margin %"),
                self.env._("Orders (window)"),
                self.env._("Average Order"),
            ],
            [10, 28, 16, 12, 18, 12, 18, 10, 12, 16],
        )
        self.summary_header_row = row
        kinds = dict(
            self.env["customer.tier"]._fields["kind"]._description_selection(self.env)
        )
        totals = [0, 0.0, 0.0, 0]
        for tier in tiers:
            count, revenue, margin, orders = data.get(tier, (0, 0.0, 0.0, 0))
            row += 1
            tier_fmt = self._tier_format(tier.color)
            sheet.write_string(row, 0, tier.code or "", tier_fmt)
            sheet.write_string(row, 1, tier.name or "", tier_fmt)
            sheet.write_string(row, 2, kinds.get(tier.kind, ""))
            self._summary_figures(
                sheet, row, count, revenue, margin, orders, total_revenue
            )
            totals = [
                a + b
                for a, b in zip(totals, (count, revenue, margin, orders), strict=True)
            ]
        if self.env["customer.tier"] in data:  # profiles without a tier
            count, revenue, margin, orders = data[self.env["customer.tier"]]
            row += 1
            sheet.write_string(row, 1, self.env._("No tier"))
            self._summary_figures(
                sheet, row, count, revenue, margin, orders, total_revenue
            )
            totals = [
                a + b
                for a, b in zip(totals, (count, revenue, margin, orders), strict=True)
            ]
        row += 1
        sheet.write_string(row, 0, self.env._("Total"), self.f_bold)
        sheet.write_blank(row, 1, None, self.f_bold)
        sheet.write_blank(row, 2, None, self.f_bold)
        self._summary_figures(sheet, row, *totals, total_revenue, bold=True)
        sheet.freeze_panes(self.summary_header_row + 1, 0)

    def _summary_figures(
        self, sheet, row, count, revenue, margin, orders, total, bold=False
    ):
        f_int = self.f_int_bold if bold else self.f_int
        f_money = self.f_money_bold if bold else self.f_money
        f_pct = self.f_pct_bold if bold else self.f_pct
        sheet.write_number(row, 3, count, f_int)
        sheet.write_number(row, 4, revenue, f_money)
        sheet.write_number(row, 5, revenue / total if total else 0.0, f_pct)
        sheet.write_number(row, 6, margin, f_money)
        sheet.write_number(row, 7, margin / revenue if revenue else 0.0, f_pct)
        sheet.write_number(row, 8, orders, f_int)
        sheet.write_number(row, 9, revenue / orders if orders else 0.0, f_money)

    # Customers --------------------------------------------------------
    def _customer_columns(self):
        """(header, width, getter(profile), format) of the Customers sheet."""
        yes, no = self.env._("Yes"), self.env._("No")
        freq = dict(
            self.env["customer.tier.profile"]
            ._fields["frequency_class"]
            ._description_selection(self.env)
        )
        return [
            (
                self.env._("Customer"),
                32,
                lambda p: p.partner_id.complete_name or "",
                None,
            ),
            (self.env._("Reference"), 12, lambda p: p.partner_id.ref or "", None),
            (self.env._("Tier Code"), 8, lambda p: p.tier_id.code or "", "tier"),
            (self.env._("Tier"), 20, lambda p: p.tier_id.name or "", "tier"),
            (
                self.env._("Computed Tier"),
                20,
                lambda p: p.computed_tier_id.name or "",
                None,
            ),
            (self.env._("Prospect"), 9, lambda p: yes if p.is_prospect else no, None),
            (self.env._("Salesperson"), 20, lambda p: p.user_id.name or "", None),
            (self.env._("Country"), 16, lambda p: p.country_id.name or "", None),
            (self.env._("Industry"), 16, lambda p: p.industry_id.name or "", None),
            (self.env._("Revenue (window)"), 16, lambda p: p.revenue_window, "money"),
            (self.env._("Margin (window)"), 16, lambda p: p.margin_window, "money"),
            (self.env._("Orders (window)"), 10, lambda p: p.order_count_window, "int"),
            (self.env._("Average Order"), 16, lambda p: p.average_order_value, "money"),
            (self.env._("Revenue (lifetime)"), 16, lambda p: p.revenue_total, "money"),
            (self.env._("Margin (lifetime)"), 16, lambda p: p.margin_total, "money"),
            (self.env._("Orders (lifetime)"), 10, lambda p: p.order_count, "int"),
            (self.env._("First Order"), 12, lambda p: p.first_order_date, "date"),
            (self.env._("Last Order"), 12, lambda p: p.last_order_date, "date"),
            (
                self.env._("Days Since Last Order"),
                10,
                lambda p: p.recency_days if p.last_order_date else None,
                "int",
            ),
            (
                self.env._("Reorder Cycle (days)"),
                10,
                lambda p: p.reorder_cycle_days or None,
                "dec",
            ),
            (
                self.env._("Expected Next Order"),
                12,
                lambda p: p.expected_order_date,
                "date",
            ),
            (
                self.env._("Reorder Overdue"),
                9,
                lambda p: yes if p.reorder_overdue else no,
                None,
            ),
            (self.env._("Revenue Share"), 10, lambda p: self._pareto_of(p, 0), "pct"),
            (
                self.env._("Cumulative Share"),
                10,
                lambda p: self._pareto_of(p, 1),
                "pct",
            ),
            (self.env._("Pareto Rank"), 8, lambda p: self._pareto_of(p, 2), "int"),
            (
                self.env._("Frequency"),
                12,
                lambda p: freq.get(p.frequency_class, ""),
                None,
            ),
            (
                self.env._("RFM Segment"),
                16,
                lambda p: p.rfm_segment_id.name or "",
                None,
            ),
            (self.env._("R"), 4, lambda p: p.rfm_recency_score or None, "int"),
            (self.env._("F"), 4, lambda p: p.rfm_frequency_score or None, "int"),
            (self.env._("M"), 4, lambda p: p.rfm_monetary_score or None, "int"),
            (self.env._("Tier Since"), 12, lambda p: p.tier_since, "date"),
            (self.env._("At Risk"), 8, lambda p: yes if p.at_risk else no, None),
        ]

    def _iter_rows(self, model, domain, order, fnames, related=None):
        """The records of ``domain`` as rows: one namespace per record with
        the values of ``fnames`` (a many2one as its record), read in chunks
        of ``CHUNK`` records.

        A chunk is one query of the fields' columns (through the ORM's own
        SQL of each field, which checks the user's access to it; the records
        come from ``search``, with the user's record rules), the values
        converted as the ORM caches them, and one read per many2one of the
        records it points to, with their fields given in ``related``
        (``{"partner_id": ["complete_name"]}``). Read record by record
        through the ORM, the rows of 20,000 customers took 6 s of Python
        (every column of each chunk's partners included), half of it this
        way (``bench/ui_latency.py``, the cells not written).
        """
        Model = self.env[model]
        fields_ = [Model._fields[fname] for fname in fnames]
        ids = Model.search(domain, order=order).ids
        for start in range(0, len(ids), CHUNK):
            query = Model._search(
                [("id", "in", ids[start : start + CHUNK])], order=order
            )
            columns = [Model._field_to_sql(Model._table, f, query) for f in fnames]
            rows = self.env.execute_query(query.select(*columns))
            convert = []
            for index, field in enumerate(fields_):
                if field.type == "many2one":
                    comodel = self.env[field.comodel_name]
                    targets = comodel.browse({row[index] for row in rows if row[index]})
                    targets.fetch((related or {}).get(field.name, ["display_name"]))
                    by_id = {target.id: target for target in targets}
                    by_id[None] = comodel.browse()
                    convert.append(by_id.__getitem__)
                else:
                    convert.append(_cache_converter(field, Model))
            for row in rows:
                yield SimpleNamespace(
                    **{
                        fname: conv(value)
                        for fname, conv, value in zip(fnames, convert, row, strict=True)
                    }
                )
            self.env.invalidate_all()

    def _pareto_ranks(self):
        """Profile id -> (revenue share, cumulative share, rank) from the 80/20
        report as the user sees it: over the company's customers, or over own
        customers for a salesperson limited to own documents (the shares
        stored on the profiles are company-wide and not his to read)."""
        Report = self.env["customer.tier.pareto.report"]
        Report.invalidate_model()  # rows depend on the user: no cached values
        rows = Report.search_read(
            [("company_id", "=", self.company.id)],
            ["profile_id", "revenue_share", "cumulative_share", "pareto_rank"],
            load=None,
        )
        return {
            row["profile_id"]: (
                row["revenue_share"] / 100.0,
                row["cumulative_share"] / 100.0,
                row["pareto_rank"],
            )
            for row in rows
        }

    def _pareto_of(self, profile, index):
        figures = self._pareto.get(profile.id)
        return figures[index] if figures else None

    def _write_customers(self, sheet):
        self._pareto = self._pareto_ranks()
        columns = self._customer_columns()
        self._header(sheet, 0, [c[0] for c in columns], [c[1] for c in columns])
        formats = {
            "money": self.f_money,
            "int": self.f_int,
            "dec": self.f_dec,
            "pct": self.f_pct,
            "date": self.f_date,
        }
        # (column, getter, in the row's tier format, format otherwise)
        cells = [
            (col, getter, kind == "tier", formats.get(kind))
            for col, (_label, _width, getter, kind) in enumerate(columns)
        ]
        row = 0
        for profile in self._iter_rows(
            "customer.tier.profile",
            self.profile_domain,
            "is_prospect, tier_sequence, revenue_window desc, id",
            CUSTOMER_FIELDS,
            {"partner_id": ["complete_name", "ref"]},
        ):
            row += 1
            tier_fmt = self._tier_format(profile.tier_id.color)
            for col, getter, in_tier_format, fmt in cells:
                value = getter(profile)
                self._cell(sheet, row, col, value, tier_fmt if in_tier_format else fmt)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(row, 1), len(columns) - 1)

    # Pareto -----------------------------------------------------------
    def _ranked(self):
        """(name, tier code, tier colour, revenue) of the exported customers
        with revenue in the window, best first (engine tie-break)."""
        ranked = []
        for profile in self._iter_rows(
            "customer.tier.profile",
            [
                *self.profile_domain,
                ("is_prospect", "=", False),
                ("revenue_window", ">", 0),
            ],
            "revenue_window desc, partner_id",
            ["partner_id", "tier_id", "revenue_window"],
            {"partner_id": ["complete_name"]},
        ):
            ranked.append(
                (
                    profile.partner_id.complete_name or "",
                    profile.tier_id.code or "",
                    profile.tier_id.color,
                    profile.revenue_window,
                )
            )
        return ranked

    @staticmethod
    def pareto_figures(revenues):
        """Cumulative shares and headline figures of revenues sorted best first.

        Returns ``(cumulative, top_count, top_share, count_80)``: the top 20 %
        are the first ``ceil(0.2 * n)`` customers; ``count_80`` is the number
        of customers needed to reach 80 % of the revenue.
        """
        total = sum(revenues)
        cumulative = []
        running = 0.0
        for revenue in revenues:
            running += revenue
            cumulative.append(running / total if total else 0.0)
        n = len(revenues)
        top_count = math.ceil(0.2 * n - 1e-9) if n else 0
        top_share = cumulative[top_count - 1] if top_count else 0.0
        count_80 = next(
            (i + 1 for i, share in enumerate(cumulative) if share >= 0.8 - 1e-9), n
        )
        return cumulative, top_count, top_share, count_80

    def _write_pareto(self, sheet):
        ranked = self._ranked()
        n = len(ranked)
        revenues = [r[3] for r in ranked]
        total = sum(revenues)
        cumulative, top_count, top_share, count_80 = self.pareto_figures(revenues)
        sheet.write_string(
            0,
            0,
            self.env._("Pareto (80/20): customers ranked by revenue in the window"),
            self.f_title,
        )
        headline = [
            (self.env._("Customers with revenue"), n, self.f_int),
            (self.env._("Top 20 % of customers"), top_count, self.f_int),
            (
                self.env._("Share of revenue held by the top 20 %"),
                top_share,
                self.f_pct,
            ),
            (self.env._("Customers bringing 80 % of revenue"), count_80, self.f_int),
            (self.env._("Revenue (window)"), total, self.f_money),
        ]
        for row, (label, value, fmt) in enumerate(headline, start=1):
            sheet.write_string(row, 0, label, self.f_label)
            sheet.write_number(row, 3, value, fmt)
        header_row = len(headline) + 2
        self.pareto_header_row = header_row
        labels = [
            self.env._("Rank"),
            self.env._("Customer"),
            self.env._("Tier"),
            self.env._("Revenue (window)"),
            self.env._("Share"),
            self.env._("Cumulative Share"),
            self.env._("Customers Up To Here"),
        ]
        self._header(sheet, header_row, labels, [8, 32, 8, 16, 10, 12, 12])
        bands = []
        if n > CHART_MAX_CUSTOMERS:
            bands = self._bands(revenues, cumulative)
            band_labels = [
                self.env._("Customer Band"),
                self.env._("Customers"),
                self.env._("Revenue (window)"),
                self.env._("Cumulative Share"),
            ]
            for col, label in enumerate(band_labels, start=len(labels) + 1):
                sheet.write_string(header_row, col, label, self.f_header)
            sheet.set_column(len(labels) + 1, len(labels) + 4, 14)
        for i, (name, code, color, revenue) in enumerate(ranked):
            row = header_row + 1 + i
            sheet.write_number(row, 0, i + 1, self.f_int)
            sheet.write_string(row, 1, name)
            sheet.write_string(row, 2, code, self._tier_format(color))
            sheet.write_number(row, 3, revenue, self.f_money)
            sheet.write_number(row, 4, revenue / total if total else 0.0, self.f_pct)
            sheet.write_number(row, 5, cumulative[i], self.f_pct)
            sheet.write_number(row, 6, (i + 1) / n, self.f_pct)
            if i < len(bands):
                col = len(labels) + 1
                label, count, band_revenue, band_cumulative = bands[i]
                sheet.write_string(row, col, label)
                sheet.write_number(row, col + 1, count, self.f_int)
                sheet.write_number(row, col + 2, band_revenue, self.f_money)
                sheet.write_number(row, col + 3, band_cumulative, self.f_pct)
        sheet.freeze_panes(header_row + 1, 0)
        if not n:
            return
        if bands:
            first, last = header_row + 1, header_row + len(bands)
            cat_col, rev_col, cum_col = (
                len(labels) + 1,
                len(labels) + 3,
                len(labels) + 4,
            )
        else:
            first, last = header_row + 1, header_row + n
            cat_col, rev_col, cum_col = 1, 3, 5
        self._pareto_chart(
            sheet,
            first,
            last,
            cat_col,
            rev_col,
            cum_col,
            len(labels) + (6 if bands else 1),
        )

    def _bands(self, revenues, cumulative):
        """Revenue of each 5 % band of ranked customers and the cumulative
        share at its end."""
        n = len(revenues)
        step = 100 // CHART_BANDS
        bands = []
        start = 0
        for k in range(1, CHART_BANDS + 1):
            end = math.ceil(k * n / CHART_BANDS)
            if end <= start:
                continue
            label = (
                self.env._("Top %(pct)s %%", pct=step)
                if k == 1
                else f"{(k - 1) * step}-{k * step} %"
            )
            bands.append(
                (label, end - start, sum(revenues[start:end]), cumulative[end - 1])
            )
            start = end
        return bands

    def _pareto_chart(self, sheet, first, last, cat_col, rev_col, cum_col, at_col):
        workbook = self._workbook
        name = sheet.get_name()
        columns = workbook.add_chart({"type": "column"})
        columns.add_series(
            {
                "name": self.env._("Revenue"),
                "categories": [name, first, cat_col, last, cat_col],
                "values": [name, first, rev_col, last, rev_col],
                "fill": {"color": "#4472C4"},
                "gap": 20,
            }
        )
        line = workbook.add_chart({"type": "line"})
        line.add_series(
            {
                "name": self.env._("Cumulative share"),
                "categories": [name, first, cat_col, last, cat_col],
                "values": [name, first, cum_col, last, cum_col],
                "y2_axis": True,
                "line": {"color": "#C00000", "width": 2.25},
                "marker": {"type": "none"},
            }
        )
        columns.combine(line)
        columns.set_title({"name": self.env._("Pareto: revenue and cumulative share")})
        columns.set_x_axis(
            {
                "name": self.env._("Customers (best first)"),
                "num_font": {"rotation": -45},
            }
        )
        columns.set_y_axis(
            {
                "name": self.env._("Revenue"),
                "num_format": self.money_axis_format,
                "major_gridlines": {"visible": True},
            }
        )
        line.set_y2_axis(
            {
                "name": self.env._("Cumulative share"),
                "num_format": "0%",
                "min": 0,
                "max": 1,
            }
        )
        columns.set_legend({"position": "bottom"})
        columns.set_size({"width": 900, "height": 420})
        sheet.insert_chart(1, at_col, columns)

    # Migration --------------------------------------------------------
    def _history_domain(self):
        domain = [
            ("company_id", "=", self.company.id),
            ("date", ">=", self.date_from),
            ("date", "<=", self.date_to),
        ]
        if self.users:
            domain.append(("user_id", "in", self.users.ids))
        return domain

    def migration_matrix(self):
        """{(from tier, to tier): (count, revenue)} of the period's moves."""
        groups = self.env["customer.tier.history"]._read_group(
            self._history_domain(),
            ["from_tier_id", "to_tier_id"],
            ["__count", "revenue_window:sum"],
        )
        return {(old, new): (count, revenue) for old, new, count, revenue in groups}

    def _write_migration(self, sheet):
        matrix = self.migration_matrix()
        Tier = self.env["customer.tier"]
        met = Tier.union(*(t for pair in matrix for t in pair))
        tiers = self._tiers(met)
        from_tiers = [Tier, *tiers]  # "new" (no previous tier) first
        to_tiers = list(tiers)
        if any(not new for _old, new in matrix):
            to_tiers.append(Tier)

        def label(tier, empty):
            return tier.display_name if tier else empty

        sheet.write_string(0, 0, self.env._("Tier migration"), self.f_title)
        sheet.write_string(1, 0, self.env._("Moves from"), self.f_label)
        sheet.write_datetime(1, 1, self.date_from, self.f_date)
        sheet.write_string(2, 0, self.env._("Moves to"), self.f_label)
        sheet.write_datetime(2, 1, self.date_to, self.f_date)
        sheet.set_column(0, 0, 26)
        sheet.set_column(1, len(to_tiers) + 1, 16)
        row = 4
        self.migration_header_rows = []
        for title, index, fmt, fmt_total in (
            (
                self.env._("Moves (count): from (rows) / to (columns)"),
                0,
                self.f_int,
                self.f_int_bold,
            ),
            (
                self.env._("Revenue (window) at the move: from (rows) / to (columns)"),
                1,
                self.f_money,
                self.f_money_bold,
            ),
        ):
            sheet.write_string(row, 0, title, self.f_label)
            row += 1
            self.migration_header_rows.append(row)
            self._header(
                sheet,
                row,
                [self.env._("From \\ To")]
                + [label(t, self.env._("No tier")) for t in to_tiers]
                + [self.env._("Total")],
            )
            col_totals = [0] * (len(to_tiers) + 1)
            for old in from_tiers:
                row += 1
                sheet.write_string(row, 0, label(old, self.env._("New")), self.f_label)
                row_total = 0
                for col, new in enumerate(to_tiers, start=1):
                    value = matrix.get((old, new), (0, 0.0))[index]
                    row_total += value
                    col_totals[col - 1] += value
                    sheet.write_number(row, col, value, fmt)
                col_totals[-1] += row_total
                sheet.write_number(row, len(to_tiers) + 1, row_total, fmt_total)
            row += 1
            sheet.write_string(row, 0, self.env._("Total"), self.f_bold)
            for col, value in enumerate(col_totals, start=1):
                sheet.write_number(row, col, value, fmt_total)
            row += 2
        # The moves themselves
        directions = dict(
            self.env["customer.tier.history"]
            ._fields["direction"]
            ._description_selection(self.env)
        )
        causes = dict(
            self.env["customer.tier.history"]
            ._fields["cause"]
            ._description_selection(self.env)
        )
        sheet.write_string(row, 0, self.env._("Moves"), self.f_label)
        row += 1
        self._header(
            sheet,
            row,
            [
                self.env._("Customer"),
                self.env._("Date"),
                self.env._("From"),
                self.env._("To"),
                self.env._("Direction"),
                self.env._("Cause"),
                self.env._("Revenue (window)"),
                self.env._("Salesperson"),
            ],
        )
        for move in self._iter_rows(
            "customer.tier.history",
            self._history_domain(),
            "date, id",
            [
                "partner_id",
                "date",
                "from_tier_id",
                "to_tier_id",
                "direction",
                "cause",
                "revenue_window",
                "user_id",
            ],
            {"partner_id": ["complete_name"]},
        ):
            row += 1
            sheet.write_string(row, 0, move.partner_id.complete_name or "")
            sheet.write_datetime(row, 1, move.date, self.f_date)
            sheet.write_string(row, 2, move.from_tier_id.display_name or "")
            sheet.write_string(
                row,
                3,
                move.to_tier_id.display_name or "",
                self._tier_format(move.to_tier_id.color),
            )
            sheet.write_string(row, 4, directions.get(move.direction, ""))
            sheet.write_string(row, 5, causes.get(move.cause, ""))
            sheet.write_number(row, 6, move.revenue_window, self.f_money)
            sheet.write_string(row, 7, move.user_id.name or "")

    # Follow-ups -------------------------------------------------------
    def has_followup_dates(self):
        """The follow-up cadence feature stores ``next_followup_date``."""
        return "next_followup_date" in self.env["customer.tier.profile"]._fields

    def followup_domain(self):
        """Profiles with a reorder overdue or expected by the horizon, or (with
        the follow-up cadence) a follow-up due by the horizon."""
        horizon = self.date_to + timedelta(days=self.horizon_days)
        reorder = [
            "&",
            "&",
            ("is_prospect", "=", False),
            ("expected_order_date", "!=", False),
            "|",
            ("reorder_overdue", "=", True),
            ("expected_order_date", "<=", horizon),
        ]
        if self.has_followup_dates():
            followup = [
                "&",
                ("next_followup_date", "!=", False),
                ("next_followup_date", "<=", horizon),
            ]
            return [*self.profile_domain, "|", *reorder, *followup]
        return [*self.profile_domain, *reorder]

    def followup_status(self, profile):
        """(status, follow-up status, reorder status) of a profile: Overdue,
        Due (reorder expected before the reference date but not yet overdue
        by the program's factor) or Upcoming; the status is the most urgent."""
        labels = {
            3: self.env._("Overdue"),
            2: self.env._("Due"),
            1: self.env._("Upcoming"),
            0: "",
        }
        horizon = self.date_to + timedelta(days=self.horizon_days)
        followup = 0
        next_date = profile.next_followup_date if self.has_followup_dates() else None
        if next_date:
            followup = (
                3 if next_date < self.date_to else (1 if next_date <= horizon else 0)
            )
        reorder = 0
        expected = profile.expected_order_date
        if expected and not profile.is_prospect:
            if profile.reorder_overdue:
                reorder = 3
            elif expected < self.date_to:
                reorder = 2
            elif expected <= horizon:
                reorder = 1
        return labels[max(followup, reorder)], labels[followup], labels[reorder]

    def _write_followups(self, sheet):
        with_followups = self.has_followup_dates()
        columns = [
            (self.env._("Status"), 12),
            (self.env._("Customer"), 32),
            (self.env._("Tier"), 16),
            (self.env._("Salesperson"), 20),
        ]
        if with_followups:
            columns += [
                (self.env._("Next Follow-up"), 12),
                (self.env._("Follow-up"), 11),
            ]
        columns += [
            (self.env._("Last Order"), 12),
            (self.env._("Reorder Cycle (days)"), 10),
            (self.env._("Expected Next Order"), 12),
            (self.env._("Reorder"), 11),
            (self.env._("Days Past Expected"), 10),
            (self.env._("Revenue (window)"), 16),
            (self.env._("Phone"), 16),
            (self.env._("Email"), 26),
        ]
        self._header(sheet, 0, [c[0] for c in columns], [c[1] for c in columns])
        order = "expected_order_date, id"
        if with_followups:
            order = "next_followup_date, expected_order_date, id"
        overdue = self.env._("Overdue")
        row = 0
        fnames = [
            "partner_id",
            "tier_id",
            "user_id",
            "is_prospect",
            "last_order_date",
            "reorder_cycle_days",
            "expected_order_date",
            "reorder_overdue",
            "revenue_window",
        ]
        if with_followups:
            fnames.append("next_followup_date")
        for profile in self._iter_rows(
            "customer.tier.profile",
            self.followup_domain(),
            order,
            fnames,
            {"partner_id": ["complete_name", "phone", "email"]},
        ):
            row += 1
            status, followup, reorder = self.followup_status(profile)
            partner = profile.partner_id
            expected = profile.expected_order_date
            values = [
                (status, self.f_overdue if status == overdue else None),
                (partner.complete_name or "", None),
                (
                    profile.tier_id.display_name or "",
                    self._tier_format(profile.tier_id.color),
                ),
                (profile.user_id.name or "", None),
            ]
            if with_followups:
                values += [
                    (profile.next_followup_date, self.f_date),
                    (followup, self.f_overdue if followup == overdue else None),
                ]
            values += [
                (profile.last_order_date, self.f_date),
                (profile.reorder_cycle_days or None, self.f_dec),
                (expected, self.f_date),
                (reorder, self.f_overdue if reorder == overdue else None),
                ((self.date_to - expected).days if expected else None, self.f_int),
                (profile.revenue_window, self.f_money),
                (partner.phone or "", None),
                (partner.email or "", None),
            ]
            for col, (value, fmt) in enumerate(values):
                self._cell(sheet, row, col, value, fmt)
        sheet.freeze_panes(1, 2)
        sheet.autofilter(0, 0, max(row, 1), len(columns) - 1)


def workbook_filename(company, date_to):
    safe = "".join(c if c.isalnum() else "_" for c in (company.name or "company"))
    return f"customer_tiers_{safe}_{fields.Date.to_string(date_to)}.xlsx"
