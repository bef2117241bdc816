"""The Tier Migration matrix names the empty ends of a move: "New" (the
customer entered the tiering) and "No tier" (it left it), under the axis
titles "From tier" / "To tier", in English and in Chinese."""

from datetime import date

from odoo.tests import tagged

from .common import CustomerTierCase, load_chinese


@tagged("post_install", "-at_install")
class TestMigrationLabels(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_chinese(cls.env)
        cls.program.write({"grace_length": 0})
        cls.buyer = cls._customer("Migration Buyer")
        cls._order(cls.buyer, 20000, date(2024, 5, 2))
        cls._run()  # first evaluation: no tier -> a tier
        cls.first = cls.env["customer.tier.history"].search(
            [("partner_id", "=", cls.buyer.id)]
        )
        # a customer leaving the tiering (e.g. its tier removed by hand)
        cls.left = cls.env["customer.tier.history"].create(
            {
                "profile_id": cls._profile(cls.buyer).id,
                "date": cls.eval_date,
                "from_tier_id": cls.first.to_tier_id.id,
                "to_tier_id": False,
                "cause": "manual",
                "revenue_window": 20000,
            }
        )
        cls.domain = [("partner_id", "=", cls.buyer.id)]

    def _history(self, lang=None):
        History = self._env_as(self.user_manager)["customer.tier.history"]
        return History.with_context(lang=lang) if lang else History

    def _matrix(self, History):
        """The cells of the migration pivot: its row and column groupbys."""
        action = self.env.ref("customer_tier.customer_tier_migration_action")
        pivot = next(v for v in action.view_ids if v.view_mode == "pivot").view_id
        arch = History.get_view(pivot.id, "pivot")["arch"]
        self.assertIn('<field name="from_tier_id" type="row"/>', arch)
        self.assertIn('<field name="to_tier_id" type="col"/>', arch)
        groups = History.read_group(
            self.domain,
            ["revenue_window:sum"],
            ["from_tier_id", "to_tier_id"],
            lazy=False,
        )
        return {(g["from_tier_id"], g["to_tier_id"]): g for g in groups}

    def test_matrix_names_new_and_no_tier(self):
        self.assertEqual(len(self.first), 1)
        self.assertFalse(self.first.from_tier_id)
        tier = self.first.to_tier_id
        self.assertTrue(tier)
        History = self._history()
        cells = self._matrix(History)
        self.assertEqual(
            set(cells),
            {
                ((False, "New"), (tier.id, tier.display_name)),
                ((tier.id, tier.display_name), (False, "No tier")),
            },
        )
        new = cells[(False, "New"), (tier.id, tier.display_name)]
        self.assertEqual(new["__count"], 1)
        # drilling down still finds the rows of the cell
        self.assertEqual(History.search(new["__domain"]), self.first)
        gone = cells[(tier.id, tier.display_name), (False, "No tier")]
        self.assertEqual(History.search(gone["__domain"]), self.left)
        self.assertEqual(gone["revenue_window"], 20000)
        # the graph and the grouped list (web_read_group, lazy)
        lazy = History.web_read_group(
            self.domain, ["revenue_window:sum"], ["to_tier_id"]
        )
        self.assertIn((False, "No tier"), [g["to_tier_id"] for g in lazy["groups"]])
        lazy = History.web_read_group(
            self.domain, ["revenue_window:sum"], ["from_tier_id"]
        )
        self.assertIn((False, "New"), [g["from_tier_id"] for g in lazy["groups"]])
        # axis titles
        fields = History.fields_get(["from_tier_id", "to_tier_id"], ["string"])
        self.assertEqual(fields["from_tier_id"]["string"], "From tier")
        self.assertEqual(fields["to_tier_id"]["string"], "To tier")

    def test_matrix_in_chinese(self):
        History = self._history("zh_CN")
        cells = self._matrix(History)
        labels = {label for pair in cells for _id, label in pair}
        self.assertIn("新客户", labels)
        self.assertIn("无分层", labels)
        self.assertNotIn("New", labels)
        fields = History.fields_get(["from_tier_id", "to_tier_id"], ["string"])
        self.assertEqual(fields["from_tier_id"]["string"], "原分层")
        self.assertEqual(fields["to_tier_id"]["string"], "新分层")
