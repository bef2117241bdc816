#!/usr/bin/env python3
"""Write data/files/customer_tier_dashboard.json, the Customer Tiers dashboard.

    python3 tools/build_dashboard.py [OUTPUT]

The dashboard is an o-spreadsheet file (format of Odoo 18: version 21,
odooVersion 12) read by the Dashboards app (spreadsheet_dashboard). The
community edition has no spreadsheet editor, so the file is built here:
change this script, run it, commit both. Texts shown to users are ``_t()``
formulas, link texts, chart titles and filter labels: Odoo's
translation export picks them from the file (``*_dashboard.json`` under
``data/``).

Data sources (each loaded through the ORM as the user who opens the
dashboard, so record rules apply):

1. customer.tier.profile, customers, by tier: count, window revenue;
2. customer.tier.pareto.report by decile: customer share and cumulative
   share (max), the points of the 80/20 curve;
3. customer.tier.pareto.report by band: the top 20 % of customers;
4. customer.tier.history, moves of customer tiers, by direction;
5. profiles at churn risk; 6. profiles with a follow-up overdue;
7. prospects by grade; 8. customers' window revenue by region and tier;
lists: latest moves, churn risks by revenue, overdue follow-ups.
"""

import json
import os
import sys
import uuid

OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "files",
    "customer_tier_dashboard.json",
)

NS = uuid.UUID("6f1c2a52-3e0b-4f44-9a51-0c7d2f1e8b10")


def uid(name):
    return str(uuid.uuid5(NS, name))


F_PERIOD = uid("filter.period")
F_COMPANY = uid("filter.company")
F_USER = uid("filter.user")

GLOBAL_FILTERS = [
    {
        "id": F_PERIOD,
        "type": "date",
        "label": "Period",
        "rangeType": "fixedPeriod",
        "defaultValue": "this_month",
        "disabledPeriods": [],
    },
    {
        "id": F_COMPANY,
        "type": "relation",
        "label": "Company",
        "modelName": "res.company",
        "defaultValue": [],
        "defaultValueDisplayNames": [],
    },
    {
        "id": F_USER,
        "type": "relation",
        "label": "Salesperson",
        "modelName": "res.users",
        "defaultValue": [],
        "defaultValueDisplayNames": [],
    },
]


def matching(date=None, company="company_id", user="user_id"):
    """Field matching of the three global filters for one data source.

    The profiles and the 80/20 report are the state at the last evaluation:
    they have no date in the period's sense, so the period filter is not
    matched on them (it applies to the tier moves). The 80/20 report ranks
    every customer the user may read in a company; it is not matched on the
    salesperson (a subset of a company ranking is no 80/20 curve).
    """
    res = {}
    if date:
        res[F_PERIOD] = {"chain": date, "type": "date", "offset": 0}
    if company:
        res[F_COMPANY] = {"chain": company, "type": "many2one"}
    if user:
        res[F_USER] = {"chain": user, "type": "many2one"}
    return res


PROFILE = "customer.tier.profile"
HISTORY = "customer.tier.history"
PARETO = "customer.tier.pareto.report"
CUSTOMERS = [["is_prospect", "=", False]]
# moves of customer tiers (prospect grade changes left out); a prospect's
# first order is a move from a grade to a customer tier ("new")
CUSTOMER_MOVES = [
    "|",
    ["to_tier_id.kind", "=", "customer"],
    ["from_tier_id.kind", "=", "customer"],
]


def measure(name):
    return {"id": name, "fieldName": name}


def pivot(pid, name, model, domain, measures, rows=(), columns=(), fm=None):
    return {
        "type": "ODOO",
        "id": str(pid),
        "formulaId": str(pid),
        "name": name,
        "model": model,
        "domain": domain,
        "context": {},
        "measures": [measure(m) for m in measures],
        "rows": [{"fieldName": r} for r in rows],
        "columns": [{"fieldName": c} for c in columns],
        "sortedColumn": None,
        "fieldMatching": fm if fm is not None else matching(),
    }


PIVOTS = {
    "1": pivot(
        1,
        "Customers by tier",
        PROFILE,
        CUSTOMERS,
        ["__count", "revenue_window"],
        rows=["tier_id"],
    ),
    "2": pivot(
        2,
        "80/20 curve by customer decile",
        PARETO,
        [],
        ["customer_share", "cumulative_share"],
        rows=["decile"],
        fm=matching(user=None),
    ),
    "3": pivot(
        3,
        "80/20 bands",
        PARETO,
        [],
        ["__count", "revenue_window", "cumulative_share"],
        rows=["band"],
        fm=matching(user=None),
    ),
    "4": pivot(
        4,
        "Tier moves by direction",
        HISTORY,
        CUSTOMER_MOVES,
        ["__count"],
        rows=["direction"],
        fm=matching(date="date"),
    ),
    "5": pivot(
        5,
        "Churn risks",
        PROFILE,
        [["churn_risk", "=", True]],
        ["__count", "revenue_window"],
    ),
    "6": pivot(
        6,
        "Overdue follow-ups",
        PROFILE,
        [["followup_overdue", "=", True]],
        ["__count"],
    ),
    "7": pivot(
        7,
        "Prospects by grade",
        PROFILE,
        [["is_prospect", "=", True]],
        ["__count", "prospect_score", "open_quotation_amount"],
        rows=["tier_id"],
    ),
    "8": pivot(
        8,
        "Revenue by region and tier",
        PROFILE,
        CUSTOMERS,
        ["revenue_window"],
        rows=["region_id"],
        columns=["tier_id"],
    ),
}


def odoo_list(lid, name, model, domain, columns, order, fm):
    return {
        "id": str(lid),
        "name": name,
        "model": model,
        "domain": domain,
        "context": {},
        "columns": columns,
        "orderBy": [{"name": n, "asc": asc} for n, asc in order],
        "fieldMatching": fm,
    }


LISTS = {
    "1": odoo_list(
        1,
        "Latest tier moves",
        HISTORY,
        CUSTOMER_MOVES,
        ["date", "partner_id", "from_tier_id", "to_tier_id", "direction", "user_id"],
        [("date", False), ("id", False)],
        matching(date="date"),
    ),
    "2": odoo_list(
        2,
        "Churn risks by revenue",
        PROFILE,
        [["churn_risk", "=", True]],
        [
            "partner_id",
            "tier_id",
            "user_id",
            "revenue_window",
            "prob_alive",
            "last_order_date",
        ],
        [("revenue_window", False)],
        matching(),
    ),
    "3": odoo_list(
        3,
        "Overdue follow-ups, oldest first",
        PROFILE,
        [["followup_overdue", "=", True]],
        ["partner_id", "tier_id", "user_id", "next_followup_date", "last_contact_date"],
        [("next_followup_date", True)],
        matching(),
    ),
}

# ---------------------------------------------------------------- styles
STYLES = {
    "1": {"textColor": "#01666b", "bold": True, "fontSize": 16},  # heading
    "2": {"bold": True, "fontSize": 11, "textColor": "#434343"},  # col header
    "3": {"textColor": "#434343", "verticalAlign": "middle"},  # body
    "4": {"bold": True, "fontSize": 11, "textColor": "#434343", "align": "right"},
    "5": {"textColor": "#434343", "verticalAlign": "middle", "bold": True},  # total
    "6": {"italic": True, "textColor": "#666666", "verticalAlign": "middle"},
}
FORMATS = {"1": "0.0%", "2": "#,##0", "3": "0%", "4": "#,##0.0", "5": "m/d/yyyy"}
BORDERS = {
    "1": {"bottom": {"style": "thin", "color": "#CCCCCC"}},
    "2": {"top": {"style": "thin", "color": "#CCCCCC"}},
}


class Sheet:
    def __init__(self, sid, name, cols, nrows):
        self.sid = sid
        self.name = name
        self.cols = cols
        self.nrows = nrows
        self.cells = {}
        self.styles = {}
        self.formats = {}
        self.borders = {}
        self.rows = {}
        self.figures = []
        self.cond = []

    def set(self, ref, content, style=None, fmt=None, border=None):
        self.cells[ref] = {"content": content}
        if style:
            self.styles[ref] = int(style)
        if fmt:
            self.formats[ref] = int(fmt)
        if border:
            self.borders[ref] = int(border)

    def row_y(self, row):
        return sum(self.rows.get(r, 23) for r in range(row))

    def col_x(self, col):
        return sum(self.cols[:col])

    def dump(self):
        return {
            "id": self.sid,
            "name": self.name,
            "colNumber": len(self.cols),
            "rowNumber": self.nrows,
            "rows": {str(r): {"size": s} for r, s in sorted(self.rows.items())},
            "cols": {str(i): {"size": s} for i, s in enumerate(self.cols)},
            "merges": [],
            "cells": self.cells,
            "styles": self.styles,
            "formats": self.formats,
            "borders": self.borders,
            "conditionalFormats": self.cond,
            "figures": self.figures,
            "tables": [],
            "areGridLinesVisible": False,
            "isVisible": True,
            "headerGroups": {"ROW": [], "COL": []},
            "dataValidationRules": [],
            "comments": {},
        }


def t(text):
    return '=_t("%s")' % text


def col(i):
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def menu_link(text, xmlid):
    return "[%s](odoo://ir_menu_xml_id/%s)" % (text, xmlid)


def view_link(text, name, model, view_type, views, domain=(), context=None):
    """A heading that opens the records behind a table (no menu needed: the
    80/20 and migration menus are for managers)."""
    action = {
        "viewType": view_type,
        "action": {
            "domain": list(domain),
            "context": context or {},
            "modelName": model,
            "views": [[False, v] for v in views],
        },
        "threshold": 0,
        "name": name,
    }
    return "[%s](odoo://view/%s)" % (text, json.dumps(action, separators=(",", ":")))


# ---------------------------------------------------------------- Data sheet
data = Sheet(uid("sheet.data"), "Data", [260, 140, 140, 140], 40)
data.set("A1", "KPI", 2, border=1)
data.set("B1", "Value", 4, border=1)
KPIS = [
    # row, label, formula, format
    (2, "Customers", '=PIVOT.VALUE(1,"__count")', 2),
    (3, "Revenue (window)", '=PIVOT.VALUE(1,"revenue_window")', 0),
    (
        4,
        "Revenue share of the top 20 % of customers",
        '=IFERROR(PIVOT.VALUE(3,"cumulative_share","band","1_top")/100,"")',
        1,
    ),
    (5, "Prospects", '=PIVOT.VALUE(7,"__count")', 2),
    (6, "Moved up", '=IFERROR(0+PIVOT.VALUE(4,"__count","direction","up"),0)', 2),
    (7, "Moved down", '=IFERROR(0+PIVOT.VALUE(4,"__count","direction","down"),0)', 2),
    (8, "New in a tier", '=IFERROR(0+PIVOT.VALUE(4,"__count","direction","new"),0)', 2),
    (9, "Churn risks", '=PIVOT.VALUE(5,"__count")', 2),
    (10, "Overdue follow-ups", '=PIVOT.VALUE(6,"__count")', 2),
    (
        11,
        "Customers in the top 20 %",
        '=IFERROR(0+PIVOT.VALUE(3,"__count","band","1_top"),0)',
        2,
    ),
]
for row, label, formula, fmt in KPIS:
    data.set("A%d" % row, label, 3)  # not shown: not translated
    data.set("B%d" % row, formula, 3, fmt or None)
    # display value for the scorecards
    if fmt == 1:
        data.set("C%d" % row, "=B%d" % row, 3, fmt)
    else:
        data.set("C%d" % row, "=FORMAT.LARGE.NUMBER(B%d)" % row, 3)

# 80/20 curve: customer share (x), cumulative revenue share (y), 80 % line.
CURVE_TOP = 15
data.set("A%d" % (CURVE_TOP - 1), "80/20 curve", 2)
data.set("A%d" % CURVE_TOP, "Share of customers (ranked by revenue)", 2, border=1)
# the series' titles, shown in the chart's legend: translated
data.set("B%d" % CURVE_TOP, t("Share of revenue"), 4, border=1)
data.set("C%d" % CURVE_TOP, t("80 % of revenue"), 4, border=1)
first = CURVE_TOP + 1
last = first + 10
for k in range(11):
    row = first + k
    data.set("C%d" % row, "0.8", 3, 3)
    if k == 0:
        data.set("A%d" % row, "0", 3, 3)
        data.set("B%d" % row, "0", 3, 1)
        continue
    # one point per customer decile: the share of the ranked customers up to
    # the decile's last one (x) and the share of revenue they bring (y)
    for column, fname, fmt in (
        ("A", "customer_share", 3),
        ("B", "cumulative_share", 1),
    ):
        value = 'PIVOT.VALUE(2,"%s","decile","%02d")' % (fname, k)
        if k == 10:
            data.set("%s%d" % (column, row), '=IFERROR(%s/100,"")' % value, 3, fmt)
        else:
            # a decile without a customer (fewer than ten customers) repeats
            # the next decile's point
            data.set(
                "%s%d" % (column, row),
                "=IF(ISNUMBER(%s),%s/100,%s%d)" % (value, value, column, row + 1),
                3,
                fmt,
            )

# ---------------------------------------------------------------- Dashboard
COLS = [250, 130, 130, 150, 150, 150, 140]
dash = Sheet(uid("sheet.dashboard"), "Dashboard", COLS, 80)
WIDTH = sum(COLS)

row = 0
dash.rows[row] = 36
dash.set(
    "A1",
    t(
        "Tiers, revenue and the 80/20 curve as of the last evaluation "
        "(revenue in the program's window); the period filters the tier moves."
    ),
    6,
)
row = 1
SC_H = 101
dash.rows[row] = 2 * SC_H + 30
y0 = dash.row_y(row) + 5
scorecards = [
    ("Customers", 2, "#EFF6FF"),
    ("Revenue (window)", 3, "#EFF6FF"),
    ("Top 20 % of customers hold", 4, "#EFF6FF"),
    ("Prospects", 5, "#EFF6FF"),
    ("Moved up", 6, "#F0FDF4"),
    ("Moved down", 7, "#FEF2F2"),
    ("Churn risks", 9, "#FFF7ED"),
    ("Overdue follow-ups", 10, "#FFF7ED"),
]
card_w = (WIDTH - 3 * 10) / 4
for i, (title, krow, bg) in enumerate(scorecards):
    dash.figures.append(
        {
            "id": uid("scorecard.%s" % title),
            "x": round((card_w + 10) * (i % 4)),
            "y": y0 + (SC_H + 10) * (i // 4),
            "width": round(card_w),
            "height": SC_H,
            "tag": "chart",
            "data": {
                "type": "scorecard",
                "title": {"text": title, "bold": True, "color": "#434343"},
                "background": bg,
                "keyValue": "Data!C%d" % krow,
                "baselineMode": "text",
                "baselineColorDown": "#DC6965",
                "baselineColorUp": "#00A04A",
                "humanize": False,
            },
        }
    )

# charts row: revenue by tier (pie) and the 80/20 curve
row = 2
dash.rows[row] = 40
TIERS_LINK = (
    PROFILE,
    "list",
    ["list", "pivot", "graph", "form"],
    CUSTOMERS,
    {"group_by": ["tier_id"]},
)
dash.set("A3", view_link("Revenue by tier", "Customers by tier", *TIERS_LINK), 1)
PARETO_LINK = view_link(
    "80/20 curve",
    "80/20 (Pareto)",
    PARETO,
    "graph",
    ["graph", "list", "pivot"],
)
dash.set("D3", PARETO_LINK, 1)
row = 3
CH_H = 320
dash.rows[row] = CH_H
y = dash.row_y(row)
half = dash.col_x(3)
dash.figures.append(
    {
        "id": uid("chart.tier_pie"),
        "x": 0,
        "y": y,
        "width": half - 10,
        "height": CH_H - 10,
        "tag": "chart",
        "data": {
            "type": "odoo_pie",
            "title": {"text": ""},
            "background": "#FFFFFF",
            "legendPosition": "right",
            "metaData": {
                "groupBy": ["tier_id"],
                "measure": "revenue_window",
                "order": None,
                "resModel": PROFILE,
                "mode": "pie",
            },
            "searchParams": {
                "comparison": None,
                "context": {},
                "domain": CUSTOMERS,
                "groupBy": ["tier_id"],
                "orderBy": [],
            },
            "fieldMatching": matching(),
        },
    }
)
dash.figures.append(
    {
        "id": uid("chart.pareto"),
        "x": half,
        "y": y,
        "width": WIDTH - half,
        "height": CH_H - 10,
        "tag": "chart",
        "data": {
            "type": "line",
            "title": {"text": ""},
            "background": "#FFFFFF",
            "dataSetsHaveTitle": True,
            "dataSets": [
                {"dataRange": "Data!B%d:B%d" % (CURVE_TOP, last), "yAxisId": "y"},
                {
                    "dataRange": "Data!C%d:C%d" % (CURVE_TOP, last),
                    "yAxisId": "y",
                    "backgroundColor": "#DC6965",
                },
            ],
            "labelRange": "Data!A%d:A%d" % (first, last),
            "legendPosition": "bottom",
            # numbers as labels: a linear axis of the share of customers
            "labelsAsText": False,
            "stacked": False,
            "aggregated": False,
            "cumulative": False,
            "fillArea": False,
            # no axis titles: Odoo 18's o-spreadsheet extracts them for
            # translation but shows them untranslated; the legend (translated
            # series titles) names the lines
        },
    }
)

# table: customers and revenue by tier
r = 5  # 1-based row of the heading
dash.rows[r - 1] = 40
dash.set(
    "A%d" % r,
    view_link("Customers and revenue by tier", "Customers by tier", *TIERS_LINK),
    1,
)
r += 1
for c, (label, style) in enumerate(
    [
        ("Tier", 2),
        ("Customers", 4),
        ("% of customers", 4),
        ("Revenue (window)", 4),
        ("% of revenue", 4),
    ]
):
    dash.set("%s%d" % (col(c), r), t(label), style, border=1)
TIER_ROWS = 6
top = r + 1
for i in range(1, TIER_ROWS + 1):
    rr = r + i
    dash.set("A%d" % rr, '=PIVOT.HEADER(1,"#tier_id",%d)' % i, 3)
    dash.set("B%d" % rr, '=PIVOT.VALUE(1,"__count","#tier_id",%d)' % i, 3, 2)
    dash.set(
        "C%d" % rr,
        '=IF(B%d="","",IFERROR(B%d/Data!$B$2,""))' % (rr, rr),
        3,
        1,
    )
    dash.set("D%d" % rr, '=PIVOT.VALUE(1,"revenue_window","#tier_id",%d)' % i, 3)
    dash.set(
        "E%d" % rr,
        '=IF(D%d="","",IFERROR(D%d/Data!$B$3,""))' % (rr, rr),
        3,
        1,
    )
total = r + TIER_ROWS + 1
dash.set("A%d" % total, t("Total"), 5, border=2)
dash.set("B%d" % total, "=Data!B2", 5, 2, border=2)
dash.set("C%d" % total, '=IF(B%d>0,1,"")' % total, 5, 1, border=2)
dash.set("D%d" % total, "=Data!B3", 5, border=2)
dash.set("E%d" % total, '=IF(D%d>0,1,"")' % total, 5, 1, border=2)
dash.cond.append(
    {
        "id": uid("cf.tier_revenue"),
        "rule": {
            "type": "DataBarRule",
            "color": 15726335,
            "rangeValues": "E%d:E%d" % (top, total - 1),
        },
        "ranges": ["E%d:E%d" % (top, total - 1)],
    }
)
# the 80/20 in words, right of the tier table
dash.set("G%d" % r, t("Top 20 % of customers"), 4, border=1)
dash.set("G%d" % (r + 1), "=Data!B11", 3, 2)
dash.set("F%d" % (r + 1), t("Customers"), 3)
dash.set("G%d" % (r + 2), "=Data!B4", 3, 1)
dash.set("F%d" % (r + 2), t("Share of revenue"), 3)

# table: revenue by region and tier
r = total + 2
dash.rows[r - 1] = 40
dash.set(
    "A%d" % r,
    view_link(
        "Revenue by region and tier",
        "Revenue by region and tier",
        PROFILE,
        "pivot",
        ["pivot", "list", "form"],
        CUSTOMERS,
        {
            "pivot_measures": ["revenue_window"],
            "pivot_row_groupby": ["region_id"],
            "pivot_column_groupby": ["tier_id"],
        },
    ),
    1,
)
r += 1
TIER_COLS = 5
dash.set("A%d" % r, t("Region"), 2, border=1)
for k in range(1, TIER_COLS + 1):
    dash.set(
        "%s%d" % (col(k), r),
        '=IFERROR(PIVOT.HEADER(8,"#tier_id",%d),"")' % k,
        4,
        border=1,
    )
dash.set("%s%d" % (col(TIER_COLS + 1), r), t("Total"), 4, border=1)
REGION_ROWS = 10
for i in range(1, REGION_ROWS + 1):
    rr = r + i
    dash.set("A%d" % rr, '=PIVOT.HEADER(8,"#region_id",%d)' % i, 3)
    for k in range(1, TIER_COLS + 1):
        dash.set(
            "%s%d" % (col(k), rr),
            '=PIVOT.VALUE(8,"revenue_window","#region_id",%d,"#tier_id",%d)' % (i, k),
            3,
        )
    dash.set(
        "%s%d" % (col(TIER_COLS + 1), rr),
        '=PIVOT.VALUE(8,"revenue_window","#region_id",%d)' % i,
        5,
    )
r = r + REGION_ROWS + 2


def list_block(r, link, list_id, columns, count_formula=None):
    dash.rows[r - 1] = 40
    dash.set("A%d" % r, link, 1)
    if count_formula:
        dash.set("G%d" % r, count_formula, 4, 2)
    r += 1
    for c, (label, _fname, _fmt) in enumerate(columns):
        dash.set("%s%d" % (col(c), r), t(label), 2 if c == 0 else 4, border=1)
    for i in range(1, 11):
        for c, (_label, fname, fmt) in enumerate(columns):
            dash.set(
                "%s%d" % (col(c), r + i),
                '=ODOO.LIST(%d,%d,"%s")' % (list_id, i, fname),
                3,
                fmt,
            )
    return r + 12


# moves by direction and the latest moves
dash.rows[r - 1] = 40
dash.set(
    "A%d" % r,
    view_link(
        "Tier moves in the period",
        "Tier moves",
        HISTORY,
        "pivot",
        ["pivot", "list", "form"],
        CUSTOMER_MOVES,
        {
            "pivot_measures": ["__count"],
            "pivot_row_groupby": ["from_tier_id"],
            "pivot_column_groupby": ["to_tier_id"],
        },
    ),
    1,
)
r += 1
for c, (label, krow) in enumerate(
    [("Moved up", 6), ("Moved down", 7), ("New in a tier", 8)]
):
    dash.set("%s%d" % (col(2 * c), r), t(label), 2)
    dash.set("%s%d" % (col(2 * c + 1), r), "=Data!B%d" % krow, 4, 2)
r += 2
r = list_block(
    r,
    menu_link("Latest tier moves", "customer_tier.customer_tier_history_menu"),
    1,
    [
        ("Customer", "partner_id", None),
        ("Date", "date", None),
        ("From tier", "from_tier_id", None),
        ("To tier", "to_tier_id", None),
        ("Direction", "direction", None),
        ("Salesperson", "user_id", None),
    ],
)
r = list_block(
    r,
    view_link(
        "Churn risks",
        "Churn risks",
        PROFILE,
        "list",
        ["list", "form"],
        [["churn_risk", "=", True]],
    ),
    2,
    [
        ("Customer", "partner_id", None),
        ("Tier", "tier_id", None),
        ("Salesperson", "user_id", None),
        ("Revenue (window)", "revenue_window", None),
        ("Probability active", "prob_alive", 3),
        ("Last order", "last_order_date", None),
    ],
    count_formula="=Data!B9",
)
r = list_block(
    r,
    menu_link("Overdue follow-ups", "customer_tier.customer_tier_followup_menu"),
    3,
    [
        ("Customer", "partner_id", None),
        ("Tier", "tier_id", None),
        ("Salesperson", "user_id", None),
        ("Next follow-up", "next_followup_date", None),
        ("Last contact", "last_contact_date", None),
    ],
    count_formula="=Data!B10",
)
# prospects by grade
dash.rows[r - 1] = 40
dash.set(
    "A%d" % r,
    view_link(
        "Prospects by grade",
        "Prospects by grade",
        PROFILE,
        "list",
        ["list", "pivot", "form"],
        [["is_prospect", "=", True]],
        {"group_by": ["tier_id"]},
    ),
    1,
)
r += 1
for c, label in enumerate(["Grade", "Prospects", "Average score", "Open quotations"]):
    dash.set("%s%d" % (col(c), r), t(label), 2 if c == 0 else 4, border=1)
for i in range(1, 7):
    rr = r + i
    dash.set("A%d" % rr, '=PIVOT.HEADER(7,"#tier_id",%d)' % i, 3)
    dash.set("B%d" % rr, '=PIVOT.VALUE(7,"__count","#tier_id",%d)' % i, 3, 2)
    dash.set("C%d" % rr, '=PIVOT.VALUE(7,"prospect_score","#tier_id",%d)' % i, 3, 4)
    dash.set("D%d" % rr, '=PIVOT.VALUE(7,"open_quotation_amount","#tier_id",%d)' % i, 3)
dash.set("A%d" % (r + 7), t("Total"), 5, border=2)
dash.set("B%d" % (r + 7), "=Data!B5", 5, 2, border=2)
dash.nrows = r + 9

doc = {
    "version": 21,
    "sheets": [dash.dump(), data.dump()],
    "styles": STYLES,
    "formats": FORMATS,
    "borders": BORDERS,
    "revisionId": "START_REVISION",
    "uniqueFigureIds": True,
    "settings": {
        "locale": {
            "name": "English (US)",
            "code": "en_US",
            "thousandsSeparator": ",",
            "decimalSeparator": ".",
            "dateFormat": "m/d/yyyy",
            "timeFormat": "hh:mm:ss a",
            "formulaArgSeparator": ",",
            "weekStart": 7,
        }
    },
    "pivots": PIVOTS,
    "pivotNextId": len(PIVOTS) + 1,
    "customTableStyles": {},
    "odooVersion": 12,
    "globalFilters": GLOBAL_FILTERS,
    "lists": LISTS,
    "listNextId": len(LISTS) + 1,
    "chartOdooMenusReferences": {},
}

with open(sys.argv[1] if len(sys.argv) > 1 else OUTPUT, "w") as f:
    json.dump(doc, f, indent=4, ensure_ascii=False)
    f.write("\n")
