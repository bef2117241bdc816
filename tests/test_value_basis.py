"""The revenue basis: confirmed orders, or invoiced net of credit notes.

Hand-computed figures, evaluated on 2024-06-30 (window 2023-07-01 ..
2024-06-30), company A in USD, every unit of the product costing 60 USD, no
taxes; EUR at 0.5 per USD in 2022-2023 and 0.8 from 2024 (company A's rates).

* Kappa: 10 x 250 on 2024-02-01 (invoiced 2024-02-05) and 1 x 1,000 on
  2024-04-01 (invoiced 2024-04-03); a credit note of 7 of the 10 units
  (1,750, cost 420) on 2024-05-10, made with the reversal wizard. Company B
  sells it 1 x 9,000 on 2024-03-01, invoiced in company B.
  Orders: revenue 3,500, margin 3,500 - 660 = 2,840, 2 orders, last 90 days
  ago: tier B (2,000 / 2 orders / 270 days).
  Invoiced: revenue 3,500 - 1,750 = 1,750, margin 1,750 - 240 = 1,510,
  average order 1,750 / 2 = 875: tier C (500).
* Lambda: 2 x 400 on 2024-03-01 (invoiced 2024-03-05), refunded in full on
  2024-06-01 by the wizard's *full refund and new draft invoice* (the new
  invoice, cancelled, counts for nothing). Orders: 800, margin 680, tier C;
  invoiced: 0 and 0, tier D.
* Mu: 1 x 1,000 EUR on 2023-09-01 (rate 0.5: 2,000 USD, cost 30 EUR at 0.5
  = 60 USD) invoiced on 2024-03-01 (rate 0.8: 1,250 USD). Orders: 2,000,
  margin 1,940; invoiced: 1,250, margin 1,190.
* Nu: 3 x 1,000 on 2023-05-01 (invoiced 2023-05-02) and 1 x 600 on
  2024-01-10 (invoiced 2024-01-12); a credit note of 1 unit of the first
  invoice on 2023-06-20, before the window. Invoiced: window 600, margin 540;
  lifetime 3,000 + 600 - 1,000 = 2,600, margin 2,600 - 180 = 2,420.
* Xi: 1 x 800 on 2023-05-01 (invoiced 2023-05-02), 1 x 300 on 2024-05-01
  (invoiced 2024-05-02); the first invoice refunded in full on 2024-03-01, in
  the window. Invoiced: window 300 - 800 = -500, shown as 0, margin -500 -
  (60 - 60) = -500; lifetime 300, margin 240.
* Omicron: 1 x 5,000 on 2024-04-01 (its invoice left in draft) and 1 x 700
  on 2024-04-02 (invoiced 2024-04-05, then cancelled). Orders: 5,700;
  invoiced: 0.
"""

from contextlib import contextmanager
from datetime import date, datetime, time
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from odoo.addons.customer_tier.models.customer_tier_engine import TierEngine

from .common import CustomerTierCase

E = date(2024, 6, 30)


@tagged("post_install", "-at_install")
class TestRevenueBasis(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for company in cls.company | cls.company_b:
            cls.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )
        cls.program.grace_length = 0
        cls.kappa = cls._customer("Kappa")
        cls.lambda_ = cls._customer("Lambda")
        cls.mu = cls._customer("Mu")
        cls.nu = cls._customer("Nu")
        cls.xi = cls._customer("Xi")
        cls.omicron = cls._customer("Omicron")
        # Kappa
        k1 = cls._invoiced(cls.kappa, 10, 250, date(2024, 2, 1), date(2024, 2, 5))
        cls._invoiced(cls.kappa, 1, 1000, date(2024, 4, 1), date(2024, 4, 3))
        cls.kappa_refund = cls._refund(k1, date(2024, 5, 10), quantity=7)
        cls._invoiced(
            cls.kappa,
            1,
            9000,
            date(2024, 3, 1),
            date(2024, 3, 2),
            company=cls.company_b,
        )
        # Lambda: full refund and a new draft invoice, then cancelled
        l1 = cls._invoiced(cls.lambda_, 2, 400, date(2024, 3, 1), date(2024, 3, 5))
        wizard = cls._reversal(l1, date(2024, 6, 1))
        action = wizard.modify_moves()
        cls.lambda_copy = cls.env["account.move"].browse(action["res_id"])
        cls.lambda_copy.invoice_date = date(2024, 6, 1)
        cls.lambda_copy.button_cancel()
        # Mu: EUR, ordered at 0.5, invoiced at 0.8
        cls._invoiced(
            cls.mu, 1, 1000, date(2023, 9, 1), date(2024, 3, 1), currency=cls.eur
        )
        # Nu: a credit note before the window
        n1 = cls._invoiced(cls.nu, 3, 1000, date(2023, 5, 1), date(2023, 5, 2))
        cls._invoiced(cls.nu, 1, 600, date(2024, 1, 10), date(2024, 1, 12))
        cls._refund(n1, date(2023, 6, 20), quantity=1)
        # Xi: a credit note in the window for an invoice before it
        x1 = cls._invoiced(cls.xi, 1, 800, date(2023, 5, 1), date(2023, 5, 2))
        cls._invoiced(cls.xi, 1, 300, date(2024, 5, 1), date(2024, 5, 2))
        cls._refund(x1, date(2024, 3, 1))
        # Omicron: a draft invoice and a cancelled one
        cls.omicron_draft = cls._invoiced(
            cls.omicron, 1, 5000, date(2024, 4, 1), date(2024, 4, 4), post=False
        )
        cancelled = cls._invoiced(
            cls.omicron, 1, 700, date(2024, 4, 2), date(2024, 4, 5)
        )
        cancelled.button_cancel()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @classmethod
    def _invoiced(
        cls,
        partner,
        quantity,
        price,
        order_date,
        invoice_date,
        currency=None,
        company=None,
        post=True,
    ):
        """An order of ``quantity`` x ``price``, confirmed on ``order_date``,
        invoiced in full on ``invoice_date`` (posted unless ``post`` is
        False); returns the invoice."""
        company = company or cls.company
        order = cls._order(
            partner,
            price,
            order_date,
            currency=currency,
            company=company,
            state="draft",
        )
        order.order_line.write({"product_uom_qty": quantity, "price_unit": price})
        order.action_confirm()
        order.date_order = datetime.combine(order_date, time(12, 0))
        invoice = order.with_company(company)._create_invoices()
        invoice.invoice_date = invoice_date
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _reversal(cls, invoice, day):
        return (
            cls.env["account.move.reversal"]
            .with_company(invoice.company_id)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"date": day, "journal_id": invoice.journal_id.id})
        )

    @classmethod
    def _refund(cls, invoice, day, quantity=None):
        """A credit note of ``invoice`` on ``day`` made with the reversal
        wizard, of ``quantity`` units (None: all), posted."""
        action = cls._reversal(invoice, day).refund_moves()
        refund = cls.env["account.move"].browse(action["res_id"])
        if quantity is not None:
            refund.invoice_line_ids.quantity = quantity
        refund.action_post()
        return refund

    def _money(self, partner, company=None):
        profile = self._profile(partner, company=company)
        return (
            profile.revenue_window,
            profile.margin_window,
            profile.revenue_total,
            profile.margin_total,
        )

    def _basis(self, basis, program=None):
        (program or self.program).revenue_basis = basis

    # ------------------------------------------------------------------
    # Orders basis: unchanged
    # ------------------------------------------------------------------
    def test_orders_basis_counts_the_orders(self):
        self.assertEqual(self.program.revenue_basis, "orders")
        self._run(E)
        self.assertEqual(self._money(self.kappa), (3500, 2840, 3500, 2840))
        self.assertEqual(self._profile(self.kappa).tier_id, self.tier_b)
        self.assertEqual(self._money(self.lambda_), (800, 680, 800, 680))
        self.assertEqual(self._money(self.mu), (2000, 1940, 2000, 1940))
        self.assertEqual(self._money(self.nu), (600, 540, 3600, 3360))
        self.assertEqual(self._profile(self.omicron).revenue_window, 5700)

    def test_orders_basis_plans_as_without_the_feature(self):
        """On the orders basis the feature changes nothing: the plan is the
        one of an engine without it, row for row."""
        engine = self.program._engine()
        self.assertTrue(engine.feature("revenue_basis"))
        with_feature = engine.plan(E)
        bare = self.program._engine()
        bare.features = [f for f in bare.features if f.name != "revenue_basis"]
        self.assertEqual(with_feature, bare.plan(E))

    # ------------------------------------------------------------------
    # Invoiced basis
    # ------------------------------------------------------------------
    def test_invoiced_basis_figures(self):
        self._basis("invoiced")
        self._run(E)
        kappa = self._profile(self.kappa)
        self.assertEqual(self._money(self.kappa), (1750, 1510, 1750, 1510))
        self.assertEqual(kappa.average_order_value, 875)
        # orders, dates and recency stay those of the orders
        self.assertEqual(kappa.order_count_window, 2)
        self.assertEqual(kappa.last_order_date, date(2024, 4, 1))
        self.assertEqual(kappa.recency_days, 90)
        # full refund; the new invoice, cancelled, does not count
        self.assertEqual(self._money(self.lambda_), (0, 0, 0, 0))
        # EUR at the invoice's rate, cost at the order's
        self.assertEqual(self._money(self.mu), (1250, 1190, 1250, 1190))
        # a credit note before the window: lifetime only
        self.assertEqual(self._money(self.nu), (600, 540, 2600, 2420))
        # a credit note in the window for an invoice before it
        self.assertEqual(self._money(self.xi), (0, -500, 300, 240))
        # drafts and cancelled invoices do not count
        self.assertEqual(self._money(self.omicron), (0, 0, 0, 0))
        self.assertEqual(self._profile(self.omicron).order_count_window, 2)

    def test_refund_moves_the_tier_down(self):
        """With the credit note in draft Kappa invoices 3,500 (B); posted,
        1,750: C, with the reason in words."""
        self._basis("invoiced")
        with freeze_time("2024-06-30 12:00:00"):
            self.kappa_refund.button_draft()
            self._run(E)
            self.assertEqual(self._money(self.kappa), (3500, 2840, 3500, 2840))
            self.assertEqual(self._profile(self.kappa).tier_id, self.tier_b)
            self.kappa_refund.action_post()
            self._run(E)
        profile = self._profile(self.kappa)
        self.assertEqual(profile.tier_id, self.tier_c)
        move = self.env["customer.tier.history"].search(
            [("partner_id", "=", self.kappa.id), ("company_id", "=", self.company.id)],
            order="id desc",
            limit=1,
        )
        self.assertEqual(
            (move.from_tier_id, move.to_tier_id), (self.tier_b, self.tier_c)
        )
        self.assertEqual(move.revenue_window, 1750)
        self.assertIn("No longer meets", move.reason)
        self.assertIn("invoiced revenue in window", move.reason)
        self.assertIn("invoiced revenue in window", profile.tier_explanation)

    def test_ranks_and_scores_follow_the_invoices(self):
        """Pareto shares and RFM monetary scores of the invoiced basis:
        window revenue Mu 1,250, Kappa 1,750, Nu 600, Xi 300 -> 0, Lambda 0,
        Omicron 0; total 3,600."""
        self._basis("invoiced")
        self._run(E)
        kappa = self._profile(self.kappa)
        mu = self._profile(self.mu)
        self.assertEqual((kappa.pareto_rank, mu.pareto_rank), (1, 2))
        self.assertAlmostEqual(kappa.revenue_share, 1750 / 3600, places=4)
        self.assertAlmostEqual(mu.cumulative_share, 3000 / 3600, places=4)
        # monetary: 6 customers; at most Kappa's 1,750: all 6 -> 5; at most
        # Nu's 600: 4 (three at 0) -> ceil(5 * 4 / 6) = 4; at 0: 3 -> 3
        self.assertEqual(kappa.rfm_monetary_score, 5)
        self.assertEqual(self._profile(self.nu).rfm_monetary_score, 4)
        self.assertEqual(self._profile(self.lambda_).rfm_monetary_score, 3)

    def test_other_company_moves_do_not_count(self):
        self._basis("invoiced")
        self._basis("invoiced", program=self.program_b)
        self._run(E)
        self._run(E, company=self.company_b)
        self.assertEqual(self._money(self.kappa)[0], 1750)
        self.assertEqual(
            self._money(self.kappa, company=self.company_b), (9000, 8940, 9000, 8940)
        )
        # and a user of company B reads company B's figures only
        env_b = self._env_as(self.user_b)
        with self.assertRaises(AccessError):
            self._profile(self.kappa).with_env(env_b).read(["revenue_window"])
        self.assertEqual(
            self.kappa.with_env(env_b).tier_revenue_window,
            9000,
        )

    @contextmanager
    def _refreshes(self):
        """The partner ids of each engine refresh made in the block."""
        calls = []
        refresh = TierEngine.refresh_partners

        def spy(engine, partner_ids, eval_date=None):
            calls.append(sorted(partner_ids))
            return refresh(engine, partner_ids, eval_date=eval_date)

        with patch.object(TierEngine, "refresh_partners", spy):
            yield calls

    def test_refresh_on_post_and_reset_to_draft(self):
        """Posting refreshes the customers of the posted invoices, in one
        refresh; resetting to draft refreshes them again."""
        self._basis("invoiced")
        pi = self._customer("Pi")
        rho = self._customer("Rho")
        with freeze_time("2024-06-30 12:00:00"):
            orders = self._order(pi, 900, date(2024, 5, 1)) | self._order(
                rho, 400, date(2024, 5, 2)
            )
            self._run(E)
            self.assertEqual(self._money(pi), (0, 0, 0, 0))
            invoices = orders._create_invoices(grouped=True)
            invoices.invoice_date = date(2024, 6, 10)
            with self._refreshes() as calls:
                invoices.action_post()
            self.assertEqual(calls, [sorted((pi | rho).ids)])
            self.assertEqual(self._money(pi), (900, 840, 900, 840))
            self.assertEqual(self._money(rho), (400, 340, 400, 340))
            self.assertEqual(self._profile(pi).evaluation_date, E)
            with self._refreshes() as calls:
                invoices.button_draft()
            self.assertEqual(calls, [sorted((pi | rho).ids)])
            self.assertEqual(self._money(pi), (0, 0, 0, 0))
            # on the orders basis, posting refreshes nothing
            self._basis("orders")
            with self._refreshes() as calls:
                invoices.action_post()
            self.assertEqual(calls, [])

    def test_refresh_queries(self):
        """A refresh on the invoiced basis costs two queries more than on the
        orders basis: the invoices' aggregate and the ranking again."""

        def count():
            engine = self.program._engine()
            engine.refresh_partners([self.kappa.id], eval_date=E)  # warm-up
            self.env.invalidate_all()
            self.env.flush_all()
            start = self.cr.sql_log_count
            self.program._engine().refresh_partners([self.kappa.id], eval_date=E)
            self.env.flush_all()
            return self.cr.sql_log_count - start

        self._run(E)
        orders = count()
        self._basis("invoiced")
        self._run(E)
        self.assertEqual(count(), orders + 2)

    # ------------------------------------------------------------------
    # Configuration
    # ------------------------------------------------------------------
    def test_program_form_and_preview(self):
        """A manager switches the basis on the program form; the recompute's
        preview shows what the switch does, and applies it."""
        self._run(E)
        env = self._env_as(self.user_manager)
        with Form(self.program.with_env(env)) as form:
            self.assertEqual(form.revenue_basis, "orders")
            form.revenue_basis = "invoiced"
        self.assertEqual(self.program.revenue_basis, "invoiced")
        wizard = env["customer.tier.recompute"].create(
            {"program_id": self.program.id, "eval_date": E, "reclassify": True}
        )
        wizard.action_preview()
        moves = {
            (line.partner_id, line.from_tier_id, line.to_tier_id)
            for line in wizard.line_ids
        }
        # Omicron (5,700 ordered in 2 orders, 89 days ago: B) invoiced
        # nothing; Mu (C), Nu (C) and Xi (D) keep their tiers
        self.assertEqual(
            moves,
            {
                (self.kappa, self.tier_b, self.tier_c),
                (self.lambda_, self.tier_c, self.tier_d),
                (self.omicron, self.tier_b, self.tier_d),
            },
        )
        wizard.action_apply()
        self.assertEqual(self._profile(self.kappa).tier_id, self.tier_c)
        self.assertEqual(self._profile(self.lambda_).tier_id, self.tier_d)

    def test_salesperson_cannot_change_the_basis(self):
        program = self.program.with_env(self._env_as(self.user_all))
        self.assertEqual(program.revenue_basis, "orders")
        with self.assertRaises(AccessError):
            program.revenue_basis = "invoiced"
