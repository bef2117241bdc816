"""A sales manager reviews the tiers in the browser, in English and Chinese.

The tour ``customer_tier_manager_review_tour``
(static/tests/tours/customer_tier_manager_review_tour.js) opens a customer's
*Why this tier* panel, switches the program from thresholds to Pareto,
previews the recompute (the customers who move now and those who become at
risk, with the date they would drop), applies it and reads the notification,
follows it to the history of that run, opens *Dashboards > Customer Tiers*
and reads the dashboard's figures from its spreadsheet model, then opens a
quotation of a customer below its tier's minimum order. Every figure the
tour checks is computed here, by hand, from the records this test creates,
and handed to the tour (formatted and translated in the user's language);
the database is checked after the tour.

Screenshots for the README (tools/screenshots.sh): with ``CT_SCREENSHOTS``
set to a folder, the tour stops at each key screen and this test saves a
PNG of the browser's viewport (1366x768) there, in a sub-folder per
language; without it the tour takes no screenshot and nothing is written.

Fixture (company A of ``CustomerTierCase``, thresholds A 10,000 / 3 orders /
180 days, B 2,000 / 2 / 270, C 500 / - / 365, D fallback; Pareto bounds A
50 %, B 80 %, C 95 %, D the rest; evaluated today, downgrade grace of two
daily evaluations):

============== ======================= ========== ======== ============
customer       orders (days ago)       revenue    tier     Pareto
============== ======================= ========== ======== ============
Pacific Valves 4,000 x 3 (100, 60, 20) 12,000     A        A (44.0 %)
Orient Tubing  9,000 (10)              9,000      C        B (76.9 %)
Delta Fittings 1,500 x 2 (90, 30)      3,000      B        C (87.9 %)
Summit Seals   1,200 x 2 (200, 150)    2,400      B        D (96.7 %)
Nova Gaskets   600 (40)                600        C        D (98.9 %)
Lumen Flanges  300 (50)                300        D        D
============== ======================= ========== ======== ============

The switch to Pareto moves Orient Tubing up at once; Delta Fittings, Summit
Seals and Nova Gaskets become at risk (their downgrade waits for the grace).
Tier D asks a minimum order of 500 with a service fee: Lumen Flanges' draft
quotation of 200 is 300 short.
"""

import base64
import json
import os
import pathlib
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools.misc import format_date

from .common import CustomerTierTourCase

TOUR = "customer_tier_manager_review_tour"
# sessionStorage key of the figures the tour checks (read by the tour)
DATA_KEY = "customer_tier_manager_review_tour"
# console message of the tour asking for a screenshot (then the name)
SHOT_SIGNAL = "customer_tier screenshot:"
DASHBOARD = "customer_tier.spreadsheet_dashboard_customer_tier"
# customer: (amount, days ago) of each confirmed order
ORDERS = {
    "Pacific Valves": [(4000, 100), (4000, 60), (4000, 20)],
    "Orient Tubing": [(9000, 10)],
    "Delta Fittings": [(1500, 90), (1500, 30)],
    "Summit Seals": [(1200, 200), (1200, 150)],
    "Nova Gaskets": [(600, 40)],
    "Lumen Flanges": [(300, 50)],
}
PARETO_BOUNDS = {"A": 50, "B": 80, "C": 95}
WHY_CUSTOMER = "Delta Fittings"
QUOTATION_CUSTOMER = "Lumen Flanges"
QUOTATION_AMOUNT = 200
MIN_ORDER_D = 500
FEE_PRODUCT = "Small-order service fee"


def amount(value):
    """An amount as the web client and the explanations show it (en_US and
    zh_CN group thousands with a comma)."""
    return f"{value:,.2f}"


class ManagerTourCase(CustomerTierTourCase):
    """Fixture and checks of the manager's review; subclasses set the
    language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tour_users(cls.user_manager)
        cls._deactivate_other_programs()
        cls.today = today = fields.Date.today()
        # the scheduled recompute runs daily and applies the tiers: the
        # preview's drop dates count in days from today
        cron = cls.env.ref("customer_tier.ir_cron_customer_tier_recompute")
        cron.write({"active": True, "interval_number": 1, "interval_type": "days"})
        fee = cls.env["product.product"].create(
            {"name": FEE_PRODUCT, "type": "service", "list_price": 25.0}
        )
        cls.program.write(
            {
                "auto_apply": True,
                "grace_unit": "evaluations",
                "grace_length": 2,
                "tier_ids": [
                    Command.update(cls.tiers[code].id, {"pareto_max_share": bound})
                    for code, bound in PARETO_BOUNDS.items()
                ]
                + [
                    Command.update(
                        cls.tier_d.id,
                        {
                            "min_order_amount": MIN_ORDER_D,
                            "min_order_policy": "fee",
                            "fee_product_id": fee.id,
                            "fee_type": "fixed",
                            "fee_fixed": 25.0,
                        },
                    )
                ],
            }
        )
        cls.customers = {}
        for name, orders in ORDERS.items():
            partner = cls.customers[name] = cls._customer(
                name, user_id=cls.user_manager.id, customer_rank=1
            )
            for value, days in orders:
                cls._order(partner, value, today - timedelta(days=days))
        cls._run(today)
        cls.quotation = cls._order(
            cls.customers[QUOTATION_CUSTOMER],
            QUOTATION_AMOUNT,
            today,
            state="draft",
        )
        cls.quotation.user_id = cls.user_manager

    # ------------------------------------------------------------------
    # Figures computed by hand
    # ------------------------------------------------------------------
    def _revenue(self, name):
        return sum(value for value, _days in ORDERS[name])

    def _threshold_tier(self, name):
        """The tier the thresholds give (every order is within 270 days but
        Summit Seals' last one; none is beyond 365)."""
        revenue = self._revenue(name)
        orders = len(ORDERS[name])
        last = min(days for _value, days in ORDERS[name])
        for code in "ABC":
            rule = self.THRESHOLDS[code]
            if (
                revenue >= rule["min_revenue"]
                and orders >= rule["min_orders"]
                and last <= rule["max_recency_days"]
            ):
                return code
        return "D"

    def _pareto_tiers(self):
        """Pareto: customers ranked by revenue, each takes the best tier
        whose bound holds its cumulative share (its own revenue included)."""
        total = sum(self._revenue(name) for name in ORDERS)
        ranked = sorted(ORDERS, key=self._revenue, reverse=True)
        tiers, cumulative = {}, 0
        for name in ranked:
            cumulative += self._revenue(name)
            share = 100.0 * cumulative / total
            tiers[name] = next(
                (code for code, bound in PARETO_BOUNDS.items() if share <= bound), "D"
            )
        return tiers

    def _expected(self):
        """What the tour must show, in the manager's language."""
        env = self.env(context=dict(self.env.context, lang=self.LANG))
        before = {name: self._threshold_tier(name) for name in ORDERS}
        pareto = self._pareto_tiers()
        up = sorted(n for n in ORDERS if pareto[n] < before[n])
        at_risk = sorted(n for n in ORDERS if pareto[n] > before[n])
        # upgrades apply now, downgrades wait for the grace
        after = {n: (pareto[n] if n in up else before[n]) for n in ORDERS}
        total = sum(self._revenue(n) for n in ORDERS)
        tiers = {}
        for code in "ABCD":
            names = [n for n in ORDERS if after[n] == code]
            if names:
                tier = self.tiers[code].with_env(env)
                tiers[tier.display_name] = {
                    "count": len(names),
                    "share": round(sum(self._revenue(n) for n in names) / total, 4),
                }
        why = WHY_CUSTOMER
        held = self.THRESHOLDS[before[why]]
        upper = self.THRESHOLDS[chr(ord(before[why]) - 1)]
        revenue = self._revenue(why)
        # the grace is two evaluations: this one is the first, the daily
        # evaluation of tomorrow spends it
        drop = self.today + timedelta(days=1)
        return {
            "why": {
                "customer": why,
                "held": before[why] + " - ",
                "revenue": amount(revenue),
                "heldBound": amount(held["min_revenue"]),
                "upper": chr(ord(before[why]) - 1) + " - ",
                "upperBound": amount(upper["min_revenue"]),
                "reach": amount(upper["min_revenue"] - revenue),
            },
            "preview": {
                "up": len(up),
                "down": 0,
                "new": 0,
                "upCustomers": up,
                "atRisk": len(at_risk),
                "atRiskCustomers": at_risk,
                "dropDate": format_date(env, drop),
                "pendingTier": {n: pareto[n] + " - " for n in at_risk},
            },
            "notification": env._(
                "%(up)s up, %(down)s down, %(new)s new.", up=len(up), down=0, new=0
            ),
            "dashboard": {
                "name": self.env.ref(DASHBOARD).with_env(env).name,
                "customers": len(ORDERS),
                "tiers": tiers,
            },
            "quotation": {
                "customer": QUOTATION_CUSTOMER,
                "tier": "D - ",
                "minimum": amount(MIN_ORDER_D),
                "missing": amount(MIN_ORDER_D - QUOTATION_AMOUNT),
                "fee": FEE_PRODUCT,
            },
            "screenshots": bool(os.environ.get("CT_SCREENSHOTS")),
            "after": after,
        }

    # ------------------------------------------------------------------
    # Tour
    # ------------------------------------------------------------------
    def _start_tour(self, expected):
        options = {
            "stepDelay": 0,
            "keepWatchBrowser": False,
            "debug": False,
            "startUrl": "/odoo",
        }
        code = "sessionStorage.setItem(%s, %s); odoo.startTour(%s, %s)" % (
            json.dumps(DATA_KEY),
            json.dumps(json.dumps(expected)),
            json.dumps(TOUR),
            json.dumps(options),
        )
        folder = os.environ.get("CT_SCREENSHOTS")
        if not folder:
            self.start_tour(
                "/odoo", TOUR, login=self.user_manager.login, code=code, timeout=120
            )
            return
        folder = pathlib.Path(folder) / self.LANG
        folder.mkdir(parents=True, exist_ok=True)
        with patch.object(
            ChromeBrowser, "_handle_console", _screenshot_console(folder)
        ):
            self.start_tour(
                "/odoo", TOUR, login=self.user_manager.login, code=code, timeout=180
            )

    def _run_tour(self):
        expected = self._expected()
        # the fixture is what the hand computation says
        for name, code in expected["after"].items():
            if name not in expected["preview"]["upCustomers"]:
                self.assertEqual(
                    self._profile(self.customers[name]).tier_id, self.tiers[code]
                )
        if self.LANG != "en_US":
            self.assertNotIn(" up, ", expected["notification"], "translated")
        self.assertEqual(self.quotation.customer_tier_id, self.tier_d)
        self._start_tour(expected)
        self.env.invalidate_all()
        self._check_results(expected)

    def _check_results(self, expected):
        self.assertEqual(self.program.method, "pareto")
        for name, code in expected["after"].items():
            profile = self._profile(self.customers[name])
            self.assertEqual(profile.tier_id, self.tiers[code], name)
            pending = expected["preview"]["pendingTier"].get(name)
            self.assertEqual(
                profile.downgrade_tier_id.code or False,
                pending[0] if pending else False,
                name,
            )
        wizard = self.env["customer.tier.recompute"].search(
            [("create_uid", "=", self.user_manager.id)]
        )
        self.assertEqual(wizard.state, "done")
        self.assertEqual(
            sorted(wizard.line_ids.partner_id.mapped("name")),
            expected["preview"]["upCustomers"],
        )
        self.assertEqual(
            sorted(wizard.risk_line_ids.partner_id.mapped("name")),
            expected["preview"]["atRiskCustomers"],
        )
        # the run's history: the moves of the Apply, and only them
        History = self.env["customer.tier.history"]
        last_moves = History.browse(
            History.search(
                [("partner_id", "=", self.customers[name].id)],
                order="id desc",
                limit=1,
            ).id
            for name in expected["preview"]["upCustomers"]
        )
        self.assertEqual(set(last_moves.mapped("direction")), {"up"})
        self.assertEqual(len(set(last_moves.mapped("run_ref"))), 1)
        run = History.search([("run_ref", "=", last_moves[0].run_ref)])
        self.assertEqual(run, last_moves)


def _screenshot_console(folder):
    """``ChromeBrowser._handle_console`` that saves a screenshot when the
    tour asks for one (``SHOT_SIGNAL`` name), then tells the tour it may go
    on (``data-customer-tier-shot`` on the body)."""
    handle = ChromeBrowser._handle_console

    def handle_console(browser, **params):
        first = (params.get("args") or [{}])[0]
        text = first.get("value") if first.get("type") == "string" else None
        if params.get("type") != "log" or not text or not text.startswith(SHOT_SIGNAL):
            return handle(browser, **params)
        name = text[len(SHOT_SIGNAL) :].strip()
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad screenshot name {name!r}")

        def save(future):
            data = future.result()["data"]
            (folder / f"{name}.png").write_bytes(base64.b64decode(data))
            browser._websocket_send(
                "Runtime.evaluate",
                params={
                    "expression": "document.body.dataset.customerTierShot = %s"
                    % json.dumps(name)
                },
            )

        # (the browser's receiver thread: send, do not wait for the answer)
        browser._websocket_send(
            "Page.captureScreenshot", params={"format": "png"}, with_future=True
        ).add_done_callback(save)
        return None

    return handle_console


@tagged("post_install", "-at_install")
class TestManagerTourEnglish(ManagerTourCase):
    LANG = "en_US"

    def test_manager_tour_en_US(self):
        self._run_tour()


@tagged("post_install", "-at_install")
class TestManagerTourChinese(ManagerTourCase):
    LANG = "zh_CN"

    def test_manager_tour_zh_CN(self):
        self.assertEqual(self.user_manager.lang, "zh_CN")
        self._run_tour()
