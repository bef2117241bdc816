"""Dimensions of a customer on its tier profile: searchable and groupable.

Written in the engine's set-based pass (one SQL statement each, per company):

* product preference: the revenue of the customer's order lines in the window
  (``sale.order`` in state ``sale`` of the company; ``price_subtotal`` divided
  by the order's ``currency_rate``: company currency; notes, sections, down
  payments and small-order fee lines left out) grouped by the product's
  category. The (at most) three categories with the most positive revenue are
  ``top_category_ids`` (a Many2many, to filter on "buys X among its top
  categories"), the first is ``main_category_id`` (a Many2one, to group by)
  with its share of the line revenue ``main_category_share``, and
  ``category_summary`` reads them with their shares in order. Empty for
  prospects and customers without lines in the window;
* region: among the program's regions (``region_group_ids``, country groups),
  the smallest one (fewest countries, then lowest id) that holds the
  customer's country. Country groups overlap (EU, SEPA, Europe ...): a
  stored Many2one picked by this rule can be grouped by, where the
  country's own Many2many cannot;
* partner facts (relationship type, company size, reputation, fit, source):
  stored related fields the ORM keeps current when the partner changes; the
  profile upsert copies them for the profiles it writes;
* region, needs and number of competing suppliers: stored fields written in
  SQL only, by one rule each (``_partner_fact_sql``, ``NEEDS_RELATION``):
  the profile upsert (and one DELETE/INSERT of the difference for the
  needs) for the profiles the engine writes, and the same rules for the
  profiles of a partner whose country, needs or competitor lines change and
  of a program whose regions change (``_sync_partner_facts``).

Share of wallet and the estimated purchases come with the prospect score
(:mod:`.customer_tier_prospect`); the frequency class, industry and country
are foundation figures.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from .customer_tier_engine import (
    ORDER_RATE,
    EngineFeature,
    counted_lines,
    counted_orders,
    in_window,
    partner_filter,
)

DIMENSION_COLUMNS = ("main_category_id", "main_category_share", "category_summary")
TOP_CATEGORIES = 3
# Region groups shipped with the module (data/customer_tier_dimension_data.xml)
DEFAULT_REGIONS = (
    "customer_tier.region_europe",
    "customer_tier.region_north_america",
    "customer_tier.region_central_america",
    "base.south_america",
    "customer_tier.region_middle_east",
    "customer_tier.region_africa",
    "customer_tier.region_east_asia",
    "customer_tier.region_southeast_asia",
    "customer_tier.region_south_asia",
    "customer_tier.region_central_asia",
    "customer_tier.region_oceania",
)


def competitor_count_sql(partner):
    """SQL expression: the number of competitor lines of the partner whose id
    is ``partner`` (an SQL expression)."""
    return SQL(
        "(SELECT COUNT(*) FROM customer_tier_competitor c WHERE c.partner_id = %s)",
        partner,
    )


def region_of(regions, country):
    """SQL expression: the region of ``country`` (an SQL expression of a
    country id) in ``regions``, the program's region of each country
    (:meth:`CustomerTierProgram._region_by_country`); NULL when none."""
    return SQL("(%s::int4[])[%s]", regions, country)


def relation_sync_sql(profiles, *relations):
    """One statement bringing relation tables of the profiles selected by
    ``profiles`` (SQL: ``SELECT id, partner_id`` of the profiles, the CTE
    ``prof``) to what they should hold: each relation is ``(table, column,
    desired)``, a table of (``profile_id``, ``column``) rows and the rows it
    should hold (SQL: ``SELECT profile_id, value``, may read ``prof``); the
    extra rows are deleted, the missing ones inserted."""
    parts = [SQL("prof AS (%s)", profiles)]
    for index, (table, column, desired) in enumerate(relations):
        wanted = SQL.identifier(f"desired_{index}")
        parts += [
            SQL("%s AS (%s)", wanted, desired),
            SQL(
                """
                %(removed)s AS (
                    DELETE FROM %(table)s r
                     USING prof
                     WHERE r.profile_id = prof.id
                       AND NOT EXISTS (
                           SELECT 1 FROM %(wanted)s d
                            WHERE d.profile_id = r.profile_id
                              AND d.value = r.%(column)s))
                """,
                removed=SQL.identifier(f"removed_{index}"),
                table=SQL.identifier(table),
                wanted=wanted,
                column=SQL.identifier(column),
            ),
            SQL(
                """
                %(added)s AS (
                    INSERT INTO %(table)s (profile_id, %(column)s)
                    SELECT profile_id, value FROM %(wanted)s
                    ON CONFLICT DO NOTHING)
                """,
                added=SQL.identifier(f"added_{index}"),
                table=SQL.identifier(table),
                wanted=wanted,
                column=SQL.identifier(column),
            ),
        ]
    return SQL("WITH %s SELECT 1", SQL(", ").join(parts))


# The needs of a profile: its partner's (a relation of relation_sync_sql).
NEEDS_RELATION = (
    "customer_tier_profile_need_rel",
    "need_id",
    SQL(
        "SELECT prof.id AS profile_id, pr.need_id AS value FROM prof "
        "JOIN res_partner_customer_tier_need_rel pr "
        "ON pr.partner_id = prof.partner_id"
    ),
)


class DimensionFeature(EngineFeature):
    """Product preference, region and partner facts (module docstring).

    Sequence 50, last: reads nothing of another feature. State:
    ``top_categories`` (partner id -> top category ids), from the figures to
    the relation table written after the upsert."""

    name = "dimension"
    sequence = 50
    columns = DIMENSION_COLUMNS

    def __init__(self, engine):
        super().__init__(engine)
        self.top_categories = {}

    @property
    def partner_columns(self):
        """Partner facts, copied by the profile upsert itself."""
        return {
            "relationship_type": SQL("p.tier_relationship_type"),
            "company_size": SQL("p.tier_company_size"),
            "reputation": SQL("p.tier_reputation"),
            "product_fit": SQL("p.tier_product_fit"),
            "source_id": SQL("p.tier_source_id"),
            **self.program._partner_fact_sql(),
        }

    def extend_figures(self, figures, eval_date, full):
        """Top categories of the customers whose orders changed or left the
        window since their profile was written (``engine.stale``; all on a
        refresh, a first evaluation, or after a change of the program, a
        product or a category): one scan of their order lines. The others
        keep the stored ones."""
        program, engine = self.program, self.engine
        scope = engine.feature_scope(figures, full)
        if engine.stale is not None:
            scope = sorted(engine.stale if scope is None else engine.stale & set(scope))
        rows = (
            program.env.execute_query(program._category_query(engine, eval_date, scope))
            if scope is None or scope
            else []
        )
        names = {}
        top = {}
        for pid, categ, name, revenue, total in rows:
            names[categ] = name
            top.setdefault(pid, []).append((categ, float(revenue) / float(total)))
        for rows_by_pid in (figures, engine.prospects):
            for pid, fig in rows_by_pid.items():
                if not fig["is_prospect"] and not engine.is_stale(pid):
                    # (its orders did not change: the stored categories hold)
                    stored = engine.state[pid]
                    fig.update((c, stored[c]) for c in DIMENSION_COLUMNS)
                    continue
                categories = top.get(pid, []) if not fig["is_prospect"] else []
                self.top_categories[pid] = [categ for categ, _share in categories]
                fig.update(
                    main_category_id=categories[0][0] if categories else None,
                    main_category_share=round(categories[0][1], 4)
                    if categories
                    else None,
                    category_summary=" · ".join(
                        f"{names[categ]} {share:.0%}" for categ, share in categories
                    )
                    or None,
                )

    def after_write(self, rows, changes, eval_date, full):
        # (the categories of the others are stored: their needs too, kept
        # by the partner's changes, _sync_partner_facts)
        rows = [row for row in rows if row["partner_id"] in self.top_categories]
        if rows:
            self.program._write_dimensions(self.engine, rows, self.top_categories)


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    region_group_ids = fields.Many2many(
        "res.country.group",
        "customer_tier_program_region_rel",
        "program_id",
        "group_id",
        string="Regions",
        help="Country groups that are regions for this company's reports. A "
        "customer's region is the smallest of these groups (fewest countries) "
        "that holds its country.",
    )

    @api.model
    def _init_default_regions(self):
        """Programs without regions get the shipped ones (install)."""
        groups = self.env["res.country.group"]
        for xmlid in DEFAULT_REGIONS:
            groups |= self.env.ref(xmlid, raise_if_not_found=False) or groups
        programs = self.with_context(active_test=False).search(
            [("region_group_ids", "=", False)]
        )
        if groups and programs:
            programs.write({"region_group_ids": [(6, 0, groups.ids)]})

    def write(self, vals):
        res = super().write(vals)
        if "region_group_ids" in vals:
            self.env["customer.tier.profile"].sudo().search(
                [("program_id", "in", self.ids)]
            )._sync_partner_facts()
        return res

    def _partner_fact_sql(self):
        """The partner facts the profile holds that are no copy of a partner
        field: column -> SQL expression on the partner (alias ``p``). The one
        definition of their rules, which the engine's upsert and
        :meth:`CustomerTierProfile._sync_partner_facts` write (no ORM compute).

        * ``region_id``: among the program's regions (country groups), the
          smallest (fewest countries, then lowest id) that holds the
          partner's country (:meth:`_region_by_country`);
        * ``competitor_count``: the partner's competitor lines."""
        self.ensure_one()
        return {
            "region_id": region_of(self._region_by_country(), SQL("p.country_id")),
            "competitor_count": competitor_count_sql(SQL("p.id")),
        }

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    def _category_query(self, engine, eval_date, partner_ids=None):
        """Top categories by window line revenue per commercial partner."""
        rate = ORDER_RATE
        return SQL(
            """
            WITH cat AS (
                SELECT p.commercial_partner_id AS pid,
                       pt.categ_id AS categ,
                       SUM(sol.price_subtotal / %(rate)s) AS revenue
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE %(counted)s
                   AND %(in_window)s
                   AND %(counted_lines)s
                       %(partner_filter)s
                 GROUP BY p.commercial_partner_id, pt.categ_id
            ), ranked AS (
                SELECT pid, categ, revenue,
                       SUM(GREATEST(revenue, 0)) OVER (PARTITION BY pid) AS total,
                       ROW_NUMBER() OVER (
                           PARTITION BY pid ORDER BY revenue DESC, categ
                       ) AS rn
                  FROM cat
            )
            SELECT ranked.pid, ranked.categ, pc.name, ranked.revenue, ranked.total
              FROM ranked
              JOIN product_category pc ON pc.id = ranked.categ
             WHERE ranked.rn <= %(top)s AND ranked.revenue > 0
             ORDER BY ranked.pid, ranked.rn
            """,
            rate=rate,
            counted=counted_orders(engine.company.id, eval_date),
            in_window=in_window(eval_date, self.window_months),
            counted_lines=counted_lines(),
            partner_filter=partner_filter(partner_ids),
            top=TOP_CATEGORIES,
        )

    def _engine_features(self):
        return [*super()._engine_features(), DimensionFeature]

    def _region_by_country(self):
        """The program's region of each country, as a list indexed by
        country id: the smallest group (fewest countries), then the lowest
        id, among the program's regions holding the country. One query."""
        self.ensure_one()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (country) country, grp
                  FROM (SELECT rel.res_country_id AS country,
                               rel.res_country_group_id AS grp,
                               COUNT(*) OVER (
                                   PARTITION BY rel.res_country_group_id) AS size
                          FROM res_country_res_country_group_rel rel
                          JOIN customer_tier_program_region_rel pr
                            ON pr.group_id = rel.res_country_group_id
                         WHERE pr.program_id = %s) AS candidates
                 ORDER BY country, size, grp
                """,
                self.id,
            )
        )
        # PostgreSQL arrays start at 1: position k holds country id k
        regions = [None] * max((country for country, _grp in rows), default=0)
        for country, grp in rows:
            regions[country - 1] = grp
        return regions

    def _write_dimensions(self, engine, rows, top_categories):
        """Top categories (``top_categories``: partner id -> category ids)
        and needs of the written profiles, in one statement: the two
        relation tables are brought to what they should hold (delete the
        extra rows, insert the missing ones). The scalar partner facts are
        written by the profile upsert (partner columns)."""
        pairs = [
            (row["partner_id"], categ)
            for row in rows
            for categ in top_categories.get(row["partner_id"]) or ()
        ]
        partners = [row["partner_id"] for row in rows]
        profiles = SQL(
            "SELECT id, partner_id FROM customer_tier_profile "
            "WHERE company_id = %s AND partner_id = ANY(%s)",
            engine.company.id,
            partners,
        )
        categories = (
            "customer_tier_profile_top_category_rel",
            "category_id",
            SQL(
                """
                SELECT prof.id AS profile_id, d.categ AS value
                  FROM unnest(%s::int[], %s::int[]) AS d(partner_id, categ)
                  JOIN prof ON prof.partner_id = d.partner_id
                """,
                [pid for pid, _categ in pairs],
                [categ for _pid, categ in pairs],
            ),
        )
        self.env.cr.execute(relation_sync_sql(profiles, categories, NEEDS_RELATION))
        self.env["customer.tier.profile"].invalidate_model(
            ["top_category_ids", "need_ids"]
        )


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    main_category_id = fields.Many2one(
        "product.category",
        readonly=True,
        index=True,
        help="Product category bringing the most revenue in the window.",
    )
    main_category_share = fields.Float(
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Share of the window revenue of the main category.",
    )
    top_category_ids = fields.Many2many(
        "product.category",
        "customer_tier_profile_top_category_rel",
        "profile_id",
        "category_id",
        string="Top Categories",
        readonly=True,
        help="The (at most three) product categories bringing the most revenue "
        "in the window.",
    )
    category_summary = fields.Char(
        string="Product Preference",
        readonly=True,
        help="Top categories with their share of the window revenue.",
    )
    region_id = fields.Many2one(
        "res.country.group",
        readonly=True,
        index=True,
        help="Smallest of the program's regions that holds the customer's country.",
    )
    relationship_type = fields.Selection(
        related="partner_id.tier_relationship_type", store=True
    )
    company_size = fields.Selection(related="partner_id.tier_company_size", store=True)
    reputation = fields.Selection(related="partner_id.tier_reputation", store=True)
    product_fit = fields.Selection(related="partner_id.tier_product_fit", store=True)
    source_id = fields.Many2one(related="partner_id.tier_source_id", store=True)
    need_ids = fields.Many2many(
        "customer.tier.need",
        "customer_tier_profile_need_rel",
        "profile_id",
        "need_id",
        string="Needs",
        readonly=True,
    )
    competitor_ids = fields.One2many(related="partner_id.tier_competitor_ids")
    competitor_count = fields.Integer(
        string="Competitors",
        readonly=True,
        aggregator="sum",
    )

    def _sync_partner_facts(self):
        """Region, competitor count and needs of the profiles, from their
        partner, by the rules the engine's upsert writes them with
        (:meth:`CustomerTierProgram._partner_fact_sql`, :data:`NEEDS_RELATION`):
        after a change of the partner's country or needs, of its competitor
        lines or of the program's regions. Two statements per program."""
        if not self:
            return
        self.env.flush_all()
        for program, profiles in self.grouped("program_id").items():
            facts = program._partner_fact_sql()
            columns = SQL(", ").join(SQL.identifier(c) for c in facts)
            values = SQL(", ").join(facts.values())
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET (%(columns)s) = (SELECT %(values)s)
                      FROM res_partner p
                     WHERE p.id = prof.partner_id
                       AND prof.id = ANY(%(ids)s)
                       AND (%(old)s) IS DISTINCT FROM (%(values)s)
                    """,
                    columns=columns,
                    values=values,
                    ids=profiles.ids,
                    old=SQL(", ").join(SQL.identifier("prof", c) for c in facts),
                )
            )
            self.env.cr.execute(
                relation_sync_sql(
                    SQL(
                        "SELECT id, partner_id FROM customer_tier_profile "
                        "WHERE id = ANY(%s)",
                        profiles.ids,
                    ),
                    NEEDS_RELATION,
                )
            )
        self.invalidate_recordset(["region_id", "competitor_count", "need_ids"])


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        res = super().write(vals)
        if {"country_id", "tier_need_ids"} & vals.keys():
            self._tier_sync_profile_facts()
        return res

    def _tier_sync_profile_facts(self):
        """Bring the partner facts of the partners' profiles up to date."""
        self.env["customer.tier.profile"].sudo().search(
            [("partner_id", "in", self.ids)]
        )._sync_partner_facts()


class CustomerTierCompetitor(models.Model):
    _inherit = "customer.tier.competitor"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.partner_id._tier_sync_profile_facts()
        return lines

    def write(self, vals):
        partners = self.partner_id
        res = super().write(vals)
        if "partner_id" in vals:
            (partners | self.partner_id)._tier_sync_profile_facts()
        return res

    def unlink(self):
        partners = self.partner_id
        res = super().unlink()
        partners._tier_sync_profile_facts()
        return res
