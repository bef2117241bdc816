from odoo import fields, models
from odoo.tools import SQL

BANDS = [
    ("1_top", "Top 20 % of customers"),
    ("2_rest", "Other 80 % of customers"),
]
DECILES = [
    ("01", "Top 10 %"),
    *[(f"{d + 1:02d}", f"{d * 10}-{(d + 1) * 10} %") for d in range(1, 10)],
]


class CustomerTierParetoReport(models.Model):
    """Buying customers ranked by window revenue, per company (80/20 view).

    The ranking is computed live from the profiles' window revenue, with the
    engine's tie-break (partner id), so it stays consistent between two full
    evaluations. Only customers with revenue in the window take part: they are
    "the customers" of the 80/20 rule. Only the profiles the user may read
    take part too: a salesperson limited to own documents sees the 80/20 of
    own customers (ranks, shares, bands and deciles among them), so no figure
    of the report reveals the revenue of another salesperson's customer.

    * ``customer_share``: percentage of the company's ranked customers at or
      above this one (rank / count);
    * ``band``: the top 20 % are the first ``ceil(0.2 * count)`` customers;
    * ``cumulative_share`` (aggregated with max): revenue of this customer and
      of every customer above it over the total, so the "Top 20 %" band's
      value is the headline "share of revenue held by the top 20 %".
    """

    _name = "customer.tier.pareto.report"
    _description = "Customer Tier Pareto Analysis"
    _auto = False
    _rec_name = "partner_id"
    _order = "company_id, pareto_rank"

    profile_id = fields.Many2one("customer.tier.profile", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    industry_id = fields.Many2one("res.partner.industry", readonly=True)
    tier_id = fields.Many2one("customer.tier", readonly=True)
    pareto_rank = fields.Integer(string="Rank", readonly=True, aggregator=None)
    revenue_window = fields.Monetary(string="Revenue (window)", readonly=True)
    revenue_share = fields.Float(
        string="Revenue Share (%)",
        readonly=True,
        digits=(16, 2),
        help="This customer's share of the company's window revenue, in %.",
    )
    cumulative_share = fields.Float(
        string="Cumulative Share (%)",
        readonly=True,
        digits=(16, 2),
        aggregator="max",
        help="Revenue of this customer and every customer ranked above it, over "
        "the company's window revenue, in %. Grouped, it shows the cumulative "
        "share reached at the end of the group: for the top 20 % band, the "
        "share of revenue the top 20 % of customers bring.",
    )
    customer_share = fields.Float(
        string="Customers Up To Here (%)",
        readonly=True,
        digits=(16, 2),
        aggregator="max",
        help="Share of the ranked customers at or above this one, in %.",
    )
    band = fields.Selection(BANDS, readonly=True)
    decile = fields.Selection(
        DECILES,
        string="Customer Decile",
        readonly=True,
        help="Tenth of the ranked customers this one falls in.",
    )

    @property
    def _table_query(self):
        # Ranked among the profiles the user may read (access rules of
        # customer.tier.profile): a salesperson limited to own documents gets
        # the 80/20 of own customers, never a share or rank that would reveal
        # the revenue of customers of other salespeople.
        visible = SQL("TRUE")
        if not self.env.su:
            profiles = self.env["customer.tier.profile"]._search([])
            visible = SQL("p.id IN %s", profiles.subselect())
        return SQL(
            """
            WITH ranked AS (
                SELECT p.id, p.partner_id, p.company_id, p.user_id, p.country_id,
                       p.industry_id, p.tier_id, p.revenue_window,
                       ROW_NUMBER() OVER w AS pareto_rank,
                       COUNT(*) OVER (PARTITION BY p.company_id) AS customers,
                       SUM(p.revenue_window) OVER (PARTITION BY p.company_id)
                           AS total,
                       SUM(p.revenue_window) OVER (
                           w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                       ) AS running
                  FROM customer_tier_profile p
                 WHERE NOT p.is_prospect AND p.revenue_window > 0 AND %s
                WINDOW w AS (PARTITION BY p.company_id
                             ORDER BY p.revenue_window DESC, p.partner_id)
            )
            SELECT id, id AS profile_id, partner_id, company_id, user_id,
                   country_id, industry_id, tier_id, pareto_rank, revenue_window,
                   100.0 * revenue_window / total AS revenue_share,
                   100.0 * running / total AS cumulative_share,
                   100.0 * pareto_rank / customers AS customer_share,
                   CASE WHEN pareto_rank <= CEIL(customers * 0.2)
                        THEN '1_top' ELSE '2_rest' END AS band,
                   LPAD(CEIL(pareto_rank * 10.0 / customers)::int::text, 2, '0')
                       AS decile
              FROM ranked
            """,
            visible,
        )
