"""Migration to 18.0.1.1.0 (partner chatter): the notes
former versions logged on partners (tier changes with cause and override
reason, pricelists, plans, done reorder checks with the customer's figures)
leave the partner for the tier profile, whose record rules apply.

Fixture (company A unless said otherwise): ``solo`` (one profile, with a
contact ``solo_contact``), ``both`` (profiles in company A and company B,
their history rows dated 2024-01-10 and 2024-03-10), ``none`` (no profile).
"""

import importlib.util
import os
from datetime import date, datetime

from markupsafe import Markup

from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from odoo.addons.customer_tier.models.customer_tier_followup import (
    KEY_DATE_TYPE,
    REORDER_TYPE,
    last_contact_sql,
)
from odoo.addons.customer_tier.models.customer_tier_migration import (
    PROGRAM_FIT_COLUMNS,
    _migrate_partner_notes,
    _migrate_prediction_inputs,
    _migrate_program_fits,
)
from odoo.addons.mail.models.mail_activity import MailActivity

from .common import CustomerTierCase

A_HISTORY = datetime(2024, 1, 10, 9, 0)
B_HISTORY = datetime(2024, 3, 10, 9, 0)


def load_migration(version, name):
    """The module of the migration script ``name`` (``pre-migrate``,
    ``post-migrate``) of ``version``, loaded from its file."""
    path = os.path.join(
        os.path.dirname(os.path.dirname(__file__)),
        "migrations",
        version,
        f"{name}.py",
    )
    module = f"ct_{name.replace('-', '_')}_{version.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(module, path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


@tagged("post_install", "-at_install")
class TestMigration(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.solo = cls._customer("Solo Customer", user_id=cls.user_all.id)
        cls.solo_contact = cls._contact(cls.solo, "Solo Buyer")
        cls.both = cls._customer("Customer Of Both")
        cls.none = cls._customer("No Profile")
        cls._order(cls.solo, 3000, date(2024, 5, 1))
        cls._order(cls.both, 3000, date(2024, 1, 5))
        cls._order(cls.both, 3000, date(2024, 3, 5), company=cls.company_b)
        cls._run(date(2024, 6, 30))
        cls._run(date(2024, 6, 30), company=cls.company_b)
        cls.prof_solo = cls._profile(cls.solo)
        cls.prof_a = cls._profile(cls.both)
        cls.prof_b = cls._profile(cls.both, company=cls.company_b)
        assert cls.prof_solo and cls.prof_a and cls.prof_b
        for profile, when in ((cls.prof_a, A_HISTORY), (cls.prof_b, B_HISTORY)):
            cls.env.cr.execute(
                "UPDATE customer_tier_history SET create_date = %s "
                "WHERE profile_id = %s",
                (when, profile.id),
            )
        cls.env["res.lang"]._activate_lang("zh_CN")

    def _message(self, partner, body, when=None, message_type="notification"):
        message = (
            self.env["mail.message"]
            .sudo()
            .create(
                {
                    "model": "res.partner",
                    "res_id": partner.id,
                    "message_type": message_type,
                    "subtype_id": self.env.ref("mail.mt_note").id,
                    "body": Markup("<p>%s</p>") % body,
                }
            )
        )
        if when:
            self.env.cr.execute(
                "UPDATE mail_message SET create_date = %s WHERE id = %s",
                (when, message.id),
            )
        return message

    def _snapshot(self):
        self.env.invalidate_all()
        return {
            row[0]: row[1:]
            for row in self.env.execute_query(
                SQL("SELECT id, model, res_id, body FROM mail_message")
            )
        }

    def _old_done_check(
        self, partner, profile, summary, note, feedback, kind="reorder"
    ):
        """A reorder check marked as done the way former versions did: Odoo's
        own ``_action_done``, which copies summary and note to the partner."""
        check = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": partner.id,
                "activity_type_id": self.env.ref(
                    REORDER_TYPE if kind == "reorder" else KEY_DATE_TYPE
                ).id,
                "summary": summary,
                "note": note,
                "user_id": self.user_all.id,
                "customer_tier_profile_id": profile.id,
                "customer_tier_activity": kind,
            }
        )
        messages, _next = MailActivity._action_done(
            check.with_env(self._env_as(self.user_all)), feedback=feedback
        )
        return messages

    def _last_contact(self, partners):
        """Last contact date by partner, in the test company."""
        rows = self.env.execute_query(
            last_contact_sql(
                SQL("SELECT unnest(%s::int[]), %s", partners.ids, self.company.id)
            )
        )
        return {partner_id: last for partner_id, _company, last in rows}

    def test_old_partner_notes_move_to_the_right_profile(self):
        note = self._message
        expected = {
            # English, manual override with its reason, on a contact
            note(
                self.solo_contact,
                "Customer tier changed from C - General to B - Key "
                "(Manual override). Reason: 100% sure, a_b \\ deal",
            ): self.prof_solo,
            # zh_CN
            note(self.solo, "客户分层设为 B - 重点（首笔订单）。"): self.prof_solo,
            note(
                self.solo,
                "客户分层由 C - 一般 变更为 A - 核心（手动调整）。 原因：集团统一采购",
            ): self.prof_solo,
            note(
                self.solo,
                "价格表已由 无 改为 Gold，以匹配客户分层（%s）。" % self.company.name,
            ): self.prof_solo,
            # two profiles: the history closest in time...
            note(
                self.both,
                'The plan "Welcome Key" has been started: the customer entered '
                "the tier B - Key.",
                datetime(2024, 3, 9, 18, 0),
            ): self.prof_b,
            note(
                self.both,
                "客户分层由 C - 一般 变更为 B - 重点（计算）。",
                datetime(2024, 1, 11, 8, 0),
            ): self.prof_a,
            note(
                self.both,
                "已启动计划“欢迎”：客户进入了分层 B - 重点。",
                datetime(2024, 1, 10, 10, 0),
            ): self.prof_a,
            # ... unless the pricelist note names the company
            note(
                self.both,
                "Pricelist changed from none to Gold & Co <VIP> to follow the "
                "customer tier (%s)." % self.company_b.name,
                datetime(2024, 1, 10, 9, 5),
            ): self.prof_b,
            note(
                self.both,
                "Pricelist changed from Silver to Gold to follow the customer "
                "tier (%s)." % self.company.name,
                datetime(2024, 3, 10, 9, 5),
            ): self.prof_a,
        }
        staying = [
            # no profile: stays, counted
            note(self.none, "Customer tier set to D - Marginal (First order)."),
            # written by hand with the same words
            note(
                self.solo,
                "Customer tier changed from C - General to B - Key (Manual override).",
                message_type="comment",
            ),
            # other notifications
            note(self.solo, "Customer tier changed, see the history."),
            note(self.solo, "The customer entered the tier B - Key."),
        ]
        before = self._snapshot()
        counts = _migrate_partner_notes(self.env)
        after = self._snapshot()

        self.assertEqual(counts["moved"], len(expected))
        self.assertEqual(counts["left"], 1)
        for message, profile in expected.items():
            self.assertEqual(
                after[message.id],
                ("customer.tier.profile", profile.id, before[message.id][2]),
                before[message.id][2],
            )
        changed = {mid for mid in before if before[mid] != after[mid]}
        self.assertEqual(changed, {m.id for m in expected})
        self.assertEqual(set(after) - set(before), set())
        for message in staying:
            self.assertEqual(after[message.id], before[message.id])
        # where the record rules apply: another company's user and a
        # salesperson limited to own documents see none of it on the partners
        for user in (self.user_own, self.user_b):
            partners = self._env_as(user)["res.partner"].browse(
                (self.solo | self.solo_contact | self.both).ids
            )
            bodies = " ".join(str(b) for b in partners.message_ids.mapped("body"))
            self.assertNotIn("集团统一采购", bodies)
            self.assertNotIn("Reason", bodies)
            self.assertNotIn("Gold", bodies)
        # a second run finds nothing more
        self.assertEqual(_migrate_partner_notes(self.env)["moved"], 0)

    def test_old_done_reorder_checks_leave_their_figures_on_the_profile(self):
        old = self._old_done_check(
            self.solo,
            self.prof_solo,
            "Reorder check: reorder overdue, At Risk",
            "<p>2 orders and $ 365,400.40 revenue in the window.</p>",
            "Called: stock for two months",
        )
        bare = self._old_done_check(
            self.both, self.prof_b, False, "<p>RFM 1-1-1, churn 87 %</p>", False
        )
        birthday = self._old_done_check(
            self.solo,
            self.prof_solo,
            "Birthday - Lin Wei: May 12",
            "<p>Likes green tea</p>",
            "Sent a card",
            kind="key_date",
        )
        self.assertIn("365,400.40", str(old.body))  # the former leak
        self.assertIn("At Risk", str(old.body))
        # a check done by the current code carries no figures: left alone
        current = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.solo.id,
                "activity_type_id": self.env.ref(REORDER_TYPE).id,
                "summary": "Reorder check: churn risk",
                "user_id": self.user_all.id,
                "customer_tier_profile_id": self.prof_solo.id,
                "customer_tier_activity": "reorder",
            }
        )
        current.with_env(self._env_as(self.user_all)).action_feedback(
            feedback="Left a message"
        )
        partners = self.solo | self.both
        last_contact = self._last_contact(partners)
        self.assertEqual(set(last_contact), set(partners.ids))
        before = self._snapshot()

        counts = _migrate_partner_notes(self.env)

        after = self._snapshot()
        self.assertEqual(counts["checks_split"], 3)
        self.assertEqual(counts["checks_left"], 0)
        # the contacts and their dates stay on the partners
        self.assertEqual(self._last_contact(partners), last_contact)
        for message in old | bare | birthday:
            self.assertEqual(after[message.id][:2], before[message.id][:2])
        self.assertEqual((old | bare).mail_activity_type_id, self.env.ref(REORDER_TYPE))
        self.assertEqual(birthday.mail_activity_type_id, self.env.ref(KEY_DATE_TYPE))
        self.assertIn("Sent a card", str(birthday.body))
        self.assertNotIn("Lin Wei", str(birthday.body))
        self.assertNotIn("green tea", str(birthday.body))
        self.assertIn("Called: stock for two months", str(old.body))
        self.assertIn("Reorder check", str(old.body))
        for message in old | bare:
            self.assertNotIn("365,400.40", str(message.body))
            self.assertNotIn("At Risk", str(message.body))
            self.assertNotIn("churn 87", str(message.body))
        # the figures are on the profile, worded and dated like today's notes
        new_ids = set(after) - set(before)
        notes = self.env["mail.message"].browse(sorted(new_ids))
        self.assertEqual(len(notes), 3)
        self.assertEqual(set(notes.mapped("model")), {"customer.tier.profile"})
        on_solo = notes.filtered(lambda m: "365,400.40" in str(m.body))
        self.assertEqual(on_solo.res_id, self.prof_solo.id)
        self.assertIn(
            "Reorder check: reorder overdue, At Risk: done by %s." % self.user_all.name,
            str(on_solo.body),
        )
        on_birthday = notes.filtered(lambda m: "green tea" in str(m.body))
        self.assertEqual(on_birthday.res_id, self.prof_solo.id)
        self.assertIn("Birthday - Lin Wei: May 12: done by", str(on_birthday.body))
        self.assertEqual(on_solo.date, old.date)
        self.assertEqual(on_solo.author_id, self.user_all.partner_id)
        self.assertEqual(on_solo.message_type, "notification")
        on_both = notes - on_solo - on_birthday
        self.assertEqual(on_both.res_id, self.prof_b.id)  # closest history
        self.assertIn("churn 87", str(on_both.body))
        # nothing else changed
        changed = {mid for mid in before if before[mid] != after[mid]}
        self.assertEqual(changed, {m.id for m in old | bare | birthday})
        self.assertNotIn("Left a message", str(notes.mapped("body")))
        # a second run finds nothing more
        self.assertEqual(_migrate_partner_notes(self.env)["checks_split"], 0)


# The program's fit columns of 18.0.1.1.0 and their types.
OLD_FIT_COLUMNS = {
    "predict_status": "varchar",
    "predict_gg_status": "varchar",
    "predict_fit_date": "date",
    "predict_customers": "int4",
    "predict_repeaters": "int4",
    "predict_gg_customers": "int4",
    "bgnbd_r": "float8",
    "bgnbd_alpha": "float8",
    "bgnbd_a": "float8",
    "bgnbd_b": "float8",
    "gg_p": "float8",
    "gg_q": "float8",
    "gg_v": "float8",
}


@tagged("post_install", "-at_install")
class TestMigrationProgramFits(CustomerTierCase):
    """Migration to 18.0.1.2.0 (issue 18, 5): the fit a program kept in its
    own columns becomes its fit record of that date; the columns go."""

    def _old_program_columns(self, values):
        """The former columns on the program table, filled for each program
        of ``values`` (program: {column: value})."""
        self.assertEqual(set(PROGRAM_FIT_COLUMNS.values()), set(OLD_FIT_COLUMNS))
        for column, kind in OLD_FIT_COLUMNS.items():
            self.env.cr.execute(
                SQL(
                    "ALTER TABLE customer_tier_program ADD COLUMN %s %s",
                    SQL.identifier(column),
                    SQL(kind),
                )
            )
        for program, row in values.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE customer_tier_program SET %s WHERE id = %s",
                    SQL(", ").join(
                        SQL("%s = %s", SQL.identifier(column), value)
                        for column, value in row.items()
                    ),
                    program.id,
                )
            )

    def test_program_fit_becomes_a_fit_record(self):
        fitted = {
            "predict_status": "ok",
            "predict_gg_status": "unreliable",
            "predict_fit_date": date(2024, 6, 30),
            "predict_customers": 25,
            "predict_repeaters": 21,
            "predict_gg_customers": 19,
            "bgnbd_r": 0.8123456789012345,
            "bgnbd_alpha": 61.25,
            "bgnbd_a": 0.91,
            "bgnbd_b": 3.05,
            "gg_p": 0.0,
            "gg_q": 0.0,
            "gg_v": 0.0,
        }
        # program B: never fitted (the former default)
        self._old_program_columns(
            {
                self.program: fitted,
                self.program_b: {"predict_status": "none", "predict_gg_status": "none"},
            }
        )
        self.assertEqual(_migrate_program_fits(self.env), 1)
        fit = self.program.predict_fit_id
        self.assertEqual(self.program.predict_fit_ids, fit)
        self.assertEqual(fit.company_id, self.company)
        for name, column in PROGRAM_FIT_COLUMNS.items():
            self.assertEqual(fit[name], fitted[column], name)
        self.assertEqual(self.program.predict_status, "ok")
        self.assertEqual(self.program.predict_fit_date, date(2024, 6, 30))
        self.assertIn("Fitted on", self.program.predict_status_text)
        self.assertFalse(self.program_b.predict_fit_ids)
        self.assertEqual(self.program_b.predict_status, "none")
        for column in OLD_FIT_COLUMNS:
            self.assertFalse(
                column_exists(self.env.cr, "customer_tier_program", column), column
            )
        # the fit is reused by a refresh as any fit (the parameters as stored)
        bgnbd, gg = self.program._prediction_stored_fit()
        self.assertEqual(bgnbd["r"], fitted["bgnbd_r"])
        self.assertIsNone(gg)
        # run again (columns gone): nothing to do
        self.assertEqual(_migrate_program_fits(self.env), 0)
        self.assertEqual(self.program.predict_fit_ids, fit)

    def test_fit_of_the_same_date_kept(self):
        """A fit record of the program's fit date already there (a run of the
        new version before the script) is kept as it is."""
        customer = self._customer("Fit Before Migration")
        self._order(customer, 1000.0, date(2024, 1, 10))
        self._run()
        fit = self.program.predict_fit_id
        self.assertEqual(fit.fit_date, self.eval_date)
        self._old_program_columns(
            {
                self.program: {
                    "predict_status": "failed",
                    "predict_gg_status": "failed",
                    "predict_fit_date": self.eval_date,
                    "predict_customers": 7,
                },
            }
        )
        self.assertEqual(_migrate_program_fits(self.env), 0)
        self.assertEqual(self.program.predict_fit_ids, fit)
        self.assertEqual((fit.status, fit.customers), ("insufficient", 1))

    def test_profile_dates_leave_the_table(self):
        """18.0.1.3.0 (pre-migrate): the stored evaluation date becomes the
        refresh date, so that the computed evaluation date of every profile
        is the one it had; the stored recency is dropped and computed the
        same."""
        script = load_migration("18.0.1.3.0", "pre-migrate")
        customer = self._customer("Migrated dates")
        self._order(customer, 1000, date(2024, 5, 1))
        self._run(date(2024, 6, 30))
        profile = self._profile(customer)
        self.env.flush_all()
        cr = self.env.cr
        # the 18.0.1.2.0 table: the evaluation date and the recency stored
        cr.execute(
            "ALTER TABLE customer_tier_profile RENAME COLUMN refresh_date "
            "TO evaluation_date"
        )
        cr.execute("ALTER TABLE customer_tier_profile ADD COLUMN recency_days int")
        cr.execute(
            "UPDATE customer_tier_profile SET evaluation_date = %s, "
            "recency_days = 60 WHERE id = %s",
            (date(2024, 6, 30), profile.id),
        )
        script.migrate(cr, "18.0.1.2.0")
        self.assertFalse(column_exists(cr, "customer_tier_profile", "recency_days"))
        self.assertFalse(column_exists(cr, "customer_tier_profile", "evaluation_date"))
        self.env.invalidate_all()
        self.assertEqual(profile.refresh_date, date(2024, 6, 30))
        self.assertEqual(profile.evaluation_date, date(2024, 6, 30))
        self.assertEqual(profile.recency_days, 60)
        # a new install has nothing to migrate
        script.migrate(cr, None)

    def test_predicted_figures_leave_the_table(self):
        """18.0.1.4.0: the stored predicted figures go (pre-migrate), the
        expected value of a program ranking by it kept as the value its
        customers were ranked by; the new inputs of the predictions are
        filled (post-migrate) with what the engine writes."""
        script = load_migration("18.0.1.4.0", "pre-migrate")
        customer = self._customer("Migrated predictions")
        self._order(customer, 1000, date(2024, 1, 5))
        self._order(customer, 700, date(2024, 3, 5))
        self._order(customer, 500, date(2024, 3, 5))
        self._order(customer, 1300, date(2024, 5, 5))
        self._run(date(2024, 6, 30))
        profile = self._profile(customer)
        names = ("repeat_order_days", "repeat_order_value", "purchase_day_value")
        written = {name: profile[name] for name in names}
        self.assertEqual(written["repeat_order_days"], 2)
        self.assertEqual(written["repeat_order_value"], 1250.0)
        self.assertAlmostEqual(written["purchase_day_value"], 3500 / 3)
        self.env.flush_all()
        cr = self.env.cr
        # the 18.0.1.3.0 table: the figures stored, no inputs, no ranked value
        cr.execute(
            "ALTER TABLE customer_tier_profile DROP COLUMN ranking_value, "
            "ADD COLUMN prob_alive numeric, ADD COLUMN expected_orders_12m "
            "numeric, ADD COLUMN expected_value_12m numeric"
        )
        cr.execute(
            "UPDATE customer_tier_profile SET expected_value_12m = 1234, "
            "repeat_order_days = 0, repeat_order_value = NULL, "
            "purchase_day_value = NULL WHERE company_id = %s",
            (self.company.id,),
        )
        cr.execute(
            "UPDATE customer_tier_program SET value_basis = 'predicted' WHERE id = %s",
            (self.program.id,),
        )
        script.migrate(cr, "18.0.1.3.0")
        for column in ("prob_alive", "expected_orders_12m", "expected_value_12m"):
            self.assertFalse(column_exists(cr, "customer_tier_profile", column))
        self.assertGreaterEqual(_migrate_prediction_inputs(self.env), 1)
        self.env.invalidate_all()
        self.assertEqual(profile.ranking_value, 1234)
        self.assertEqual({name: profile[name] for name in names}, written)
        # a new install has nothing to migrate
        script.migrate(cr, None)

    def test_shares_leave_the_profile_table(self):
        """18.0.1.4.0 (pre-migrate): the stored rank and shares are dropped;
        the profiles read them from the ranking snapshot, and a profile whose
        stored figures differ from the snapshot's (refreshed since the full
        evaluation) keeps them on its entry: every profile shows what it
        showed."""
        script = load_migration("18.0.1.4.0", "pre-migrate")
        big, small = self._customer("Migrated big"), self._customer("Migrated small")
        self._order(big, 3000, date(2024, 5, 1))
        self._order(small, 1000, date(2024, 5, 2))
        self._run(date(2024, 6, 30))
        # company B has no snapshot yet (evaluated before 18.0.1.3.0)
        cust_b = self._customer("Migrated in B")
        self._order(cust_b, 500, date(2024, 5, 3), company=self.company_b)
        self._run(date(2024, 6, 30), company=self.company_b)
        profile_b = self._profile(cust_b, company=self.company_b)
        self.env["customer.tier.ranking"].search(
            [("company_id", "=", self.company_b.id)]
        ).unlink()
        self.env["customer.tier.ranking.entry"].search(
            [("company_id", "=", self.company_b.id)]
        ).unlink()
        shown = ("pareto_rank", "revenue_share", "cumulative_share")
        profiles = {p: self._profile(p) for p in (big, small)}
        self.assertEqual(
            [tuple(profiles[p][f] for f in shown) for p in (big, small)],
            [(1, 0.75, 0.75), (2, 0.25, 1.0)],
        )
        self.env.flush_all()
        cr = self.env.cr
        # the 18.0.1.3.0 tables: the figures on the profile, none on the
        # entries; the small customer refreshed since with other figures
        cr.execute(
            "ALTER TABLE customer_tier_ranking_entry DROP COLUMN shown_rank, "
            "DROP COLUMN shown_share, DROP COLUMN shown_cumulative"
        )
        cr.execute(
            "ALTER TABLE customer_tier_profile ADD COLUMN revenue_share numeric, "
            "ADD COLUMN cumulative_share numeric, ADD COLUMN pareto_rank int"
        )
        for profile, figures in (
            (profiles[big], (1, 0.75, 0.75)),
            (profiles[small], (2, 0.4, 1.0)),
            (profile_b, (1, 1.0, 1.0)),
        ):
            cr.execute(
                "UPDATE customer_tier_profile SET pareto_rank = %s, "
                "revenue_share = %s, cumulative_share = %s WHERE id = %s",
                (*figures, profile.id),
            )
        script.migrate(cr, "18.0.1.3.0")
        for fname in shown:
            self.assertFalse(column_exists(cr, "customer_tier_profile", fname))
        self.env.invalidate_all()
        self.assertEqual(
            [tuple(profiles[p][f] for f in shown) for p in (big, small)],
            [(1, 0.75, 0.75), (2, 0.4, 1.0)],
        )
        # without a snapshot: the stored figures, on an entry of its own
        self.assertEqual(tuple(profile_b[f] for f in shown), (1, 1.0, 1.0))
        # the next full evaluation gives the snapshot's figures again
        self._run(date(2024, 7, 1))
        self.assertEqual(profiles[small].revenue_share, 0.25)
        # a new install has nothing to migrate
        script.migrate(cr, None)

    def test_ranking_indexes_lose_the_counts(self):
        """18.0.1.5.0 (pre-migrate): the RFM indexes of the ranking entries
        that carried the counts are dropped; the model's init creates them
        again without the counts, on a table whose pages keep room for the
        nightly updates."""
        script = load_migration("18.0.1.5.0", "pre-migrate")
        cr = self.env.cr
        indexes = "customer_tier_ranking_entry_%_index"

        def definitions():
            return dict(
                self.env.execute_query(
                    SQL(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = 'customer_tier_ranking_entry' "
                        "AND indexname LIKE %s",
                        indexes,
                    )
                )
            )

        # the 18.0.1.4.0 index: the count carried
        cr.execute("DROP INDEX customer_tier_ranking_entry_last_index")
        cr.execute(
            "CREATE INDEX customer_tier_ranking_entry_last_index "
            "ON customer_tier_ranking_entry (company_id, last_order_date) "
            "INCLUDE (r_le) WHERE member"
        )
        cr.execute("ALTER TABLE customer_tier_ranking_entry RESET (fillfactor)")
        script.migrate(cr, "18.0.1.4.0")
        self.assertNotIn("customer_tier_ranking_entry_last_index", definitions())
        self.env["customer.tier.ranking.entry"].init()
        after = definitions()
        for name in ("last", "orders", "revenue"):
            self.assertNotIn(
                "INCLUDE", after[f"customer_tier_ranking_entry_{name}_index"]
            )
        self.assertFalse(
            [d for d in after.values() if any(c in d for c in ("r_le", "f_le", "m_le"))]
        )
        options = self.env.execute_query(
            SQL(
                "SELECT reloptions FROM pg_class "
                "WHERE relname = 'customer_tier_ranking_entry'"
            )
        )[0][0]
        self.assertIn("fillfactor=50", options)
        # a new install has nothing to migrate
        script.migrate(cr, None)
