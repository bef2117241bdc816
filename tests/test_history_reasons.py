"""A computed move in the history carries its reason in words.

Every case is computed by hand from the fixture's thresholds (A 10,000 / 3
orders / 180 days, B 2,000 / 2 / 270, C 500 / - / 365, D fallback; USD, so
amounts read ``$ 12,000.00`` with a no-break space) and the Pareto bounds
(A 80 %, B 95 %, C the rest). The profile's note of a move carries the same
reason.
"""

import html
from datetime import date, timedelta

from odoo.tests import tagged
from odoo.tools import format_amount, formatLang

from odoo.addons.customer_tier.models.customer_tier_engine import _Formats

from .common import load_chinese
from .test_assignment import AssignmentCase, E


def usd(text):
    """``$ <text>`` as format_amount writes it (no-break space)."""
    return "$\N{NO-BREAK SPACE}" + text


@tagged("post_install", "-at_install")
class TestThresholdReasons(AssignmentCase):
    """Thresholds, grace 0 unless a test sets it.

    Up: 1,500 on 2024-03-01 and 2024-06-01 (B on 2024-06-30), then 10,000 on
    2024-07-01: on 2024-07-02 13,000 in 3 orders, last order 1 day ago: A.
    Down on revenue and orders: 4,000 on 2023-09-01, 2024-03-01, 2024-06-01
    (A on 2024-06-30); on 2024-09-15 the first has left the window: 8,000 in
    2 orders (B). Down on recency: 4,000 on 2024-01-10, 2024-01-20,
    2024-02-01 (A: last order 150 days ago); on 2024-08-15 the last order is
    196 days old (> 180, <= 270: B). Small: 300 once (D: C wants 500). Mid:
    600 once on 2024-06-01 (C).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_length": 0})
        cls.up = cls._customer("Up")
        cls.dip = cls._customer("Dip")
        cls.quiet = cls._customer("Quiet")
        cls.small = cls._customer("Small")
        cls.mid = cls._customer("Mid")
        cls._buy_many(cls.up, [(1500, date(2024, 3, 1)), (1500, date(2024, 6, 1))])
        cls._buy_many(
            cls.dip,
            [
                (4000, date(2023, 9, 1)),
                (4000, date(2024, 3, 1)),
                (4000, date(2024, 6, 1)),
            ],
        )
        cls._buy_many(
            cls.quiet,
            [
                (4000, date(2024, 1, 10)),
                (4000, date(2024, 1, 20)),
                (4000, date(2024, 2, 1)),
            ],
        )
        cls._buy_many(cls.small, [(300, date(2024, 6, 1))])
        cls._buy_many(cls.mid, [(600, date(2024, 6, 1))])

    def _move(self, partner, day):
        move = self._history(partner, date=day)
        self.assertEqual(len(move), 1, partner.name)
        return move

    def test_first_evaluation_names_the_deciding_figures(self):
        self._run(E)
        a, b, c = (t.display_name for t in (self.tier_a, self.tier_b, self.tier_c))
        expected = {
            self.up: f"Meets {b}: revenue in window {usd('3,000.00')} ≥ "
            f"{usd('2,000.00')}, 2 orders in window ≥ 2, last order 29 days ago "
            "≤ 270.",
            self.quiet: f"Meets {a}: revenue in window {usd('12,000.00')} ≥ "
            f"{usd('10,000.00')}, 3 orders in window ≥ 3, last order 150 days "
            "ago ≤ 180.",
            self.mid: f"Meets {c}: revenue in window {usd('600.00')} ≥ "
            f"{usd('500.00')}, last order 29 days ago ≤ 365.",
            # the fallback: what the tier above misses
            self.small: f"Does not meet {c}: revenue in window {usd('300.00')} "
            f"< {usd('500.00')}.",
        }
        for partner, reason in expected.items():
            move = self._move(partner, E)
            self.assertEqual(move.cause, "initial")
            self.assertEqual(move.reason, reason, partner.name)

    def test_up_names_the_conditions_now_met(self):
        self._run(E)
        self._buy(self.up, 10000, date(2024, 7, 1))
        day = date(2024, 7, 2)
        self._run(day)
        move = self._move(self.up, day)
        self.assertEqual((move.cause, move.direction), ("computed", "up"))
        reason = (
            f"Now meets {self.tier_a.display_name}: revenue in window "
            f"{usd('13,000.00')} ≥ {usd('10,000.00')}, 3 orders in window ≥ 3, "
            "last order 1 days ago ≤ 180."
        )
        self.assertEqual(move.reason, reason)
        # the profile's note says the same
        note = self._tier_notes(self.up)
        self.assertEqual(len(note), 1)
        self.assertIn(f"Reason: {reason}", html.unescape(str(note.body)))

    def test_down_names_the_conditions_no_longer_met(self):
        self._run(E)
        day = date(2024, 8, 15)
        self._run(day)
        move = self._move(self.quiet, day)
        self.assertEqual((move.direction, move.to_tier_id), ("down", self.tier_b))
        self.assertEqual(
            move.reason,
            f"No longer meets {self.tier_a.display_name}: last order 196 days "
            "ago > 180.",
        )
        self.assertFalse(self._history(self.dip, date=day), "Dip is still A")
        day = date(2024, 9, 15)
        self._run(day)
        move = self._move(self.dip, day)
        self.assertEqual((move.direction, move.to_tier_id), ("down", self.tier_b))
        self.assertEqual(
            move.reason,
            f"No longer meets {self.tier_a.display_name}: revenue in window "
            f"{usd('8,000.00')} < {usd('10,000.00')}, 2 orders in window < 3.",
        )

    def test_down_two_tiers_names_each_tier_left(self):
        """Up falls from B to D once its orders have left the window
        (2025-06-02: nothing in the window, last order 366 days ago): it
        misses B and C."""
        self._run(E)
        day = date(2025, 6, 2)
        self._run(day)
        move = self._move(self.up, day)
        self.assertEqual(
            (move.from_tier_id, move.to_tier_id), (self.tier_b, self.tier_d)
        )
        self.assertEqual(
            move.reason,
            f"No longer meets {self.tier_b.display_name}: revenue in window "
            f"{usd('0.00')} < {usd('2,000.00')}, 0 orders in window < 2, last "
            f"order 366 days ago > 270; No longer meets "
            f"{self.tier_c.display_name}: revenue in window {usd('0.00')} < "
            f"{usd('500.00')}, last order 366 days ago > 365.",
        )

    def test_grace_says_how_long_it_ran(self):
        self.program.write({"grace_unit": "evaluations", "grace_length": 2})
        self._run(E)
        self._run(date(2024, 9, 15))  # at risk, 1 evaluation
        self.assertFalse(self._history(self.dip, date=date(2024, 9, 15)))
        day = date(2024, 9, 30)
        self._run(day)
        move = self._move(self.dip, day)
        self.assertEqual(move.cause, "grace")
        a = self.tier_a.display_name
        self.assertEqual(
            move.reason,
            f"Grace ran out after 2 evaluations below {a}. No longer meets {a}: "
            f"revenue in window {usd('8,000.00')} < {usd('10,000.00')}, 2 orders "
            "in window < 3.",
        )

    def test_grace_in_days(self):
        self.program.write({"grace_unit": "days", "grace_length": 10})
        self._run(E)
        self._run(date(2024, 9, 15))
        day = date(2024, 9, 25)
        self._run(day)
        move = self._move(self.dip, day)
        self.assertEqual(move.cause, "grace")
        self.assertTrue(
            move.reason.startswith(
                f"Grace ran out after 10 days below {self.tier_a.display_name}. "
            ),
            move.reason,
        )

    def test_manual_override_keeps_its_own_reason(self):
        self._run(E)
        profile = self._profile(self.mid)
        profile.write({"manual_tier_id": self.tier_a.id, "manual_reason": "Key deal"})
        self.assertEqual(self._history(self.mid, cause="manual").reason, "Key deal")


@tagged("post_install", "-at_install")
class TestParetoReasons(AssignmentCase):
    """Pareto, grace 0. 2024-06-30: X 500, Y 300, Z 200 of 1,000: X 50 % (A),
    Y 80 % (A, bound inclusive), Z 100 % (C, beyond B's 95 %), Nil a
    prospect. W orders 2,000 on 2024-07-15; on 2024-07-30, of 3,000: W
    66.7 % (A), X 83.3 % (B), Y 93.3 % (B), Z C."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"method": "pareto", "grace_length": 0})
        cls.x, cls.y, cls.z, cls.w = (cls._customer(n) for n in ("X", "Y", "Z", "W"))
        cls._buy(cls.x, 500, E - timedelta(days=30))
        cls._buy(cls.y, 300, E - timedelta(days=40))
        cls._buy(cls.z, 200, E - timedelta(days=50))

    def test_cumulative_share_and_bound(self):
        """The reason says within or beyond which bound, not the share: it is
        stored on the history and the profile's chatter, which a salesperson
        limited to his own customers reads, and the company-wide share would
        tell him other customers' revenue."""
        a, b = self.tier_a.display_name, self.tier_b.display_name
        self._run(E)
        reasons = {row.partner_id: row.reason for row in self._history(date=E)}
        self.assertEqual(
            reasons,
            {
                self.x: f"Cumulative share within the 80 % bound of {a}.",
                self.y: f"Cumulative share within the 80 % bound of {a}.",
                self.z: f"Cumulative share beyond the 95 % bound of {b}.",
            },
        )
        self._buy(self.w, 2000, date(2024, 7, 15))
        day = date(2024, 7, 30)
        self._run(day)
        reasons = {
            row.partner_id: (row.direction, row.reason)
            for row in self._history(date=day)
        }
        self.assertEqual(
            reasons,
            {
                self.w: ("new", f"Cumulative share within the 80 % bound of {a}."),
                self.x: ("down", f"Cumulative share beyond the 80 % bound of {a}."),
                self.y: ("down", f"Cumulative share beyond the 80 % bound of {a}."),
            },
        )


@tagged("post_install", "-at_install")
class TestRfmReasons(AssignmentCase):
    """RFM on the five customers of test_assignment.TestRfmMethod: the
    segment and the scores that map to the tier."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_rfm_customers()

    def test_segment_and_scores(self):
        self._run(E)
        expected = {
            self.k2: ("champions", "R 4, F 5, M 5", self.tier_a),
            self.k4: ("hibernating", "R 2, F 2, M 2", self.tier_c),
            self.k5: ("cant_lose", "R 1, F 3, M 4", self.tier_b),
        }
        for partner, (code, scores, tier) in expected.items():
            move = self._history(partner, date=E)
            self.assertEqual(move.to_tier_id, tier, partner.name)
            self.assertEqual(
                move.reason,
                f"RFM segment {self.segments[code].name} ({scores}) maps to "
                f"{tier.display_name}.",
                partner.name,
            )


@tagged("post_install", "-at_install")
class TestReasonsInChinese(AssignmentCase):
    """A run in Chinese writes the reasons in Chinese (stored text)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_chinese(cls.env)
        # (the company's tiers were copied before zh_CN was installed)
        cls.tier_a.with_context(lang="zh_CN").name = "核心客户"
        cls.program.write({"grace_length": 0})
        cls.up = cls._customer("Up")
        cls._buy_many(cls.up, [(1500, date(2024, 3, 1)), (1500, date(2024, 6, 1))])

    def test_up_in_chinese(self):
        zh = self.env(context=dict(self.env.context, lang="zh_CN"))
        self.program.with_env(zh)._engine().run(eval_date=E)
        self._buy(self.up, 10000, date(2024, 7, 1))
        day = date(2024, 7, 2)
        self.program.with_env(zh)._engine().run(eval_date=day)
        move = self._history(self.up, date=day)
        tier = "A - 核心客户"
        self.assertEqual(
            move.reason,
            f"现已满足{tier}：评估期销售额 {usd('13,000.00')} ≥ {usd('10,000.00')}，"
            "评估期订单 3 笔 ≥ 3，最近一次下单距今 1 天 ≤ 180。",
        )


@tagged("post_install", "-at_install")
class TestReasonFormats(AssignmentCase):
    """The engine formats the figures of its reasons itself (the language
    looked up once per run): exactly as Odoo's ``formatLang`` and
    ``format_amount`` would, whatever the language and the currency."""

    def test_same_text_as_odoo(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["res.lang"]._activate_lang("fr_FR")
        # (groups of 3 take Python's grouping; 3 then 2 and no grouping the
        # language's own)
        self.env["res.lang"]._activate_lang("en_IN")
        self.env["res.lang"]._activate_lang("pl_PL")
        eur = self.env.ref("base.EUR")
        values = (0.0, 7.5, -1234.567, 1234567.891, 999.995, 1e12, -123.0)
        for lang in ("en_US", "zh_CN", "fr_FR", "en_IN", "pl_PL"):
            env = self.env(context=dict(self.env.context, lang=lang))
            for currency in (self.usd, eur):
                formats = _Formats(env, currency)
                for value in values:
                    self.assertEqual(
                        formats.amount(value), format_amount(env, value, currency)
                    )
                    for digits in (0, 1, 2):
                        self.assertEqual(
                            formats.number(value, digits),
                            formatLang(env, value, digits=digits),
                        )
