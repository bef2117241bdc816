"""Issue 17 (3): no crash on a standard path or on bad input.

* the recompute preview at past evaluation dates, where customers move to
  "no tier" (they had not ordered yet then and get no prospect grade);
* every number and date a user types has a bound, checked where it is
  entered, as the user who may enter it; nothing of a refused value is saved;
* threshold tiers may not ask more than a better tier, prospect grades'
  minimum scores decrease from the best grade to the last.
"""

from datetime import date

from odoo.tests import tagged

from .test_assignment import AssignmentCase, E

PAST = date(2024, 1, 1)


@tagged("post_install", "-at_install")
class TestPreviewToNoTier(AssignmentCase):
    """At 2024-06-30: Late (first orders in May-June 2024) is C, Early (one
    order of 2023-05-01, 426 days old) is D. At 2024-01-01 Late had not
    ordered yet: a prospect without grade, "no tier"; Early's order was 245
    days old: C."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_length": 0})
        cls.late = cls._customer("Late")
        cls.early = cls._customer("Early")
        cls._buy_many(cls.late, [(300, date(2024, 5, 2)), (300, date(2024, 6, 2))])
        cls._buy_many(cls.early, [(600, date(2023, 5, 1))])
        cls._run(E)

    def _preview(self, eval_date):
        wizard = self._env_as(self.user_manager)["customer.tier.recompute"].create(
            {"program_id": self.program.id, "eval_date": eval_date}
        )
        wizard.action_preview()
        return wizard

    def test_preview_and_apply_moves_to_and_from_no_tier(self):
        self.assertEqual(self._profile(self.late).tier_id, self.tier_c)
        self.assertEqual(self._profile(self.early).tier_id, self.tier_d)
        wizard = self._preview(PAST)
        lines = {line.partner_id: line for line in wizard.line_ids}
        self.assertEqual(set(lines), {self.late, self.early})
        late = lines[self.late]
        self.assertEqual(
            (late.from_tier_id, late.to_tier_id, late.direction),
            (self.tier_c, self.env["customer.tier"], "down"),
        )
        # the list says "No tier" rather than leaving the cell blank
        self.assertEqual(
            (late.from_tier_label, late.to_tier_label), ("C - General", "No tier")
        )
        self.assertEqual(
            (lines[self.early].to_tier_id, lines[self.early].direction),
            (self.tier_c, "up"),
        )
        self.assertEqual((wizard.count_up, wizard.count_down), (1, 1))
        # summary: the tiers best first, "No tier" last
        summary = str(wizard.summary)
        self.assertIn("No tier", summary)
        self.assertLess(summary.index("C - General"), summary.index("No tier"))
        # apply writes exactly the preview
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertFalse(self._profile(self.late).tier_id)
        self.assertFalse(self.late.customer_tier_id)
        moves = self._history(self.late, date=PAST)
        self.assertEqual(
            (moves.from_tier_id, moves.to_tier_id, moves.direction),
            (self.tier_c, self.env["customer.tier"], "down"),
        )
        # and back: the move from "no tier" shows as such
        wizard = self._preview(E)
        back = wizard.line_ids.filtered(lambda line: line.partner_id == self.late)
        self.assertEqual(
            (back.from_tier_label, back.to_tier_label, back.direction),
            ("No tier", "C - General", "new"),
        )
        wizard.action_apply()
        self.assertEqual(self._profile(self.late).tier_id, self.tier_c)
