"""The engine's extension contract (models/customer_tier_engine.py): a feature
added through ``_engine_features`` gets its declared column written by the
upsert, and the hooks of the features run in the order of their sequence."""

from contextlib import contextmanager
from datetime import date
from unittest.mock import patch

from odoo.tools import SQL

from odoo.addons.customer_tier.models.customer_tier_engine import EngineFeature

from .common import CustomerTierCase


class ProbeFeature(EngineFeature):
    """Writes ten times the orders in the window in ``x_probe``."""

    name = "probe"
    sequence = 5
    columns = ("x_probe",)

    def extend_figures(self, figures, eval_date, full):
        self.seen = len(figures)
        for rows in (figures, self.engine.prospects):
            for fig in rows.values():
                fig["x_probe"] = fig["order_count_window"] * 10


# (feature name, hook, full) of each call of a Recorder's hooks
CALLS = []


class Recorder(EngineFeature):
    """Records the calls of its hooks in ``CALLS``."""

    def _record(self, hook, full):
        CALLS.append((self.name, hook, full))

    def extend_figures(self, figures, eval_date, full):
        self._record("extend_figures", full)

    def before_write(self, rows, eval_date, full):
        self._record("before_write", full)

    def after_write(self, rows, changes, eval_date, full):
        self._record("after_write", full)


class LateFeature(Recorder):
    name = "late"
    sequence = 60


class EarlyFeature(Recorder):
    name = "early"
    sequence = 1


class Reranker(EngineFeature):
    """Replaces the window revenue the customers are ranked by (one-order
    customers count four times theirs) without declaring that it ranks."""

    name = "reranker"
    sequence = 7

    def extend_figures(self, figures, eval_date, full):
        self.sizes = [*getattr(self, "sizes", []), len(figures)]
        for fig in figures.values():
            if fig["order_count"] == 1:
                fig["revenue_window"] *= 4
        self.engine.rescore()


class DeclaredReranker(Reranker):
    """The same, declared (``ranks``)."""

    name = "declared_reranker"
    ranks = True


class TestEngineContract(CustomerTierCase):
    @contextmanager
    def _features(self, *added):
        """The program's features plus ``added``, for the block."""
        program_cls = type(self.program)
        original = program_cls._engine_features

        def features(program):
            return [*original(program), *added]

        with patch.object(program_cls, "_engine_features", features):
            yield

    def _probes(self):
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                "SELECT partner_id, order_count_window, x_probe "
                "FROM customer_tier_profile WHERE program_id = %s",
                self.program.id,
            )
        )

    def test_feature_column_written(self):
        self.env.cr.execute(
            "ALTER TABLE customer_tier_profile ADD COLUMN x_probe numeric"
        )
        one = self._customer("Probe One")
        self._order(one, 800.0, date(2024, 3, 1))
        two = self._customer("Probe Two")
        self._order(two, 900.0, date(2024, 2, 1))
        self._order(two, 1200.0, date(2024, 5, 1))
        # a prospect: a customer of Odoo without orders
        self._customer("Probe Prospect", customer_rank=1)
        with self._features(ProbeFeature):
            engine = self.program._engine()
            self.assertIn("x_probe", engine.columns)
            self.assertIsInstance(engine.feature("probe"), ProbeFeature)
            engine.run(eval_date=self.eval_date)
            # the instance holds the feature's state of the run
            self.assertEqual(engine.feature("probe").seen, 2)
        probes = self._probes()
        self.assertEqual(len(probes), 3)
        for _partner, orders, probe in probes:
            self.assertEqual(probe, orders * 10)
        self.assertEqual(
            {pid: probe for pid, _o, probe in probes if pid in (one.id, two.id)},
            {one.id: 10, two.id: 20},
        )
        # an incremental refresh writes it as well
        self._order(one, 500.0, date(2024, 6, 1))
        with self._features(ProbeFeature):
            self.program._engine().refresh_partners([one.id], self.eval_date)
        probes = {pid: probe for pid, _o, probe in self._probes()}
        self.assertEqual(probes[one.id], 20)
        # without the feature, the engine does not write the column
        self.assertNotIn("x_probe", self.program._engine().columns)

    def test_feature_order(self):
        customer = self._customer("Order One")
        self._order(customer, 800.0, date(2024, 3, 1))
        # declared late first: the sequence decides, not the list
        CALLS.clear()
        with self._features(LateFeature, EarlyFeature):
            engine = self.program._engine()
            names = [f.name for f in engine.features]
            engine.run(eval_date=self.eval_date)
        self.assertEqual(
            names,
            [
                "early",
                "revenue_basis",
                "prediction",
                "pricing",
                "followup",
                "prospect",
                "dimension",
                "late",
            ],
        )
        self.assertEqual(
            CALLS,
            [
                ("early", "extend_figures", True),
                ("late", "extend_figures", True),
                ("early", "before_write", True),
                ("late", "before_write", True),
                ("early", "after_write", True),
                ("late", "after_write", True),
            ],
        )
        # a tier change made through the ORM (override): after_write alone
        CALLS.clear()
        profile = self._profile(customer)
        with self._features(LateFeature, EarlyFeature):
            profile.write({"manual_tier_id": self.tier_a.id, "manual_reason": "Probe"})
        self.assertEqual(
            CALLS, [("early", "after_write", False), ("late", "after_write", False)]
        )

    def _profile_figures(self):
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                "SELECT partner_id, revenue_window, computed_tier_id, tier_id, "
                "rfm_monetary_score FROM customer_tier_profile "
                "WHERE program_id = %s ORDER BY partner_id",
                self.program.id,
            )
        )

    def test_feature_that_ranks_batched(self):
        """A feature that replaces the ranking figures gets the same profiles
        from a batched evaluation as from one run: declared (``ranks``), the
        first call hands it every customer's figures; undeclared, the first
        call ranks the whole figures all the same."""
        for index, (amount, day) in enumerate(
            [(900.0, date(2024, 3, 1)), (1500.0, date(2024, 4, 1))]
        ):
            customer = self._customer(f"Ranked {index}")
            self._order(customer, amount, day)
            if index:
                self._order(customer, 300.0, date(2024, 5, 1))
        self._order(self._customer("Ranked 2"), 2000.0, date(2024, 2, 1))
        for feature in (Reranker, DeclaredReranker):
            with self.subTest(feature=feature.name), self._features(feature):
                with self.env.cr.savepoint(flush=True) as reference:
                    self.program._engine().run(eval_date=self.eval_date)
                    expected = self._profile_figures()
                    reference.rollback()
                self.env.invalidate_all()
                with self.env.cr.savepoint(flush=True) as batched:
                    engine = self.program._engine()
                    result = engine.run(eval_date=self.eval_date, batch_size=1)
                    sizes = engine.feature(feature.name).sizes
                    while result["remaining"]:
                        result = self.program._engine().run(
                            eval_date=self.eval_date, batch_size=1
                        )
                    self.assertEqual(self._profile_figures(), expected)
                    batched.rollback()
                self.env.invalidate_all()
                # the first call: every customer's figures (declared), or
                # the batch's, then everyone's (undeclared)
                self.assertEqual(sizes, [3] if feature.ranks else [1, 3])
