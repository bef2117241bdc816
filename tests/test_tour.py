"""Browser tours of the whole flow, in English and in Chinese.

The tours (static/tests/tours/customer_tier_tour.js) run in headless Chromium
through ``HttpCase.start_tour``; pytest-odoo runs them only with
``--odoo-http``. On a failure Odoo saves a screenshot of the screen under
``<screenshots>/<database>/screenshots`` (tools/test.sh points ``screenshots``
at its output folder and gathers them in ``.test-output/screenshots``).

Fixture (company A of ``CustomerTierCase``, thresholds A 10,000 / 3 orders,
B 2,000 / 2 orders, C 500, D fallback; evaluated today):

* Alpha (sales manager's customer): 2 orders of 1,500 -> tier B; the manager
  overrides it to A with a reason;
* Beta (sales manager's customer): 1 order of 1,200 -> tier C; tier B is then
  lowered to 1,000 / 1 order, so the recompute preview shows Beta going up;
* Gamma (salesperson's customer): 1 order of 600 confirmed 60 days ago -> C
  since then; with C's 60-day cadence its follow-up is due today, and the
  daily follow-up run schedules it for the salesperson.
"""

import base64
import io
from datetime import datetime, time, timedelta

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import fields
from odoo.tests import tagged

from .common import CustomerTierTourCase

ALPHA = "Tour Customer Alpha"
BETA = "Tour Customer Beta"
GAMMA = "Tour Customer Gamma"
OVERRIDE_REASON = "Distributor for all of East China"
FEEDBACK = "Called the buyer: reorder planned next month"
FOLLOWUP_TYPE = "customer_tier.mail_activity_type_tier_followup"


class TourCase(CustomerTierTourCase):
    """Fixture and checks of the tours; subclasses set the language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tour_users(cls.user_manager | cls.user_own)
        # the daily follow-up run covers every company: keep the others out
        cls.env["customer.tier.program"].search(
            [("company_id", "!=", cls.company.id)]
        ).active = False
        cls.program.followup_days_ahead = 0
        cls.tier_c.followup_interval = 60
        cls.today = today = fields.Date.today()

        def customer(name, user):
            return cls._customer(name, user_id=user.id, customer_rank=1)

        # Gamma became a C customer with its first order, 60 days ago.
        gamma_start = today - timedelta(days=60)
        with freeze_time(datetime.combine(gamma_start, time(9, 0))):
            cls.gamma = customer(GAMMA, cls.user_own)
            cls._order(cls.gamma, 600, gamma_start)
        cls.alpha = customer(ALPHA, cls.user_manager)
        cls._order(cls.alpha, 1500, today - timedelta(days=90))
        cls._order(cls.alpha, 1500, today - timedelta(days=30))
        cls.beta = customer(BETA, cls.user_manager)
        cls._order(cls.beta, 1200, today - timedelta(days=20))
        cls._run(today)
        cls.tier_b.write({"min_revenue": 1000, "min_orders": 1})
        cls.env["customer.tier.program"]._cron_followup()

    def _check_fixture(self):
        profiles = {
            partner: self._profile(partner)
            for partner in self.alpha | self.beta | self.gamma
        }
        self.assertEqual(profiles[self.alpha].tier_id, self.tier_b)
        self.assertEqual(profiles[self.beta].tier_id, self.tier_c)
        self.assertEqual(profiles[self.gamma].tier_id, self.tier_c)
        self.assertEqual(
            profiles[self.gamma].tier_since, self.today - timedelta(days=60)
        )
        self.assertEqual(profiles[self.gamma].next_followup_date, self.today)
        followup = self._followups(self.gamma)
        self.assertEqual(len(followup), 1)
        self.assertEqual(followup.user_id, self.user_own)
        self.assertEqual(followup.date_deadline, self.today)

    def _followups(self, partner):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("customer_tier_activity", "=", "followup"),
            ]
        )

    def _run_tours(self):
        self._check_fixture()
        self.start_tour(
            "/odoo", "customer_tier_manager_tour", login=self.user_manager.login
        )
        self.env.invalidate_all()
        self._check_manager_results()
        self.start_tour(
            "/odoo", "customer_tier_salesperson_tour", login=self.user_own.login
        )
        self.env.invalidate_all()
        self._check_salesperson_results()

    def _check_manager_results(self):
        alpha = self._profile(self.alpha)
        self.assertEqual(alpha.manual_tier_id, self.tier_a)
        self.assertEqual(alpha.manual_reason, OVERRIDE_REASON)
        self.assertEqual(alpha.tier_id, self.tier_a)
        self.assertEqual(alpha.computed_tier_id, self.tier_b)
        manual = alpha.history_ids.filtered(lambda h: h.cause == "manual")
        self.assertEqual(len(manual), 1)
        self.assertEqual(manual.to_tier_id, self.tier_a)
        self.assertEqual(manual.reason, OVERRIDE_REASON)
        # the recompute applied exactly what its preview showed
        wizard = self.env["customer.tier.recompute"].search(
            [("create_uid", "=", self.user_manager.id)]
        )
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.line_ids.partner_id, self.beta)
        self.assertEqual(self._profile(self.beta).tier_id, self.tier_b)
        self.assertEqual(
            self.beta.with_company(self.company).customer_tier_id, self.tier_b
        )
        # the downloaded workbook is a real one, with the manager's customers
        export = self.env["customer.tier.workbook.wizard"].search(
            [("create_uid", "=", self.user_manager.id)]
        )
        self.assertEqual(len(export), 1)
        self.assertTrue(export.file_name.endswith(".xlsx"))
        book = load_workbook(io.BytesIO(base64.b64decode(export.file_data)))
        self.assertGreaterEqual(len(book.sheetnames), 5)
        values = {
            cell
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        }
        self.assertTrue({ALPHA, BETA, GAMMA} <= values)

    def _check_salesperson_results(self):
        self.assertFalse(self._followups(self.gamma), "the follow-up is done")
        done = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.gamma.id),
                ("mail_activity_type_id", "=", self.env.ref(FOLLOWUP_TYPE).id),
            ]
        )
        self.assertEqual(len(done), 1)
        self.assertEqual(done.author_id, self.user_own.partner_id)
        self.assertIn(FEEDBACK, done.body)
        # the done follow-up is the customer's last contact: next one in 60 days
        gamma = self._profile(self.gamma)
        self.assertEqual(gamma.last_contact_date, self.today)
        self.assertEqual(gamma.next_followup_date, self.today + timedelta(days=60))


@tagged("post_install", "-at_install")
class TestTourEnglish(TourCase):
    LANG = "en_US"

    def test_tour_en_US(self):
        self._run_tours()


@tagged("post_install", "-at_install")
class TestTourChinese(TourCase):
    LANG = "zh_CN"

    def test_tour_zh_CN(self):
        self.assertEqual(self.user_manager.lang, "zh_CN")
        self._run_tours()
