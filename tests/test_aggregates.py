"""Grouped lists add up only what adds up.

Revenue, margin, order counts and amounts are summed per group; thresholds,
fees, multipliers, intervals, scores, shares of a customer and days read as
numbers are not (an average where a manager reads one, else nothing).
"""

from datetime import date

from odoo.tests import tagged

from .test_assignment import AssignmentCase, E

# model -> {field: aggregator a grouped list shows (None: no total)}
NOT_ADDITIVE = {
    "customer.tier": dict.fromkeys(
        (
            "color",
            "min_revenue",
            "min_orders",
            "max_recency_days",
            "min_margin",
            "pareto_max_share",
            "min_order_amount",
            "fee_fixed",
            "fee_percent",
            "followup_interval",
            "points_multiplier",
            "min_score",
        )
    ),
    "customer.tier.profile": {
        "recency_days": "avg",
        "reorder_cycle_days": "avg",
        "orders_per_year": "avg",
        "average_order_value": "avg",
        "cumulative_share": None,
        "pareto_rank": None,
        "rfm_recency_score": "avg",
        "rfm_frequency_score": "avg",
        "rfm_monetary_score": "avg",
        "prospect_score": "avg",
        "share_of_wallet": "avg",
        "main_category_share": "avg",
        # (computed when read from the program's fit: no SQL to average)
        "prob_alive": None,
        "followup_interval": None,
    },
    "customer.tier.history": {"recency_days": "avg"},
    "customer.tier.rfm.segment": dict.fromkeys(("r_min", "r_max", "fm_min", "fm_max")),
    "customer.tier.competitor": {"estimated_share": "avg"},
    "customer.tier.key.date": dict.fromkeys(("date_month", "date_day")),
    "customer.tier.need": {"color": None},
    "customer.tier.decision.factor": {"color": None},
    "customer.tier.program": {"window_months": None},
    "customer.tier.pareto.report": {
        "pareto_rank": None,
        "cumulative_share": "max",
        "customer_share": "max",
    },
    "customer.tier.recompute.line": {"recency_days": "avg", "cumulative_share": None},
}

ADDITIVE = {
    "customer.tier.profile": (
        "revenue_window",
        "margin_window",
        "order_count_window",
        "revenue_total",
        "order_count",
        "revenue_share",  # shares of one whole: a tier's share of revenue
        "estimated_purchase",
        "open_quotation_amount",
    ),
    "customer.tier.history": ("revenue_window", "margin_window", "order_count_window"),
    "customer.tier.pareto.report": ("revenue_window", "revenue_share"),
}


@tagged("post_install", "-at_install")
class TestAggregates(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.one = cls._customer("One")
        cls.two = cls._customer("Two")
        # B: 2,000 / 2 in the window, last orders 30 and 90 days before E
        cls._buy_many(cls.one, [(1000, date(2024, 3, 1)), (1000, date(2024, 5, 31))])
        cls._buy_many(cls.two, [(1500, date(2024, 1, 1)), (1500, date(2024, 4, 1))])
        cls._run(E)

    def test_fields_get_aggregators(self):
        env = self._env_as(self.user_manager)
        for model, expected in NOT_ADDITIVE.items():
            described = env[model].fields_get(list(expected), attributes=["aggregator"])
            for name, aggregator in expected.items():
                self.assertEqual(
                    described[name].get("aggregator"),
                    aggregator,
                    f"{model}.{name}",
                )
        for model, names in ADDITIVE.items():
            described = env[model].fields_get(list(names), attributes=["aggregator"])
            for name in names:
                self.assertEqual(
                    described[name].get("aggregator"), "sum", f"{model}.{name}"
                )

    def test_tier_list_grouped_by_program(self):
        """The tier list grouped by program shows no sum of thresholds."""
        env = self._env_as(self.user_manager)
        names = list(NOT_ADDITIVE["customer.tier"])
        (group,) = env["customer.tier"].read_group(
            [("program_id", "=", self.program.id), ("kind", "=", "customer")],
            names,
            ["program_id"],
        )
        self.assertEqual(group["program_id_count"], 4)
        for name in names:
            self.assertNotIn(name, group)

    def test_profile_list_grouped_by_tier(self):
        """Grouped by tier: revenue and orders summed, days averaged, the
        cumulative share not added up."""
        env = self._env_as(self.user_manager)
        profiles = env["customer.tier.profile"].search(
            [("partner_id", "in", (self.one | self.two).ids)]
        )
        self.assertEqual(profiles.tier_id, self.tier_b)
        self.assertEqual(sorted(profiles.mapped("recency_days")), [30, 90])
        (group,) = env["customer.tier.profile"].read_group(
            [("id", "in", profiles.ids)],
            [
                "revenue_window",
                "order_count_window",
                "recency_days",
                "reorder_cycle_days",
                "cumulative_share",
                "pareto_rank",
            ],
            ["tier_id"],
        )
        self.assertEqual(group["revenue_window"], 5000)
        self.assertEqual(group["order_count_window"], 4)
        self.assertEqual(group["recency_days"], 60)
        self.assertAlmostEqual(
            group["reorder_cycle_days"],
            sum(profiles.mapped("reorder_cycle_days")) / 2,
        )
        self.assertNotIn("cumulative_share", group)
        self.assertNotIn("pareto_rank", group)

    def test_competitors_grouped_by_competitor(self):
        """A competitor's estimated shares at two customers: their average,
        not a share of 110 %."""
        env = self._env_as(self.user_manager)
        Competitor = env["customer.tier.competitor"]
        Competitor.create(
            [
                {"partner_id": self.one.id, "name": "Rival", "estimated_share": 40},
                {"partner_id": self.two.id, "name": "Rival", "estimated_share": 70},
            ]
        )
        (group,) = Competitor.read_group(
            [("name", "=", "Rival")], ["estimated_share"], ["name"]
        )
        self.assertEqual(group["name_count"], 2)
        self.assertEqual(group["estimated_share"], 55)
