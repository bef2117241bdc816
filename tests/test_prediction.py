"""Probability active, expected orders and 12-month value.

Reference values (the CDNOW sample of 2,357 customers, time unit: weeks):

* BG/NBD maximum-likelihood estimates r = 0.243, alpha = 4.414, a = 0.793,
  b = 2.426 (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way",
  Marketing Science 24(2), section 4); to six digits r = 0.242593,
  alpha = 4.413532, a = 0.792886, b = 2.425752 (``lifetimes`` Quickstart,
  ``bgf.summary``).
* E[X(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226 for CDNOW customer 1 (Hardie's
  BG/NBD spreadsheet; ``lifetimes`` tests/test_estimation.py,
  ``test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet``).
* E[X(t)] of a new customer: 0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576 at
  t = 0.1429, 1, 3, 31.8571, 32, 78 weeks (same spreadsheet;
  ``test_expectation_returns_same_value_Hardie_excel_sheet``).
* P(alive) falls as x grows for t_x = 30, T = 39 (the "increasing frequency
  paradox", example of BTYD's ``bgnbd.PAlive`` with the paper's parameters).
* Gamma-Gamma p = 6.25, q = 3.74, v = 15.44 (Fader & Hardie 2013, "The
  Gamma-Gamma Model of Monetary Value"); E[M | x, m] = 24.65, 18.91, 35.17,
  71.46, 27.28 for CDNOW customers 1, 2, 3 (no repeat), 6 and 9 with
  (x, m) = (2, 22.35), (1, 11.77), (0, -), (7, 73.74), (2, 25.55)
  (Hardie's spreadsheet, note 025; ``lifetimes``
  ``test_conditional_expected_average_profit``, tolerance 0.1).

Fitting the CDNOW sample itself with this module gives r = 0.2426,
alpha = 4.4136, a = 0.7929, b = 2.4257 (log-likelihood -9582.43; the paper
reports -9582.4) and p = 6.2485, q = 3.7447, v = 15.449 (log-likelihood
-4055.92); the data set is not shipped with the module.
"""

from datetime import date, datetime, time, timedelta
from unittest.mock import patch

import numpy as np
from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tests.common import TransactionCase

from odoo.addons.customer_tier.models import customer_tier_predict as predict
from odoo.addons.customer_tier.models.customer_tier_prediction import (
    PREDICTED_FIGURES,
    PredictionFeature,
)

from .common import CustomerTierCase
from .prediction_data import simulate_bgnbd, simulate_gamma_gamma

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
LIFETIMES_MLE = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
GG_PAPER = {"p": 6.25, "q": 3.74, "v": 15.44}
# Parameters in days used by the behaviour tests.
DAILY = {"r": 0.8, "alpha": 60.0, "a": 0.9, "b": 3.0}
# Order amounts of a customer vary around its mean (Gamma-Gamma needs it).
FACTORS = (1.0, 1.2, 0.8)


def heavy_tailed_values(seed, count, sigma=1.5):
    """Repeat purchases (1 to 5) and mean order values of ``count``
    customers: log-normal around 40 with a heavy tail (``sigma`` 1.5: the
    largest are in the thousands). Deterministic (numpy ``RandomState``)."""
    rng = np.random.RandomState(seed)
    x = rng.randint(1, 6, count)
    return x, 40 * np.exp(sigma * rng.standard_normal(count))


def regular_buyers(seed, count):
    """``x``, ``t_x``, ``T`` (days) of customers who each buy every 20 to 59
    days from their first order up to the evaluation date: nobody drops out.
    Deterministic (numpy ``RandomState``)."""
    rng = np.random.RandomState(seed)
    T = rng.randint(300, 700, count)
    gap = rng.randint(20, 60, count)
    x = (T - 1) // gap
    return x, x * gap, T, gap


@tagged("post_install", "-at_install")
class TestPredictionMath(TransactionCase):
    """The models themselves (no database access)."""

    def test_bgnbd_fit_recovers_simulated_parameters(self):
        rng = np.random.default_rng(20240630)
        n = 4000
        T = rng.integers(180, 1081, n).astype(float)
        sim = simulate_bgnbd(DAILY, T, rng, horizon=365)
        fit = predict.fit_bgnbd(sim["x"], sim["t_x"], T)
        self.assertTrue(fit.ok, fit.message)
        self.assertEqual(fit.customers, n)
        for key, tolerance in (("r", 0.15), ("alpha", 0.15), ("a", 0.3), ("b", 0.3)):
            with self.subTest(param=key):
                self.assertAlmostEqual(
                    fit.params[key] / DAILY[key], 1.0, delta=tolerance
                )
        # maximum likelihood: at least as likely as the true parameters
        true_ll = predict.bgnbd_log_likelihood(DAILY, sim["x"], sim["t_x"], T).sum()
        self.assertGreaterEqual(fit.log_likelihood, true_ll - 1e-6)
        # calibration: share still active and purchases of the next year
        alive = predict.probability_alive(fit.params, sim["x"], sim["t_x"], T)
        self.assertAlmostEqual(alive.mean(), sim["alive"].mean(), delta=0.03)
        expected = predict.expected_purchases(
            fit.params, 365, sim["x"], sim["t_x"], T
        ).sum()
        self.assertAlmostEqual(expected / sim["x_holdout"].sum(), 1.0, delta=0.05)

    def test_gamma_gamma_fit_recovers_simulated_parameters(self):
        rng = np.random.default_rng(11)
        true = {"p": 6.0, "q": 4.0, "v": 150.0}
        x = rng.integers(0, 12, 4000)
        m = simulate_gamma_gamma(true, x, rng)
        fit = predict.fit_gamma_gamma(x, m)
        self.assertTrue(fit.ok, fit.message)
        self.assertEqual(fit.customers, int((x > 0).sum()))
        for key, value in true.items():
            with self.subTest(param=key):
                self.assertAlmostEqual(fit.params[key] / value, 1.0, delta=0.2)

    def test_published_cdnow_figures(self):
        self.assertAlmostEqual(
            float(predict.expected_purchases(PAPER, 39, 2, 30.43, 38.86)),
            1.226,
            delta=0.001,
        )
        times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
        np.testing.assert_allclose(
            predict.expected_purchases_population(LIFETIMES_MLE, times),
            [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576],
            atol=1e-3,
        )
        alive = predict.probability_alive(PAPER, np.arange(5, 21), 30.0, 39.0)
        self.assertTrue(np.all(np.diff(alive) < 0))
        self.assertEqual(float(predict.probability_alive(PAPER, 0, 0, 38.86)), 1.0)
        np.testing.assert_allclose(
            predict.expected_average_value(
                GG_PAPER, [2, 1, 0, 7, 2], [22.35, 11.77, 0.0, 73.74, 25.55]
            ),
            [24.65, 18.91, 35.17, 71.46, 27.28],
            atol=0.1,
        )

    def test_expected_purchases_matches_direct_formula(self):
        """Euler's transformation gives the paper's formula (eq. 10)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = (DAILY[k] for k in ("r", "alpha", "a", "b"))
        for x, t_x, T in ((0, 0, 30), (3, 200, 400), (40, 700, 720), (1, 5, 900)):
            t = 365.0
            direct = (
                (a + b + x - 1)
                / (a - 1)
                * (
                    1
                    - ((alpha + T) / (alpha + T + t)) ** (r + x)
                    * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
                )
                / (
                    1
                    + (x > 0)
                    * a
                    / (b + x - 1 if x else 1)
                    * ((alpha + T) / (alpha + t_x)) ** (r + x)
                )
            )
            with self.subTest(x=x):
                self.assertAlmostEqual(
                    float(predict.expected_purchases(DAILY, t, x, t_x, T)),
                    direct,
                    places=8,
                )

    def test_prob_alive_falls_with_silence_for_frequent_buyer_only(self):
        silences = np.array([0, 30, 60, 120, 210, 365])
        # 20 repeat purchases in 600 days, then silence
        frequent = predict.probability_alive(DAILY, 20, 600, 600 + silences)
        # 2 repeat purchases in 600 days, then the same silence
        rare = predict.probability_alive(DAILY, 2, 600, 600 + silences)
        self.assertTrue(np.all(np.diff(frequent) < 0))
        self.assertGreater(frequent[0], 0.9)
        self.assertLess(frequent[4], 0.1)  # seven months of silence
        self.assertGreater(rare[4], 0.6)
        self.assertGreater(rare.min(), 0.5)
        self.assertLess(frequent[-1], rare[-1])

    def test_gamma_gamma_at_a_bound_is_unreliable(self):
        """Heavy-tailed spend: the likelihood keeps growing as q falls to 1,
        i.e. as the population mean value grows to infinity. Such a fit used
        to be "ok" (q - 1 = 1e-5: 2.7 million per order for every customer
        without a repeat purchase, on a median of 41); it is refused."""
        x, m = heavy_tailed_values(1, 400)
        self.assertAlmostEqual(float(np.median(m)), 40.59, places=2)
        fit = predict.fit_gamma_gamma(x, m)
        self.assertEqual(fit.status, predict.STATUS_UNRELIABLE)
        self.assertFalse(fit.ok)
        self.assertIsNone(fit.params)
        self.assertIn("bound", fit.message)
        self.assertEqual(fit.extra["bound"], ["q"])
        rejected = fit.extra["rejected"]
        self.assertLess(rejected["q"] - 1.0, 1e-3)
        self.assertGreater(fit.extra["mean_value"], 1e6)
        # the bound q = 1 is as likely as the estimate: the data do not
        # determine the mean value
        at_bound = dict(rejected, q=1.0 + 1e-9)
        self.assertLess(
            predict.gamma_gamma_log_likelihood(rejected, x, m).sum()
            - predict.gamma_gamma_log_likelihood(at_bound, x, m).sum(),
            predict.BOUND_LOG_LIKELIHOOD,
        )

    def test_gamma_gamma_implausible_mean_value_is_unreliable(self):
        """An interior estimate whose population mean value is more than four
        times the sample mean of the values it was fitted on."""
        x, m = heavy_tailed_values(2, 2000)
        fit = predict.fit_gamma_gamma(x, m)
        self.assertEqual(fit.status, predict.STATUS_UNRELIABLE)
        self.assertIsNone(fit.params)
        self.assertNotIn("bound", fit.extra)
        self.assertIn("implausible mean value", fit.message)
        self.assertAlmostEqual(fit.extra["sample_mean"], float(np.mean(m)))
        self.assertGreater(
            fit.extra["mean_value"],
            predict.MEAN_VALUE_FACTOR * fit.extra["sample_mean"],
        )

    def test_moderate_spread_still_fits(self):
        """The rules refuse what the data do not determine, not spread as
        such: a log-normal spend with sigma 1 fits, its mean value close to
        the sample mean."""
        x, m = heavy_tailed_values(0, 400, sigma=1.0)
        fit = predict.fit_gamma_gamma(x, m)
        self.assertTrue(fit.ok, fit.message)
        ratio = fit.extra["mean_value"] / fit.extra["sample_mean"]
        self.assertTrue(0.8 < ratio < 1.5, ratio)

    def test_bgnbd_at_a_bound_is_unreliable(self):
        """Nobody ever drops out: the dropout probability runs off to 0 (a
        used to be fitted at 4e-5 and called "ok"); the fit is refused."""
        x, t_x, T, _gap = regular_buyers(3, 40)
        fit = predict.fit_bgnbd(x, t_x, T)
        self.assertEqual(fit.status, predict.STATUS_UNRELIABLE)
        self.assertIsNone(fit.params)
        self.assertIn("a", fit.extra["bound"])
        self.assertLess(fit.extra["rejected"]["a"], 1e-3)

    def test_no_fit_degrades_cleanly(self):
        few = predict.fit_bgnbd([0, 0, 3, 1], [0, 0, 50, 20], [90, 80, 70, 60])
        self.assertEqual(few.status, predict.STATUS_INSUFFICIENT)
        self.assertIsNone(few.params)
        self.assertEqual(few.repeaters, 2)
        self.assertFalse(predict.fit_bgnbd([0] * 50, [0] * 50, [100] * 50).ok)
        empty = predict.fit_bgnbd([], [], [])
        self.assertEqual(empty.status, predict.STATUS_INSUFFICIENT)
        bad = predict.fit_bgnbd([1, np.nan], [1, 1], [2, 2], min_repeaters=1)
        self.assertEqual(bad.status, predict.STATUS_FAILED)
        self.assertIsNone(bad.params)
        later = predict.fit_bgnbd([1] * 12, [30] * 12, [20] * 12)
        self.assertEqual(later.status, predict.STATUS_FAILED)
        gg = predict.fit_gamma_gamma([1, 2, 0], [10.0, 20.0, 0.0])
        self.assertEqual(gg.status, predict.STATUS_INSUFFICIENT)
        self.assertEqual(gg.customers, 2)
        flat = predict.fit_gamma_gamma([1] * 20, [5.0] * 20)
        self.assertEqual(flat.status, predict.STATUS_FAILED)


@tagged("post_install", "-at_install")
class TestPredictionEngine(CustomerTierCase):
    """Fit and figures through the engine, churn flag, ranking option."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        end = cls.eval_date
        start = date(2022, 7, 15)
        cls.steady = []
        for i in range(6):  # monthly, up to last month
            partner = cls._customer(f"Steady {i}", user_id=cls.user_own.id)
            cls._bulk_orders(partner, cls._dates(start, end, months=1), 1000 + 10 * i)
            cls.steady.append(partner)
        cls.lapsed = []
        for i in range(3):  # monthly, then silent for seven months
            partner = cls._customer(f"Lapsed {i}")
            dates = cls._dates(start, date(2023, 11, 30), months=1)
            cls._bulk_orders(partner, dates, 3000 + 10 * i)
            cls.lapsed.append(partner)
        cls.churned = []
        for i in range(8):  # monthly for half a year, long gone
            partner = cls._customer(f"Churned {i}")
            dates = cls._dates(start, date(2022, 12, 31), months=1)
            cls._bulk_orders(partner, dates, 2000 + 10 * i)
            cls.churned.append(partner)
        cls.rare = []
        for i in range(4):  # three orders in two years
            partner = cls._customer(f"Rare {i}")
            dates = [date(2022, 9, 10), date(2023, 6, 10), date(2024, 1, 10)]
            cls._bulk_orders(partner, dates, 800 + 10 * i)
            cls.rare.append(partner)
        cls.one_time = []
        for i in range(4):
            partner = cls._customer(f"Once {i}")
            cls._bulk_orders(partner, [date(2023, 10, 1)], 600)
            cls.one_time.append(partner)
        # two orders of one customer on one day are one purchase
        cls._bulk_orders(cls.one_time[0], [date(2023, 10, 1)], 300)

    @classmethod
    def _dates(cls, start, end, months):
        dates = []
        day = start
        while day <= end:
            dates.append(day)
            day += relativedelta(months=months)
        return dates

    @classmethod
    def _bulk_orders(cls, partner, dates, amount, company=None):
        """Confirmed orders created in one go (no per-order refresh), of
        ``amount`` times 1, 1.2, 0.8, 1, 1.2 ... (the mean stays ``amount``
        over whole cycles)."""
        company = company or cls.company
        cls.env["sale.order"].with_company(company).create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "pricelist_id": cls.pricelists[(company.currency_id, company)].id,
                    "date_order": datetime.combine(day, time(12, 0)),
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": amount * FACTORS[k % 3],
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
                for k, day in enumerate(dates)
            ]
        )

    def _profiles(self, partners):
        return [self._profile(p) for p in partners]

    def test_fit_and_figures(self):
        self._run()
        program = self.program
        self.assertEqual(program.predict_status, "ok")
        self.assertEqual(program.predict_gg_status, "ok")
        self.assertEqual(program.predict_fit_date, self.eval_date)
        self.assertEqual(program.predict_fit_id.customers, 25)
        self.assertEqual(program.predict_fit_id.repeaters, 21)
        self.assertGreater(program.predict_fit_id.bgnbd_alpha, 0)
        self.assertIn("25", program.predict_status_text)
        steady = self._profiles(self.steady)
        lapsed = self._profiles(self.lapsed)
        rare = self._profiles(self.rare)
        once = self._profiles(self.one_time)
        for profile in steady:
            self.assertGreater(profile.prob_alive, 0.9)
            self.assertGreater(profile.expected_orders_12m, 6)
            self.assertGreater(profile.expected_value_12m, 6000)
            self.assertEqual(profile.repeat_order_days, 23)
            self.assertFalse(profile.prediction_weak)
        for profile in lapsed:
            self.assertLess(profile.prob_alive, 0.3)
            self.assertEqual(profile.repeat_order_days, 16)
        for profile in self._profiles(self.churned):
            self.assertLess(profile.prob_alive, 0.05)
            self.assertLess(profile.expected_orders_12m, 0.1)
        for profile in rare:
            self.assertGreater(profile.prob_alive, lapsed[0].prob_alive)
            self.assertGreater(profile.prob_alive, 0.5)
        for profile in once:
            self.assertEqual(profile.repeat_order_days, 0)
            self.assertEqual(profile.prob_alive, 1.0)  # BG/NBD: no repeat, no dropout
            self.assertTrue(profile.prediction_weak)
            self.assertGreater(profile.expected_value_12m, 0)
        # a lapsed big buyer is worth less next year than a steady one
        self.assertLess(lapsed[0].expected_value_12m, steady[0].expected_value_12m)
        # figures agree with the math module on the stored parameters
        params = {
            k: program.predict_fit_id[f"bgnbd_{k}"] for k in ("r", "alpha", "a", "b")
        }
        first = steady[0].first_order_date
        last = steady[0].last_order_date
        x, t_x, T = 23, (last - first).days, (self.eval_date - first).days
        self.assertAlmostEqual(
            steady[0].prob_alive,
            float(predict.probability_alive(params, x, t_x, T)),
            places=4,
        )
        self.assertAlmostEqual(
            steady[0].expected_orders_12m,
            float(predict.expected_purchases(params, 365, x, t_x, T)),
            places=2,
        )

    def test_churn_flag_for_watched_tiers(self):
        self.assertTrue(self.tier_a.watch_churn and self.tier_b.watch_churn)
        self.assertFalse(self.tier_c.watch_churn or self.tier_d.watch_churn)
        self._run()
        lapsed = self._profiles(self.lapsed)
        for profile in lapsed:
            # about 15,000 in the window, last order 7 months old: tier B
            self.assertEqual(profile.tier_id, self.tier_b)
            self.assertTrue(profile.churn_risk)
        others = self.steady + self.churned + self.rare + self.one_time
        for profile in self._profiles(others):
            self.assertFalse(profile.churn_risk)
        Profile = self.env["customer.tier.profile"]
        self.assertEqual(
            Profile.search(
                [("churn_risk", "=", True), ("company_id", "=", self.company.id)]
            ),
            Profile.browse([p.id for p in lapsed]),
        )
        # no longer watched: flag cleared at once; bound change re-evaluates
        self.tier_b.watch_churn = False
        self.assertFalse(any(p.churn_risk for p in lapsed))
        self.tier_b.watch_churn = True
        self.assertTrue(all(p.churn_risk for p in lapsed))
        self.program.churn_alive_bound = 0.0
        self.assertFalse(any(p.churn_risk for p in lapsed))
        self.program.churn_alive_bound = 0.3
        self.assertTrue(all(p.churn_risk for p in lapsed))
        # a manual move to a tier that is not watched clears it too
        manager_env = self._env_as(self.user_manager)
        manager_env["customer.tier.profile"].browse(lapsed[0].id).write(
            {"manual_tier_id": self.tier_c.id, "manual_reason": "Test"}
        )
        self.assertFalse(lapsed[0].churn_risk)

    def test_incremental_refresh_reuses_fit(self):
        self._run()
        program = self.program
        params = {
            k: program.predict_fit_id[f"bgnbd_{k}"] for k in ("r", "alpha", "a", "b")
        }
        profile = self._profile(self.lapsed[0])
        self.assertTrue(profile.churn_risk)
        before = profile.prob_alive
        # the lapsed buyer orders again
        self._bulk_orders(self.lapsed[0], [self.eval_date], 5000)
        program._engine().refresh_partners([self.lapsed[0].id], self.eval_date)
        profile.invalidate_recordset()
        self.assertEqual(profile.repeat_order_days, 17)
        self.assertGreater(profile.prob_alive, 0.9)
        self.assertGreater(profile.prob_alive, before)
        self.assertFalse(profile.churn_risk)
        program.invalidate_recordset()
        self.assertEqual(
            params,
            {k: program.predict_fit_id[f"bgnbd_{k}"] for k in ("r", "alpha", "a", "b")},
        )
        self.assertEqual(program.predict_fit_date, self.eval_date)

    def test_batched_run_equals_one_run(self):
        """The scheduled recompute in batches fits once (its first call) and
        gives every profile the predictions of one unbatched run; ranking by
        predicted value too."""
        columns = (
            "prob_alive",
            "expected_orders_12m",
            "expected_value_12m",
            "repeat_order_days",
            "churn_risk",
            "tier_id",
            "pareto_rank",
        )
        Profile = self.env["customer.tier.profile"]
        domain = [("program_id", "=", self.program.id)]
        for basis in ("revenue", "predicted"):
            with self.subTest(value_basis=basis):
                self.program.value_basis = basis
                with self.env.cr.savepoint(flush=True) as start:
                    self._run()
                    expected = {
                        p.partner_id.id: tuple(p[c] for c in columns)
                        for p in Profile.search(domain)
                    }
                    start.rollback()
                self.env.invalidate_all()
                with self.env.cr.savepoint(flush=True) as start:
                    program_cls = type(self.program)
                    with patch.object(
                        program_cls,
                        "_prediction_fit",
                        autospec=True,
                        side_effect=program_cls._prediction_fit,
                    ) as fit:
                        for _call in range(20):
                            result = self.program._engine().run(
                                eval_date=self.eval_date, batch_size=7
                            )
                            if not result["remaining"]:
                                break
                    self.env.invalidate_all()
                    got = {
                        p.partner_id.id: tuple(p[c] for c in columns)
                        for p in Profile.search(domain)
                    }
                    self.assertEqual(fit.call_count, 1)
                    self.assertEqual(got, expected)
                    start.rollback()
                self.env.invalidate_all()

    def test_too_few_repeat_customers(self):
        program = self.program_b
        one = self._customer("B Repeat")
        self._bulk_orders(
            one, [date(2024, 1, 5), date(2024, 3, 5)], 900, company=self.company_b
        )
        two = self._customer("B Once")
        self._bulk_orders(two, [date(2024, 2, 5)], 700, company=self.company_b)
        program.value_basis = "predicted"
        self._run(company=self.company_b)
        self.assertEqual(program.predict_status, "insufficient")
        self.assertEqual(program.predict_fit_id.repeaters, 1)
        self.assertEqual(program.predict_fit_id.customers, 2)
        self.assertIn("10", program.predict_status_text)
        self.assertIn("past revenue", program.predict_status_text)
        for partner in (one, two):
            profile = self._profile(partner, company=self.company_b)
            self.assertTrue(profile.tier_id)
            self.assertFalse(profile.prob_alive)
            self.assertFalse(profile.expected_orders_12m)
            self.assertFalse(profile.expected_value_12m)
            self.assertFalse(profile.churn_risk)
            # ranked by past revenue while there is no fit
            self.assertEqual(
                profile.pareto_rank, 1 if partner == one else 2, partner.name
            )
        self.assertEqual(
            self._profile(one, company=self.company_b).repeat_order_days, 1
        )
        # the other company fits on its own customers
        self._run()
        self.assertEqual(self.program.predict_status, "ok")
        self.assertEqual(program.predict_status, "insufficient")
        # an incremental refresh without a fit leaves the figures empty
        self._bulk_orders(two, [date(2024, 6, 1)], 700, company=self.company_b)
        program._engine().refresh_partners([two.id], self.eval_date)
        profile = self._profile(two, company=self.company_b)
        self.assertFalse(profile.prob_alive)
        self.assertEqual(profile.repeat_order_days, 1)

    def test_rank_by_predicted_value(self):
        program = self.program
        engine = program._engine()
        rows, _changes = engine.plan(self.eval_date)
        self.assertEqual(engine.value_key, "revenue_window")
        self.assertEqual(rows[self.lapsed[0].id]["computed_tier_id"], self.tier_b.id)
        program.value_basis = "predicted"
        engine = program._engine()
        rows, _changes = engine.plan(self.eval_date)
        # ranked by the expected value, kept as the value each was ranked by
        self.assertEqual(engine.value_key, "ranking_value")
        customers = [r for r in rows.values() if not r["is_prospect"]]
        for row in customers:
            self.assertEqual(row["ranking_value"], row["expected_value_12m"])
        ranked = sorted(customers, key=lambda r: r["pareto_rank"])
        values = [r["expected_value_12m"] for r in ranked]
        self.assertEqual(values, sorted(values, reverse=True))
        total = sum(values)
        self.assertAlmostEqual(ranked[0]["revenue_share"], values[0] / total)
        self.assertAlmostEqual(ranked[-1]["cumulative_share"], 1.0)
        # thresholds apply to the predicted value: the lapsed buyers (15,600 of
        # past revenue, tier B) fall below B's 2,000
        lapsed = rows[self.lapsed[0].id]
        self.assertLess(lapsed["expected_value_12m"], 2000)
        self.assertEqual(lapsed["computed_tier_id"], self.tier_c.id)

    def test_incremental_ranking_consistent_with_full(self):
        program = self.program
        program.write({"value_basis": "predicted", "method": "pareto"})
        self._run()
        self.assertEqual(program.predict_status, "ok")
        profiles = self._profiles(self.steady + self.lapsed + self.rare)
        full = {p.id: (p.pareto_rank, p.cumulative_share) for p in profiles}
        # refreshing customers alone (no new order) changes nothing
        program._engine().refresh_partners(
            [self.steady[2].id, self.lapsed[1].id, self.rare[0].id],
            eval_date=self.eval_date,
        )
        for profile in profiles:
            profile.invalidate_recordset()
            with self.subTest(customer=profile.partner_id.name):
                self.assertEqual(profile.pareto_rank, full[profile.id][0])
                self.assertAlmostEqual(
                    profile.cumulative_share, full[profile.id][1], places=6
                )

    def test_views_and_access(self):
        self._run()
        profile = self._profile(self.steady[0])
        own_env = self._env_as(self.user_own)
        # the salesperson reads the prediction of an own customer only
        own_profile = own_env["customer.tier.profile"].browse(profile.id)
        self.assertGreater(own_profile.prob_alive, 0.9)
        self.assertTrue(own_profile.predict_status_text)
        self.assertFalse(
            own_env["customer.tier.profile"].search(
                [("partner_id", "=", self.lapsed[0].id)]
            )
        )
        arch = own_env["customer.tier.profile"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        page = etree.fromstring(arch).xpath("//page[@name='prediction']")
        self.assertTrue(page)
        self.assertIn("When not to trust them", etree.tostring(page[0]).decode())
        form = Form(own_profile)
        self.assertEqual(form.repeat_order_days, 23)
        manager_env = self._env_as(self.user_manager)
        with Form(manager_env["customer.tier.program"].browse(self.program.id)) as form:
            form.value_basis = "predicted"
            form.predict_min_repeaters = 5
            form.churn_alive_bound = 0.25
        self.assertEqual(self.program.value_basis, "predicted")
        for view in ("list", "search"):
            self.assertTrue(own_env["customer.tier.profile"].get_views([(False, view)]))
        # the salesperson cannot change the program's prediction settings
        with self.assertRaises(AccessError):
            self.env["customer.tier.program"].with_user(self.user_own).browse(
                self.program.id
            ).write({"churn_alive_bound": 0.5})

    @staticmethod
    def _planned(func):
        """Call ``func`` and return the figures the engine's prediction
        computed meanwhile (partner id -> figures)."""
        seen = {}
        original = PredictionFeature.extend_figures

        def spy(feature, figures, eval_date, full):
            original(feature, figures, eval_date, full)
            seen.update({pid: dict(fig) for pid, fig in figures.items()})

        with patch.object(PredictionFeature, "extend_figures", spy):
            func()
        return seen

    def _assert_read_as_planned(self, planned, partners):
        """The predicted figures read on the profiles of ``partners`` are
        the engine's (exactly: both are rounded as the fields are)."""
        self.env.invalidate_all()
        for partner in partners:
            profile = self._profile(partner)
            for name in PREDICTED_FIGURES:
                with self.subTest(customer=partner.name, figure=name):
                    self.assertIsNotNone(planned[partner.id][name])
                    self.assertEqual(profile[name], planned[partner.id][name])

    def test_read_equals_engine(self):
        """The predicted figures are not stored: read, they are computed at
        the profile's evaluation date from its stored inputs and the
        program's latest fit, and equal what the engine computed for that
        date: after a full evaluation, on the next day's (which writes
        unchanged profiles no more, though every figure moved) and after a
        refresh of one customer."""
        Profile = self.env["customer.tier.profile"]
        for name in PREDICTED_FIGURES:
            self.assertFalse(Profile._fields[name].store, name)
        customers = self.steady + self.lapsed + self.churned + self.rare
        customers += self.one_time
        planned = self._planned(self._run)
        self.assertEqual(self.program.predict_status, "ok")
        self._assert_read_as_planned(planned, customers)
        next_day = self.eval_date + timedelta(days=1)
        profile = self._profile(self.steady[0])
        self.assertEqual(profile.evaluation_date, self.eval_date)
        planned = self._planned(lambda: self._run(next_day))
        self.assertEqual(self.program.predict_fit_date, next_day)
        # (read in the same transaction: the run's date reaches the profiles)
        self.assertEqual(profile.evaluation_date, next_day)
        self.assertEqual(self._profile(self.steady[0]).evaluation_date, next_day)
        self._assert_read_as_planned(planned, customers)
        # a refresh a few days later: the customer at its refresh date with
        # the latest fit, the others as they were
        later = self.eval_date + timedelta(days=5)
        buyer = self.lapsed[0]
        self._bulk_orders(buyer, [later], 5000)
        refreshed = self._planned(
            lambda: self.program._engine().refresh_partners([buyer.id], later)
        )
        self.assertEqual(self._profile(buyer).evaluation_date, later)
        self._assert_read_as_planned(refreshed, [buyer])
        self._assert_read_as_planned(planned, [p for p in customers if p != buyer])
        # no usable fit: empty
        self.env.cr.execute(
            "UPDATE customer_tier_prediction_fit SET status = 'unreliable' "
            "WHERE program_id = %s",
            (self.program.id,),
        )
        self.env.invalidate_all()
        profile = self._profile(self.steady[0])
        self.assertEqual(
            [profile[name] for name in PREDICTED_FIGURES], [False, False, False]
        )

    def test_search_predicted_figures(self):
        """A domain on a predicted figure compares the value read (0 where
        empty), for every operator, as for a stored figure; a salesperson
        limited to own documents finds own customers only; an operator a
        number has not is refused."""
        self._run()
        Profile = self.env["customer.tier.profile"]
        profiles = Profile.search([("company_id", "=", self.company.id)])
        values = {p: {n: p[n] for n in PREDICTED_FIGURES} for p in profiles}
        churned = self._profile(self.churned[0])
        steady = self._profile(self.steady[0])
        self.assertLess(churned.prob_alive, 0.5)
        self.assertGreater(steady.prob_alive, 0.9)
        cases = {
            "=": lambda v, x: v == x,
            "!=": lambda v, x: v != x,
            "<": lambda v, x: v < x,
            "<=": lambda v, x: v <= x,
            ">": lambda v, x: v > x,
            ">=": lambda v, x: v >= x,
        }
        domain = [("company_id", "=", self.company.id)]
        for name in PREDICTED_FIGURES:
            for target in (0, steady[name], churned[name]):
                for operator, holds in cases.items():
                    found = Profile.search([*domain, (name, operator, target)])
                    expected = {p for p, v in values.items() if holds(v[name], target)}
                    self.assertEqual(set(found), expected, (name, operator, target))
            pair = [steady[name], churned[name]]
            self.assertEqual(
                set(Profile.search([*domain, (name, "in", pair)])),
                {p for p, v in values.items() if v[name] in pair},
            )
            self.assertEqual(
                set(Profile.search([*domain, (name, "not in", pair)])),
                {p for p, v in values.items() if v[name] not in pair},
            )
            self.assertEqual(
                set(Profile.search([*domain, (name, "=", False)])),
                {p for p, v in values.items() if not v[name]},
            )
        # a salesperson limited to own documents: own customers only
        own = self._env_as(self.user_own)["customer.tier.profile"]
        mine = {self._profile(p) for p in self.steady}
        self.assertEqual(
            {own.browse(p.id).sudo() for p in own.search([("prob_alive", ">", 0)])},
            {p for p in mine if p.prob_alive > 0},
        )
        with self.assertRaises(UserError):
            Profile.search([("prob_alive", "like", "1")])

    def test_read_query_count(self):
        """Reading the predictions of a page of profiles costs the same
        queries whatever its size."""
        self._run()
        Profile = self.env["customer.tier.profile"]
        domain = [("program_id", "=", self.program.id), ("is_prospect", "=", False)]
        names = ["partner_id", *PREDICTED_FIGURES]
        self.assertGreater(Profile.search_count(domain), 20)
        for limit in (2, 20):
            self.env.invalidate_all()
            self.env.registry.clear_cache()
            Profile.search(domain, limit=1).read(names)
            self.env.invalidate_all()
            # the profiles, the program, its latest fit, the partners' names...
            with self.assertQueryCount(7):
                rows = Profile.search_read(domain, names, limit=limit)
            self.assertEqual(len(rows), limit)
            self.assertTrue(all(row["prob_alive"] for row in rows))

    def test_predictions_across_companies(self):
        """Each profile's predictions come from its own program's fit: a
        salesperson reads those of its customers; the customer's profile in
        a company without a fit reads none, and a user of that company
        reads no fit of the other."""
        self._run()
        both = self.steady[1]
        self._bulk_orders(
            both, [date(2024, 1, 5), date(2024, 3, 5)], 900, company=self.company_b
        )
        self._run(company=self.company_b)
        self.assertEqual(self.program_b.predict_status, "insufficient")
        profile_a = self._profile(both)
        profile_b = self._profile(both, company=self.company_b)
        self.assertGreater(profile_a.prob_alive, 0.9)
        self.assertEqual(profile_b.repeat_order_days, 1)
        self.assertFalse(profile_b.prob_alive)
        self.assertFalse(profile_b.expected_value_12m)
        # the salesperson of the customer reads the same figures
        own = self._env_as(self.user_own)["customer.tier.profile"].browse(
            self._profile(self.steady[0]).id
        )
        expected = self._profile(self.steady[0])
        for name in PREDICTED_FIGURES:
            self.assertEqual(own[name], expected[name])
            self.assertTrue(own[name])
        # company B's user: its profile without figures, no fit of company A
        env_b = self._env_as(self.user_b)
        self.assertFalse(env_b["customer.tier.profile"].browse(profile_b.id).prob_alive)
        Fit = env_b["customer.tier.prediction.fit"]
        self.assertFalse(Fit.search([("program_id", "=", self.program.id)]))
        with self.assertRaises(AccessError):
            Fit.browse(self.program.predict_fit_id.id).read(["bgnbd_r"])
        with self.assertRaises(AccessError):
            env_b["customer.tier.profile"].browse(profile_a.id).read(["prob_alive"])

    def test_export_of_predictions_follows_the_record_rules(self):
        """An export (which reads the figures of the ids it is given) of the
        predicted figures gives nothing of a profile the user does not read:
        another salesperson's customer for a salesperson limited to own
        documents, another company's for a user of company B."""
        self._run()
        export = self.env.ref("base.group_allow_export")
        export.users |= self.user_own | self.user_b
        theirs = self._profile(self.lapsed[0])
        self.assertTrue(theirs.expected_value_12m)
        for user in (self.user_own, self.user_b):
            Profile = self._env_as(user)["customer.tier.profile"]
            for name in PREDICTED_FIGURES:
                # (a request of its own: nothing read before in its cache)
                self.env.invalidate_all()
                with self.assertRaises(AccessError, msg=(user.login, name)):
                    Profile.browse(theirs.id).export_data([name])
        # his own customer's: as read
        mine = self._profile(self.steady[0])
        Own = self._env_as(self.user_own)["customer.tier.profile"]
        rows = Own.browse(mine.id).export_data(list(PREDICTED_FIGURES))["datas"]
        self.assertEqual(rows, [[mine[name] for name in PREDICTED_FIGURES]])

    def test_warm_start_from_the_latest_fit(self):
        """A full evaluation's fit starts the optimiser from the parameters of
        the program's latest fit: the next day's fit lands where a cold
        start does, to the likelihood's precision."""
        self._run()
        first = self.program.predict_fit_id
        starts = []
        original_bg, original_gg = predict.fit_bgnbd, predict.fit_gamma_gamma

        def bg_spy(*args, **kwargs):
            starts.append(("bgnbd", kwargs.get("start")))
            return original_bg(*args, **kwargs)

        def gg_spy(*args, **kwargs):
            starts.append(("gg", kwargs.get("start")))
            return original_gg(*args, **kwargs)

        next_day = self.eval_date + timedelta(days=1)
        with (
            patch.object(predict, "fit_bgnbd", bg_spy),
            patch.object(predict, "fit_gamma_gamma", gg_spy),
        ):
            planned = self._planned(lambda: self._run(next_day))
        self.assertEqual(
            starts,
            [
                ("bgnbd", {k: first[f"bgnbd_{k}"] for k in ("r", "alpha", "a", "b")}),
                ("gg", {k: first[f"gg_{k}"] for k in ("p", "q", "v")}),
            ],
        )
        warm = self.program.predict_fit_id
        self.assertEqual(warm.fit_date, next_day)
        self.assertEqual(warm.status, "ok")
        # the same data fitted from the default start
        pids = [
            pid for pid, fig in planned.items() if fig["repeat_order_days"] is not None
        ]
        x = np.array([planned[p]["repeat_order_days"] for p in pids], dtype=float)
        first_day = np.array(
            [(next_day - planned[p]["first_order_date"]).days for p in pids], float
        )
        t_x = np.array(
            [
                (planned[p]["last_order_date"] - planned[p]["first_order_date"]).days
                for p in pids
            ],
            dtype=float,
        )
        cold = predict.fit_bgnbd(x, t_x, first_day)
        warm_params = {k: warm[f"bgnbd_{k}"] for k in ("r", "alpha", "a", "b")}
        warm_ll = float(
            np.sum(predict.bgnbd_log_likelihood(warm_params, x, t_x, first_day))
        )
        self.assertAlmostEqual(warm_ll, cold.log_likelihood, delta=0.01)
        cold_alive = predict.probability_alive(cold.params, x, t_x, first_day)
        warm_alive = predict.probability_alive(warm_params, x, t_x, first_day)
        self.assertLess(float(np.max(np.abs(cold_alive - warm_alive))), 0.01)

    def test_program_constraints(self):
        with self.assertRaises(ValidationError):
            self.program.churn_alive_bound = 1.5
        with self.assertRaises(ValidationError):
            self.program.predict_min_repeaters = 0

    def test_new_company_watches_template_tiers(self):
        company = self.env["res.company"].create({"name": "Tier Test Co C"})
        program = self._program(company)
        watched = program._customer_tiers().filtered("watch_churn")
        self.assertEqual(watched.mapped("code"), ["A", "B"])
        self.assertEqual(program.predict_status, "none")
        self.assertIn("Not fitted", program.predict_status_text)

    def _heavy_tailed_customers(self, seed=0, count=40):
        """``count`` customers of company B whose purchases follow the BG/NBD
        model (``DAILY``) and whose order values are log-normal around 40
        with a heavy tail (sigma 1.5). Returns {partner: repeat purchases}."""
        rng = np.random.RandomState(seed)
        T = rng.randint(200, 700, count)
        sim = simulate_bgnbd(DAILY, T.astype(float), rng)
        amounts = np.round(40 * np.exp(1.5 * rng.standard_normal(count)), 2)
        customers = {}
        for i in range(count):
            x = int(sim["x"][i])
            t_x = max(int(sim["t_x"][i]), x)
            first = self.eval_date - timedelta(days=int(T[i]))
            dates = [first + timedelta(days=k * t_x // max(x, 1)) for k in range(x + 1)]
            partner = self._customer(f"Heavy {i}")
            self._bulk_orders(partner, dates, float(amounts[i]), company=self.company_b)
            customers[partner] = x
        return customers

    def test_heavy_tailed_order_values_not_trusted(self):
        """The Gamma-Gamma fit of a heavy-tailed spend ends at q = 1 (it used
        to be "ok" and give every customer without a repeat purchase an order
        value of millions): the program says it is not reliable, stores no
        parameters, and the expected value uses each customer's own mean
        order value, as without a Gamma-Gamma fit."""
        program = self.program_b
        customers = self._heavy_tailed_customers()
        self._run(company=self.company_b)
        self.assertEqual(program.predict_status, "ok")
        self.assertEqual(program.predict_gg_status, "unreliable")
        fit = program.predict_fit_id
        self.assertEqual(fit.gg_customers, 30)
        self.assertEqual((fit.gg_p, fit.gg_q, fit.gg_v), (0.0, 0.0, 0.0))
        self.assertIn("not reliable", program.predict_status_text)
        self.assertIn("own mean order value", program.predict_status_text)
        once = 0
        for partner, repeats in customers.items():
            profile = self._profile(partner, company=self.company_b)
            self.assertEqual(profile.repeat_order_days, repeats)
            own_mean = profile.revenue_total / (repeats + 1)
            with self.subTest(customer=partner.name):
                # (expected orders are rounded to 0.01, values to 0.01)
                self.assertAlmostEqual(
                    profile.expected_value_12m,
                    profile.expected_orders_12m * own_mean,
                    delta=0.006 * own_mean + 0.01,
                )
            once += bool(not repeats and profile.expected_orders_12m)
        self.assertTrue(once)

    def test_purchase_model_at_a_bound_shows_no_figures(self):
        """Customers who all keep buying: the BG/NBD dropout probability runs
        off to 0 (the fit used to be "ok"): no probability, orders, value or
        churn flag on the profiles, ranking by past revenue, and the program
        says why."""
        program = self.program_b
        program.value_basis = "predicted"
        x, _t_x, T, gap = regular_buyers(0, 12)
        partners = []
        for i in range(12):
            first = self.eval_date - timedelta(days=int(T[i]))
            dates = [first + timedelta(days=int(k * gap[i])) for k in range(x[i] + 1)]
            partner = self._customer(f"Regular {i}")
            self._bulk_orders(partner, dates, 500.0, company=self.company_b)
            partners.append(partner)
        self._run(company=self.company_b)
        self.assertEqual(program.predict_status, "unreliable")
        self.assertEqual(program.predict_fit_id.bgnbd_a, 0.0)
        text = program.predict_status_text
        self.assertIn("No reliable fit", text)
        self.assertIn("past revenue", text)
        for partner, repeats in zip(partners, x.tolist(), strict=True):
            profile = self._profile(partner, company=self.company_b)
            self.assertEqual(profile.repeat_order_days, repeats)
            self.assertFalse(profile.prob_alive)
            self.assertFalse(profile.expected_orders_12m)
            self.assertFalse(profile.expected_value_12m)
            self.assertFalse(profile.churn_risk)
        engine = program._engine()
        engine.plan(self.eval_date)
        self.assertEqual(engine.value_key, "revenue_window")

    def test_prediction_weak_for_short_history(self):
        partner = self._customer("New Ltd")
        self._bulk_orders(
            partner,
            [self.eval_date - timedelta(days=60), self.eval_date - timedelta(days=30)],
            900,
        )
        self._run()
        profile = self._profile(partner)
        self.assertEqual(profile.repeat_order_days, 1)
        self.assertTrue(profile.prediction_weak)
        self.assertTrue(profile.prob_alive)
        # a filter on the flag finds what reading it gives
        Profile = self.env["customer.tier.profile"]
        domain = [("company_id", "=", self.company.id)]
        profiles = Profile.search(domain)
        weak = profiles.filtered("prediction_weak")
        self.assertIn(profile, weak)
        self.assertLess(len(weak), len(profiles))
        for operator, value, expected in (
            ("=", True, weak),
            ("!=", False, weak),
            ("=", False, profiles - weak),
            ("!=", True, profiles - weak),
        ):
            self.assertEqual(
                Profile.search([*domain, ("prediction_weak", operator, value)]),
                expected,
                (operator, value),
            )
        with self.assertRaises(UserError):
            Profile.search([("prediction_weak", "in", [True])])
