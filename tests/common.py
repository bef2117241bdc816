"""Shared fixture of the customer_tier tests.

``CustomerTierCase`` builds, once per test class, a company of its own (the
main company holds the demo data), its tier program (copied from the shipped
template when the company is created) with small, known thresholds, a second
currency with known rates, a second company, a product with a cost and the
users the access tests need. Helpers create sale orders of a given untaxed
amount on a given date and run the engine on a given evaluation date.
"""

from datetime import date, datetime, time
from unittest.mock import patch

from odoo import Command, http
from odoo.tests.common import HttpCase, TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class CursorStandIn:
    """Stands in for the psycopg2 cursor (patched as the cursor's ``_obj``):
    each statement goes through :meth:`_execute` with its text; everything
    else is the cursor's."""

    def __init__(self, cursor):
        self._cursor = cursor

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def execute(self, query, params=None):
        text = query.decode() if isinstance(query, bytes) else str(query)
        return self._execute(text, query, params)

    def _execute(self, text, query, params):
        return self._cursor.execute(query, params)


def load_chinese(env):
    """Activate zh_CN with the module's translations, as when a user adds the
    language."""
    env["res.lang"]._activate_lang("zh_CN")
    env["ir.module.module"]._load_module_terms(
        ["customer_tier"], ["zh_CN"], overwrite=True
    )
    env.registry.clear_cache()  # the installed languages


class CustomerTierCase(TransactionCase):
    """Base class: company A (USD) with EUR orders, company B, four users.

    Fixture (all in company ``cls.company`` unless said otherwise):

    * ``cls.usd`` company currency; ``cls.eur`` with rates of company A:
      0.5 EUR per USD from 2022-01-01, 0.8 EUR per USD from 2024-01-01
      (``cls.EUR_RATE_2022``, ``cls.EUR_RATE_2024``);
    * ``cls.pricelists[(currency, company)]`` used by ``_order``;
    * ``cls.product``: cost 60.0 in both companies (``cls.COST``), no taxes;
    * ``cls.program`` of company A (threshold method, 12-month window) with
      tiers ``cls.tier_a`` .. ``cls.tier_d`` (``cls.tiers`` by code) set to:
      A 10,000 revenue / 3 orders / 180 days, B 2,000 / 2 / 270,
      C 500 / - / 365, D fallback (``cls.THRESHOLDS``); prospect grades
      ``cls.grades`` by code;
    * ``cls.company_b`` (USD) and its own program ``cls.program_b``;
    * users (company A only unless said otherwise): ``cls.user_own``
      (Sales / own documents), ``cls.user_all`` (Sales / all documents),
      ``cls.user_manager`` (Sales / administrator), ``cls.user_b`` (Sales /
      all documents, company B only);
    * ``cls.eval_date`` = 2024-06-30, the evaluation date of most tests.
    """

    COST = 60.0
    EUR_RATE_2022 = 0.5
    EUR_RATE_2024 = 0.8
    THRESHOLDS = {
        "A": {
            "min_revenue": 10000,
            "min_orders": 3,
            "max_recency_days": 180,
            "min_margin": 0,
        },
        "B": {
            "min_revenue": 2000,
            "min_orders": 2,
            "max_recency_days": 270,
            "min_margin": 0,
        },
        "C": {
            "min_revenue": 500,
            "min_orders": 0,
            "max_recency_days": 365,
            "min_margin": 0,
        },
        "D": {
            "min_revenue": 0,
            "min_orders": 0,
            "max_recency_days": 0,
            "min_margin": 0,
        },
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.eval_date = date(2024, 6, 30)
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        cls.usd.active = True
        cls.eur.active = True
        Company = cls.env["res.company"]
        cls.company = Company.create(
            {"name": "Tier Test Co A", "currency_id": cls.usd.id}
        )
        cls.company_b = Company.create(
            {"name": "Tier Test Co B", "currency_id": cls.usd.id}
        )
        cls.env.user.company_ids |= cls.company | cls.company_b
        cls.env = cls.env(
            context=dict(
                cls.env.context,
                allowed_company_ids=[cls.company.id, cls.company_b.id],
            )
        )
        cls.env["res.currency.rate"].create(
            [
                {
                    "currency_id": cls.eur.id,
                    "name": "2022-01-01",
                    "rate": cls.EUR_RATE_2022,
                    "company_id": cls.company.id,
                },
                {
                    "currency_id": cls.eur.id,
                    "name": "2024-01-01",
                    "rate": cls.EUR_RATE_2024,
                    "company_id": cls.company.id,
                },
            ]
        )
        Pricelist = cls.env["product.pricelist"]
        cls.pricelists = {}
        for company in cls.company | cls.company_b:
            for currency in cls.usd | cls.eur:
                cls.pricelists[(currency, company)] = Pricelist.create(
                    {
                        "name": f"{company.name} {currency.name}",
                        "currency_id": currency.id,
                        "company_id": company.id,
                    }
                )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Tier Test Valve",
                "type": "consu",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
            }
        )
        for company in cls.company | cls.company_b:
            cls.product.with_company(company).standard_price = cls.COST

        Program = cls.env["customer.tier.program"]
        cls.program = Program.search([("company_id", "=", cls.company.id)])
        cls.program_b = Program.search([("company_id", "=", cls.company_b.id)])
        assert len(cls.program) == 1 and len(cls.program_b) == 1, "no default program"
        cls.program.write({"method": "threshold", "window_months": 12})
        cls.tiers = {t.code: t for t in cls.program._customer_tiers()}
        cls.grades = {t.code: t for t in cls.program._prospect_grades()}
        cls.tier_a, cls.tier_b, cls.tier_c, cls.tier_d = (
            cls.tiers[code] for code in "ABCD"
        )
        cls._set_thresholds(cls.program, cls.THRESHOLDS)

        def user(login, groups, company):
            return mail_new_test_user(
                cls.env,
                login=login,
                name=login.replace("_", " ").title(),
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.user_own = user(
            "ct_sales_own", "sales_team.group_sale_salesman", cls.company
        )
        cls.user_all = user(
            "ct_sales_all", "sales_team.group_sale_salesman_all_leads", cls.company
        )
        cls.user_manager = user(
            "ct_sales_manager", "sales_team.group_sale_manager", cls.company
        )
        cls.user_b = user(
            "ct_sales_b", "sales_team.group_sale_salesman_all_leads", cls.company_b
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @classmethod
    def _set_thresholds(cls, program, thresholds):
        """``thresholds``: tier code -> values to write on that customer tier,
        in one write of the program (as its form saves them: the order of the
        tiers' conditions is checked once all are written)."""
        tiers = {t.code: t for t in program._customer_tiers()}
        program.write(
            {
                "tier_ids": [
                    Command.update(tiers[code].id, values)
                    for code, values in thresholds.items()
                ]
            }
        )

    @classmethod
    def _customer(cls, name, **values):
        """A company partner (commercial partner of itself)."""
        return cls.env["res.partner"].create(
            dict({"name": name, "is_company": True}, **values)
        )

    @classmethod
    def _contact(cls, parent, name, **values):
        return cls.env["res.partner"].create(
            dict({"name": name, "parent_id": parent.id, "type": "contact"}, **values)
        )

    @classmethod
    def _order(
        cls, partner, amount, order_date, currency=None, company=None, state="sale"
    ):
        """A one-line order of ``amount`` untaxed (order currency), in ``state``.

        ``order_date`` is a date (noon UTC) or a datetime (UTC). A ``sale``
        order is confirmed, a ``cancel`` one is confirmed then cancelled, a
        ``sent`` one is marked as sent; then ``date_order`` is forced to the
        date (the currency rate follows it, as when an order is dated by hand).
        """
        company = company or cls.company
        currency = currency or company.currency_id
        when = order_date
        if not isinstance(when, datetime):
            when = datetime.combine(when, time(12, 0))
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "pricelist_id": cls.pricelists[(currency, company)].id,
                    "date_order": when,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if state in ("sale", "cancel"):
            order.action_confirm()
        if state == "cancel":
            order._action_cancel()
        elif state == "sent":
            order.state = "sent"
        order.date_order = when
        return order

    @classmethod
    def _deactivate_other_programs(cls):
        """Deactivate the programs of the companies outside the fixture (demo
        data): the daily runs cover every company."""
        cls.env["customer.tier.program"].search(
            [("company_id", "not in", (cls.company | cls.company_b).ids)]
        ).active = False

    @classmethod
    def _program(cls, company=None):
        return cls.env["customer.tier.program"].search(
            [("company_id", "=", (company or cls.company).id)], limit=1
        )

    @classmethod
    def _run(cls, eval_date=None, company=None, **kwargs):
        """Full evaluation of the company's program on ``eval_date``."""
        return (
            cls._program(company)
            ._engine()
            .run(eval_date=eval_date or cls.eval_date, **kwargs)
        )

    @classmethod
    def _profile(cls, partner, company=None):
        return cls.env["customer.tier.profile"].search(
            [
                ("partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", (company or cls.company).id),
            ]
        )

    @classmethod
    def _env_as(cls, user, company=None):
        """Environment of ``user`` working in ``company`` (default: its own)."""
        company = company or user.company_id
        return cls.env(
            user=user,
            context=dict(cls.env.context, allowed_company_ids=[company.id]),
        )


class CustomerTierTourCase(HttpCase, CustomerTierCase):
    """Base of the browser tours' cases (tests/test_tour.py,
    tests/test_manager_tour.py): the language ``LANG`` (set by the
    subclasses) installed, and what a tour needs of the test server."""

    LANG = "en_US"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Read every module manifest now, in this thread: otherwise the HTTP
        # server's threads parse them concurrently on the tour's first
        # requests, which trips a CPython 3.11 race in ast.parse ("AST
        # constructor recursion depth mismatch") and fails a static request.
        if "customer_tier" not in http.root.statics:
            raise AssertionError("customer_tier's static folder is not served")
        # Odoo's own test runner raises this flag, pytest-odoo (18.0) does not:
        # without it the chatter's e-mails would be sent for real.
        cls.startClassPatcher(patch("odoo.modules.module.current_test", True))
        if cls.LANG != "en_US":
            cls.env["res.lang"]._activate_lang(cls.LANG)
            cls.env["ir.module.module"].search(
                [("state", "=", "installed")]
            )._update_translations([cls.LANG])

    @classmethod
    def _tour_users(cls, users):
        """``users`` work in ``LANG`` and in UTC, notified in Odoo."""
        users.write({"lang": cls.LANG, "notification_type": "inbox", "tz": "UTC"})
