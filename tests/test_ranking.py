"""The ranking snapshot gives a refresh and a batch the figures of before.

A refresh scores its customers from the company's ranking snapshot (index
seeks corrected with the moved customers) instead of reading the whole
profile table; a later call of a batched evaluation reads its batch's scores
from the snapshot its first call wrote. Both must give exactly what the old
definitions give: the scan of the stored profiles for a refresh, one
unbatched evaluation for a batched one. Random customers with many ties
(same revenue, same last order date, same order count, no revenue in the
window), under the Pareto method (its revenue to outrank reads the others
too).
"""

import random
from datetime import date, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.customer_tier.models import customer_tier_ranking
from odoo.addons.customer_tier.models.customer_tier_engine import (
    PROFILE_COLUMNS,
    RankedFigures,
    TierEngine,
)
from odoo.addons.customer_tier.models.customer_tier_ranking import SHOWN, Ranking

from .test_assignment import AssignmentCase

E = date(2024, 6, 30)
# the figures the scoring adds (RankedFigures holds them for every customer)
SCORES = RankedFigures.SCORES
AMOUNTS = (0.0, 250.0, 250.0, 1000.0, 1000.0, 1000.0, 4000.0, 12500.5)
DAYS = (5, 5, 40, 40, 200, 500)


@tagged("post_install", "-at_install")
class TestRankingSnapshot(AssignmentCase):
    SEED = 20241207
    CUSTOMERS = 36

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"method": "pareto", "grace_length": 2})
        cls.rng = random.Random(cls.SEED)
        cls.customers = cls.env["res.partner"]
        for index in range(cls.CUSTOMERS):
            customer = cls._customer(f"Ranked {index}")
            cls._buy_some(customer)
            cls.customers |= customer
        cls.prospect = cls._customer("Ranked Prospect", customer_rank=1)

    @classmethod
    def _buy_some(cls, customer, count=None):
        rng = cls.rng
        for _i in range(count or rng.randint(1, 3)):
            amount = rng.choice(AMOUNTS)
            if amount:
                cls._buy(customer, amount, E - timedelta(days=rng.choice(DAYS)))

    def _engine(self, scan=False):
        engine = self.program._engine()
        if scan:
            engine._head = False  # (no snapshot: the profile table is read)
        return engine

    def _scores(self, partner_ids, scan):
        """The figures, scores and revenue to outrank a refresh of
        ``partner_ids`` computes, from the snapshot or from the profiles."""
        engine = self._engine(scan)
        rows = self.env.execute_query(engine.aggregate_query(E, partner_ids))
        figures = engine._figures(rows, E)
        path = "_score_snapshot" if scan else "_score_scan"
        with patch.object(TierEngine, path, side_effect=AssertionError(path)):
            engine._score_incremental(figures, E)
        for fig in figures.values():
            fig["computed_tier_id"] = engine.computed_tier(fig).id
        keep = engine._keep_amounts(figures, partner_ids)
        scores = {
            pid: tuple(fig[name] for name in SCORES) for pid, fig in figures.items()
        }
        return scores, keep

    def test_refresh_scores_from_the_snapshot_equal_the_scan(self):
        self._run(E)
        head = self._engine()._ranking().head()
        self.assertEqual(head["state"], "done")
        buying = self.env["customer.tier.profile"].search_count(
            [("company_id", "=", self.company.id), ("is_prospect", "=", False)]
        )
        self.assertEqual(head["member_count"], buying)
        rng = random.Random(self.SEED + 1)
        newcomers = self.env["res.partner"]
        rounds = 0
        for step in range(14):
            with self.subTest(step=step):
                refreshed = rng.sample(self.customers.ids, rng.randint(1, 3))
                for pid in refreshed:
                    self._buy_some(self.env["res.partner"].browse(pid), 1)
                if step % 4 == 1:
                    # a new customer, in no snapshot
                    newcomer = self._customer(f"Newcomer {step}")
                    self._buy_some(newcomer, 2)
                    newcomers |= newcomer
                    refreshed.append(newcomer.id)
                if step % 5 == 2:
                    # a customer whose orders are all cancelled: a prospect
                    gone = self.env["res.partner"].browse(refreshed[0])
                    orders = self.env["sale.order"].search(
                        [("partner_id", "=", gone.id), ("state", "=", "sale")]
                    )
                    with self._no_refresh():
                        orders._action_cancel()
                self.env.flush_all()
                snapshot = self._scores(refreshed, scan=False)
                scan = self._scores(refreshed, scan=True)
                self.assertEqual(snapshot, scan)
                # then refreshed for real: they move in the snapshot, and
                # their profiles show the rank and shares the refresh gave
                # them, the others those of the full evaluation
                others = self._shown(set(self.customers.ids) - set(refreshed))
                self._engine().refresh_partners(refreshed, E)
                shown = self._shown(refreshed)
                for pid in refreshed:
                    # (a customer whose orders were all cancelled: a
                    # prospect, ranked nowhere)
                    expected = snapshot[0].get(pid, (0, 0.0, 0.0))[:3]
                    self.assertEqual(shown[pid], expected)
                self.assertEqual(self._shown(list(others)), others)
                rounds += 1
        moved = self.env["customer.tier.ranking.entry"].search_count(
            [("company_id", "=", self.company.id), ("moved", "=", True)]
        )
        self.assertTrue(moved)
        self.assertEqual(rounds, 14)
        # every other customer's refresh too, now that many moved
        for pid in self.customers.ids + newcomers.ids:
            self.assertEqual(
                self._scores([pid], scan=False), self._scores([pid], scan=True)
            )
        # the next full evaluation clears the moves
        self._run(E + timedelta(days=1))
        moved = self.env["customer.tier.ranking.entry"].search_count(
            [("company_id", "=", self.company.id), ("moved", "=", True)]
        )
        self.assertEqual(moved, 0)

    def _shown(self, partner_ids):
        """partner id -> (rank, revenue share, cumulative share) its profile
        shows."""
        Profile = self.env["customer.tier.profile"]
        Profile.invalidate_model(list(SHOWN))
        return {
            p.partner_id.id: tuple(p[f] for f in SHOWN)
            for p in Profile.search(
                [
                    ("company_id", "=", self.company.id),
                    ("partner_id", "in", list(partner_ids)),
                ]
            )
        }

    def test_refresh_without_snapshot_reads_the_profiles(self):
        """Before the first full evaluation wrote a snapshot (a database
        upgraded to this version), a refresh reads the profile table."""
        self._run(E)
        self.env["customer.tier.ranking"].search(
            [("company_id", "=", self.company.id)]
        ).unlink()
        engine = self._engine()
        with patch.object(
            TierEngine, "_score_scan", autospec=True, side_effect=TierEngine._score_scan
        ) as scan:
            engine.refresh_partners(self.customers[:1].ids, E)
        self.assertEqual(scan.call_count, 1)

    def _profiles(self):
        self.env.flush_all()
        fields_ = self.env["customer.tier.profile"]._fields
        columns = [
            name
            for name, field in fields_.items()
            if field.store
            and field.column_type
            and name not in ("id", "create_uid", "create_date", "write_uid")
            and name != "write_date"
            # (a batch writes the date of the full evaluation on each of its
            # profiles, as its progress, where one unbatched run leaves an
            # unchanged profile as it was: test_batches compares the same)
            and name != "full_evaluation_date"
        ]
        self.assertTrue(set(PROFILE_COLUMNS) - {"full_evaluation_date"} <= set(columns))
        # (ids aside: a batched evaluation creates the new profiles in
        # another order), with the rank and shares the profiles read from
        # the ranking snapshot
        Profile = self.env["customer.tier.profile"]
        Profile.invalidate_model(list(SHOWN))
        shown = {
            p.partner_id.id: tuple(p[f] for f in SHOWN)
            for p in Profile.search([("company_id", "=", self.company.id)])
        }
        return {
            pid: {k: v for k, v in row.items() if k != "id"} | {"shown": shown[pid]}
            for pid, row in self._snapshot(columns=columns).items()
        }

    def _entries(self):
        """The company's ranking snapshot entries: partner id -> figures."""
        self.env.flush_all()
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT partner_id, member, moved, value, rank, cum, cum_float,
                       last_order_date, r_le, order_count, f_le, revenue, m_le,
                       computed_tier_id
                  FROM customer_tier_ranking_entry
                 WHERE company_id = %s
                """,
                self.company.id,
            )
        )
        return {row.pop("partner_id"): row for row in rows}

    def test_batched_run_equals_one_run(self):
        """A batched evaluation (batches of 5, the first call ranking every
        customer, the later ones only their batch) writes exactly the
        profiles of one unbatched evaluation, on a day after a first one."""
        self._run(E)
        day = E + timedelta(days=20)
        for customer in self.customers[::3]:
            self._buy_some(customer, 1)
        self.env.flush_all()
        with self.env.cr.savepoint(flush=True) as reference:
            self._run(day)
            expected = self._profiles()
            expected_entries = self._entries()
            reference.rollback()
        self.env.invalidate_all()
        calls = []
        original = TierEngine._prospect_ids
        original_extend = TierEngine.extend_figures
        seen = []

        def prospect_ids(engine):
            calls.append(engine.batch_ids)
            return original(engine)

        def extend_figures(engine, figures, eval_date, full):
            # what the features see: the batch's figures, stored profiles
            # and prospects only
            seen.append(
                (
                    engine.batch_ids,
                    set(figures),
                    set(engine.state),
                    set(engine.prospects),
                )
            )
            return original_extend(engine, figures, eval_date, full)

        results = []
        with (
            patch.object(TierEngine, "_prospect_ids", prospect_ids),
            patch.object(TierEngine, "extend_figures", extend_figures),
            # (the first call reads every customer's figures a few at a time,
            # the ORM reading its fields from cold caches in between, and
            # writes the snapshot a few entries per statement)
            patch(f"{TierEngine.__module__}.RANKED_CHUNK", 2),
            patch.object(customer_tier_ranking, "STORE_CHUNK", 3),
        ):
            for _call in range(20):
                self.env.invalidate_all()
                result = self._run(day, batch_size=5)
                results.append(result)
                if not result["remaining"]:
                    break
                if len(results) == 1:
                    # the first call ranked every customer: the snapshot of
                    # one unbatched evaluation (but for the batching state)
                    self.assertEqual(self._entries(), expected_entries)
        self.assertGreater(len(results), 4)
        # only the first call reads the whole company
        self.assertEqual(len(calls), 1)
        for batch, figures, state, prospects in seen:
            self.assertLessEqual(len(batch), 5)
            self.assertLessEqual(figures | state | prospects, batch)
        self.assertEqual(sum(r["written"] for r in results), len(expected))
        # what is left, after each call: exact (no partner came meanwhile),
        # though the later calls read it from the snapshot's header
        written = 0
        for result in results:
            written += result["written"]
            self.assertEqual(result["remaining"], len(expected) - written)
        self.assertEqual(self._profiles(), expected)
        head = self._engine()._ranking().head()
        self.assertEqual((head["state"], head["eval_date"]), ("done", day))

    def test_later_batches_take_newcomers_and_stop_at_their_batch(self):
        """A later call of a batched evaluation takes the next profiles, the
        customers without a profile yet and those refreshed before its
        batch (moved), in partner order, reading no more than its batch (and
        one more): its statement has no aggregate or sort over what is
        left. A customer that appears meanwhile is written too; the count
        left stays at least 1 until nothing is, then is 0."""
        self._run(E)
        day = E + timedelta(days=20)
        first = self._run(day, batch_size=5)
        self.assertTrue(first["remaining"])
        head = self._engine()._ranking().head()
        self.assertEqual(head["pending_count"], first["remaining"])
        # (what is left, read from the header: no count of the profiles)
        engine = self._engine()
        self.env.flush_all()
        with patch.object(
            self.env.cr, "execute", wraps=self.env.cr.execute
        ) as executed:
            self.assertEqual(engine._count_pending(day), first["remaining"])
        self.assertEqual(executed.call_count, 1)
        self.assertIn("FROM customer_tier_ranking ", executed.call_args[0][0].code)
        # meanwhile, a new customer is refreshed (a profile, a moved entry),
        # and a customer of the first batch whose profile was removed buys
        # and is refreshed: its entry moved before the batches to come, its
        # new profile not evaluated for the day
        newcomer = self._customer("Batch Newcomer")
        self._buy(newcomer, 800.0, day)
        lost = next(c for c in self.customers if self._profile(c))
        self.assertLessEqual(lost.id, head["cursor"])
        self._profile(lost).unlink()
        self._buy(lost, 500.0, day)
        self.env.flush_all()
        self._engine().refresh_partners((newcomer | lost).ids, day)
        self.assertFalse(self._profile(lost).full_evaluation_date)
        query = []
        original = self.env.cr.execute

        def execute(sql, *args, **kwargs):
            if isinstance(sql, SQL) and "u.pid" in sql.code:
                query.append(sql)
            return original(sql, *args, **kwargs)

        remaining = []
        with patch.object(self.env.cr, "execute", side_effect=execute):
            for _call in range(20):
                result = self._run(day, batch_size=5)
                remaining.append(result["remaining"])
                if not result["remaining"]:
                    break
        self.assertEqual(remaining[-1], 0)
        self.assertTrue(all(remaining[:-1]))
        Profile = self.env["customer.tier.profile"]
        self.assertEqual(
            Profile.search_count(
                [
                    ("company_id", "=", self.company.id),
                    ("full_evaluation_date", "!=", day),
                ]
            ),
            0,
        )
        self.assertEqual(self._profile(newcomer).full_evaluation_date, day)
        self.assertEqual(self._profile(lost).full_evaluation_date, day)
        self.assertEqual(self._engine()._count_pending(day), 0)
        self.assertTrue(query)
        plan = "\n".join(
            row[0] for row in self.env.execute_query(SQL("EXPLAIN %s", query[0]))
        )
        self.assertTrue(plan.startswith("Limit"), plan)
        for node in ("Aggregate", "WindowAgg", "Unique", "SetOp"):
            self.assertNotIn(node, plan)

    def _head(self):
        """The company's snapshot header, but for its write date."""
        head = self._engine()._ranking().head()
        head.pop("id")
        return head

    def _chunked_run(self, eval_date, chunk):
        """A full evaluation whose snapshot is written ``chunk`` entries per
        statement: the number of statements."""
        with (
            patch.object(customer_tier_ranking, "STORE_CHUNK", chunk),
            patch.object(
                Ranking, "_store_chunk", autospec=True, side_effect=Ranking._store_chunk
            ) as statements,
        ):
            self._run(eval_date)
        return statements.call_count

    def test_chunked_store_equals_one_statement(self):
        """The snapshot written a few entries per statement is the one a
        single statement writes (ranks, cumulative values exact and as
        summed, the ``*_le`` counts, header totals); the entries of partners
        no longer there are deleted wherever their id falls among the kept
        ones, those of another company are left alone; the moves and the
        figures shown are cleared; a rerun that changes nothing writes no
        entry."""
        self._run(E)
        day = E + timedelta(days=1)
        for customer in self.customers[::4]:
            self._buy_some(customer, 1)
        # a ranked customer among the others whose orders are all cancelled:
        # no longer ranked, its entry goes
        gone = self.customers[17]
        with self._no_refresh():
            self.env["sale.order"].search(
                [("partner_id", "=", gone.id)]
            )._action_cancel()
        # moves and figures shown, which the next full evaluation clears
        self._engine().refresh_partners(self.customers[:3].ids, day)
        self.env.flush_all()
        self.assertIn(gone.id, self._entries())
        with self.env.cr.savepoint(flush=True) as reference:
            self.assertEqual(self._chunked_run(day, 10000), 1)
            expected, expected_head = self._entries(), self._head()
            reference.rollback()
        self.env.invalidate_all()
        kept = sorted(expected)
        self.assertNotIn(gone.id, kept)
        self.assertLess(kept[0], gone.id)
        self.assertLess(gone.id, kept[-1])
        # entries of partners that are no customers of the evaluation, below
        # and above the kept partner ids, and one of another company
        stale = [kept[0] - 1, kept[-1] + 1, kept[-1] + 1000]
        other = self.env["res.company"].create({"name": "Ranking Elsewhere"})
        Entry = self.env["customer.tier.ranking.entry"]
        Entry.create(
            [{"company_id": self.company.id, "partner_id": pid} for pid in stale]
            + [{"company_id": other.id, "partner_id": kept[0], "member": True}]
        )
        self.env.flush_all()
        moved = Entry.search_count(
            [("company_id", "=", self.company.id), ("moved", "=", True)]
        )
        self.assertTrue(moved)
        count = len(kept)
        self.assertGreater(count, 30)
        self.assertEqual(self._chunked_run(day, 3), -(-count // 3))
        self.assertEqual(self._entries(), expected)
        self.assertEqual(self._head(), expected_head)
        self.assertEqual(expected_head["member_count"], count)
        self.assertEqual(
            Entry.search_count(
                [
                    ("company_id", "=", self.company.id),
                    "|",
                    ("moved", "=", True),
                    ("shown_rank", "!=", False),
                ]
            ),
            0,
        )
        self.assertEqual(
            Entry.search_count([("company_id", "=", other.id)]),
            1,
        )
        # the same with a chunk that divides the entries unevenly, and a
        # rerun that changes nothing writes nothing
        written = self._entries_written()
        self.assertEqual(self._chunked_run(day, 7), -(-count // 7))
        self.assertEqual(self._entries_written(), written)
        self.assertEqual(self._entries(), expected)

    def test_seeks_read_the_indexes(self):
        """Each seek of a refresh is an index scan of the snapshot (with
        sequential scans and sorts off: the test data is too small for the
        planner to prefer an index), so it costs the same whatever the company's
        customers; the row comparison of the ranking order is an index
        condition, not a filter."""
        self._run(E)
        customer = self.customers[0]
        profile = self._profile(customer)
        query = (
            self._engine()
            ._ranking()
            .seek_query(
                [
                    (
                        customer.id,
                        profile.revenue_window,
                        profile.last_order_date,
                        profile.order_count_window,
                        profile.revenue_window,
                    )
                ]
            )
        )
        # (nor sorts: on a few rows the planner may read another index of the
        # company and sort its rows, which a large company never does)
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute("SET LOCAL enable_sort = off")
        try:
            plan = "\n".join(
                row[0] for row in self.env.execute_query(SQL("EXPLAIN %s", query))
            )
        finally:
            self.env.cr.execute("SET LOCAL enable_seqscan = on")
            self.env.cr.execute("SET LOCAL enable_sort = on")
        for index in ("rank", "last", "orders", "revenue"):
            self.assertIn(f"customer_tier_ranking_entry_{index}_index", plan)
        self.assertNotIn("Sort", plan)
        self.assertIn("Index Cond: ((company_id = ", plan)
        self.assertNotIn("Filter: (ROW(", plan)
