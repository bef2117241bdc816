"""Issue 18 (5): the prediction models' fits are records of their own, one
per program and evaluation date (a history of the fits), written by the
engine only; the program keeps its latest (``predict_fit_id``) and the
status it shows.

Fixture (company A): ``buyer`` ordered on two days, ``once`` on one day:
too few repeat customers for a fit (the minimum is 10), which still makes a
fit record ("insufficient") as every full evaluation does.
"""

from datetime import date, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged
from odoo.tools import SQL

from .common import CursorStandIn, CustomerTierCase

FIT_INSERT = "INSERT INTO customer_tier_prediction_fit"


class StatementRecorder(CursorStandIn):
    """Stands in for the psycopg2 cursor and records the statements run."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self.statements = []

    def _execute(self, text, query, params):
        self.statements.append(text)
        return self._cursor.execute(query, params)


@tagged("post_install", "-at_install")
class TestPredictionFits(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = cls._customer("Fit Repeat Buyer", user_id=cls.user_own.id)
        cls._order(cls.buyer, 1000.0, date(2024, 1, 10))
        cls._order(cls.buyer, 1200.0, date(2024, 3, 10))
        cls.once = cls._customer("Fit One-Time Buyer")
        cls._order(cls.once, 800.0, date(2024, 2, 10))

    def _fits(self, program=None):
        return self.env["customer.tier.prediction.fit"].search(
            [("program_id", "=", (program or self.program).id)]
        )

    def test_a_fit_per_program_and_date(self):
        program = self.program
        self.assertFalse(self._fits())
        self.assertFalse(program.predict_fit_id)
        self.assertEqual(program.predict_status, "none")
        self.assertEqual(program.predict_gg_status, "none")
        self.assertFalse(program.predict_fit_date)
        self._run()
        fit = self._fits()
        self.assertEqual(len(fit), 1)
        self.assertEqual(fit.program_id, program)
        self.assertEqual(fit.company_id, self.company)
        self.assertEqual(fit.fit_date, self.eval_date)
        self.assertEqual((fit.status, fit.gg_status), ("insufficient", "insufficient"))
        self.assertEqual((fit.customers, fit.repeaters, fit.gg_customers), (2, 1, 1))
        self.assertIn("10 needed", fit.message)
        self.assertIn("10 needed", fit.gg_message)
        self.assertEqual(fit.bgnbd_alpha, 0.0)
        self.assertEqual(program.predict_fit_id, fit)
        self.assertEqual(program.predict_fit_ids, fit)
        self.assertEqual(program.predict_fit_date, self.eval_date)
        self.assertEqual(program.predict_status, "insufficient")
        self.assertIn(
            "1 customers ordered on more than one day", program.predict_status_text
        )
        # the same day again, on other data: that day's fit, updated
        again = self._customer("Fit Second Repeat Buyer")
        self._order(again, 500.0, date(2024, 4, 1))
        self._order(again, 700.0, date(2024, 5, 1))
        self._run()
        self.assertEqual(self._fits(), fit)
        self.assertEqual((fit.customers, fit.repeaters, fit.gg_customers), (3, 2, 2))
        self.assertIn(
            "2 customers ordered on more than one day", program.predict_status_text
        )
        # a later date: a second fit, now the program's
        later = self.eval_date + timedelta(days=1)
        self._run(later)
        fits = self._fits()
        self.assertEqual(fits.mapped("fit_date"), [later, self.eval_date])
        self.assertEqual(program.predict_fit_ids, fits)
        self.assertEqual(program.predict_fit_id, fits[0])
        self.assertEqual(program.predict_fit_date, later)
        # evaluating an earlier date again keeps the latest fit the program's
        self._run()
        self.assertEqual(self._fits(), fits)
        self.assertEqual(program.predict_fit_id, fits[0])
        # the other company's program has its own fits
        self.assertFalse(self._fits(self.program_b))
        self._run(company=self.company_b)
        fit_b = self._fits(self.program_b)
        self.assertEqual((fit_b.customers, fit_b.company_id), (0, self.company_b))
        self.assertEqual(self.program_b.predict_fit_id, fit_b)

    def test_unchanged_fit_not_written(self):
        """A full evaluation whose fit equals the stored one of the day
        writes nothing (no lock on the fit's row); one that differs writes
        it in one upsert."""
        self._run()
        fit = self._fits()
        real = self.env.cr
        recorder = StatementRecorder(real._obj)
        self.patch(real, "_obj", recorder)
        self._run()
        self.assertTrue(recorder.statements)
        self.assertFalse([s for s in recorder.statements if FIT_INSERT in s])
        # a fit of the day written meanwhile (another run, stored in SQL) is
        # updated, not duplicated
        self.env.cr.execute(
            SQL(
                "UPDATE customer_tier_prediction_fit SET customers = 99 WHERE id = %s",
                fit.id,
            )
        )
        fit.invalidate_recordset()
        recorder.statements.clear()
        self._run()
        upserts = [s for s in recorder.statements if FIT_INSERT in s]
        self.assertEqual(len(upserts), 1, upserts)
        self.assertEqual(self._fits(), fit)
        self.assertEqual(fit.customers, 2)

    def test_users_read_fits_of_their_companies_only(self):
        self._run()
        self._run(company=self.company_b)
        fit = self._fits()
        fit_b = self._fits(self.program_b)
        both = fit | fit_b
        for user, seen in (
            (self.user_own, fit),
            (self.user_all, fit),
            (self.user_manager, fit),
            (self.user_b, fit_b),
        ):
            with self.subTest(user=user.login):
                env = self._env_as(user)
                Fit = env["customer.tier.prediction.fit"]
                self.assertEqual(
                    Fit.search([("id", "in", both.ids)]), seen.with_env(env)
                )
                mine = seen.with_env(env)
                self.assertEqual(mine.status, "insufficient")
                program = env["customer.tier.program"].browse(seen.program_id.id)
                self.assertEqual(program.predict_fit_id, mine)
                self.assertTrue(program.predict_status_text)
                other = (both - seen).with_env(env)
                with self.assertRaises(AccessError):
                    other.read(["status"])
                # written by the engine only
                with self.assertRaises(AccessError):
                    Fit.create(
                        {
                            "program_id": program.id,
                            "fit_date": date(2024, 7, 1),
                            "status": "ok",
                        }
                    )
                with self.assertRaises(AccessError):
                    mine.write({"bgnbd_r": 1.0})
                with self.assertRaises(AccessError):
                    mine.unlink()
        # nor through the program, whose fits its managers cannot write
        manager_program = self.program.with_env(self._env_as(self.user_manager))
        with self.assertRaises(AccessError):
            manager_program.write(
                {
                    "predict_fit_ids": [
                        Command.create({"fit_date": date(2024, 7, 1), "status": "ok"})
                    ]
                }
            )
        with self.assertRaises(AccessError):
            manager_program.write({"predict_fit_ids": [Command.unlink(fit.id)]})
        # the salesperson reads the status on an own customer's profile
        own_env = self._env_as(self.user_own)
        profile = own_env["customer.tier.profile"].browse(self._profile(self.buyer).id)
        self.assertIn("No fit", profile.predict_status_text)

    def test_views(self):
        """The fits' list and form, and the program's Prediction tab that
        lists them (the program form as a manager, a fit as a salesperson)."""
        self._run()
        self._run(self.eval_date + timedelta(days=1))
        fits = self._fits()
        own_env = self._env_as(self.user_own)
        Fit = own_env["customer.tier.prediction.fit"]
        views = Fit.get_views([(False, "list"), (False, "form")])["views"]
        self.assertIn('name="bgnbd_alpha"', views["list"]["arch"])
        self.assertIn('name="gg_message"', views["form"]["arch"])
        form = Form(fits[1].with_env(own_env))
        self.assertEqual(form.fit_date, fields.Date.to_string(self.eval_date))
        self.assertEqual(form.status, "insufficient")
        self.assertEqual(form.customers, 2)
        self.assertEqual(form.program_id, self.program)
        name = fits[1].with_env(own_env).display_name
        self.assertTrue(name.startswith(self.program.display_name), name)
        self.assertTrue(name.endswith("2024"), name)
        manager_env = self._env_as(self.user_manager)
        program = manager_env["customer.tier.program"].browse(self.program.id)
        arch = program.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="predict_fit_ids"', arch)
        with Form(program) as form:
            self.assertEqual(form.predict_status, "insufficient")
            self.assertEqual(
                form.predict_fit_date,
                fields.Date.to_string(self.eval_date + timedelta(days=1)),
            )
            self.assertEqual(len(form.predict_fit_ids), 2)
