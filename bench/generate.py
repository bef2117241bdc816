#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""Fill a database with customers and sale orders for the scale benchmark.

Usage (from the repository root, Odoo 18 importable)::

    python3 bench/generate.py --db ct_bench_small --size small
    python3 bench/generate.py --db ct_bench_large --size large
    python3 bench/generate.py --db NAME --customers 5000 --orders 120000

The database must already have the module installed, without demo data, e.g.::

    python3 -m odoo -d NAME --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/tmp/ct_addons \\
        -i customer_tier --without-demo=all --stop-after-init

What it writes, in the main company, through bulk SQL (``INSERT ... SELECT``
over ``generate_series`` / ``unnest``; only the handful of salespeople and the
three pricelists go through the ORM):

* EUR and CNY activated next to the company currency (USD) with a daily rate
  over the last three years (random walk), and one pricelist per currency;
* products with a list price and a cost (15 % sales tax);
* N customer companies in twelve countries (currency by country), each with
  one to three contacts, a salesperson, an industry and a pricelist; about 5 %
  never buy (prospects);
* M sale orders with one to five lines each, dated within each customer's
  active span over three years: about 85 % confirmed (``sale``), 10 % recent
  quotations (``draft``), 5 % cancelled. Values are Pareto-shaped: a customer's
  weight follows a Pareto law (alpha 1.16, the 80/20 rule); its order count
  and its order size both grow with the weight to the power 0.6.

Amounts are consistent the way the ORM would have stored them: line
``price_subtotal = qty * price_unit``, ``price_tax`` (15 %, rounded per line),
``price_total``, ``purchase_price`` (cost in order currency) and ``margin``;
order ``amount_untaxed``/``amount_tax``/``amount_total``/``margin`` are the
sums of the lines, ``currency_rate`` is the rate of the order currency on the
order date relative to the company currency (as ``sale.order`` computes it).

Sizes: ``small`` = 2,000 customers / 50,000 orders, ``large`` = 20,000 /
500,000. The run is deterministic for a given ``--seed``. It refuses to run
twice on the same database (drop and recreate it instead).
"""

import math
import random
import sys
import time
from datetime import date, timedelta

from _common import new_parser, setup_odoo, timed, vacuum

SIZES = {
    "small": {"customers": 2_000, "orders": 50_000, "products": 300},
    "large": {"customers": 20_000, "orders": 500_000, "products": 1_000},
}
# country code -> (currency code, weight)
COUNTRIES = {
    "US": ("USD", 14),
    "GB": ("USD", 6),
    "AE": ("USD", 5),
    "IN": ("USD", 6),
    "AU": ("USD", 4),
    "BR": ("USD", 5),
    "DE": ("EUR", 10),
    "FR": ("EUR", 7),
    "IT": ("EUR", 5),
    "ES": ("EUR", 5),
    "NL": ("EUR", 4),
    "CN": ("CNY", 14),
}
# currency code -> (start rate per company currency unit, daily volatility)
RATES = {"EUR": (0.92, 0.004), "CNY": (7.10, 0.003)}
STATES = (("sale", 0.85), ("draft", 0.10), ("cancel", 0.05))
PROSPECT_SHARE = 0.05
PARETO_ALPHA = 1.16
# order count and order size each grow with weight ** SIZE_EXPONENT
SIZE_EXPONENT = 0.6
TAX_RATE = 0.15
DAYS = 3 * 365
BENCH_REF = "BENCH-"
FILLED_TABLES = (
    "res_partner",
    "res_currency_rate",
    "product_template",
    "product_product",
    "product_taxes_rel",
    "sale_order",
    "sale_order_line",
    "account_tax_sale_order_line_rel",
)


def parse_args(argv):
    parser = new_parser(__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--customers", type=int, help="override the size's N")
    parser.add_argument("--orders", type=int, help="override the size's M")
    parser.add_argument("--products", type=int, help="override the product count")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=date.today(),
        help="last day of the generated history (default: today)",
    )
    return parser.parse_args(argv)


def ref_id(env, xmlid):
    return env.ref(xmlid).id


def unnest_insert(cr, table, columns, rows, types):
    """Insert ``rows`` (tuples) into ``table`` with one ``unnest`` statement."""
    if not rows:
        return
    arrays = [list(col) for col in zip(*rows, strict=True)]
    selects = ", ".join(f"%s::{t}[]" for t in types)
    cr.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({selects})",
        arrays,
    )


class Generator:
    def __init__(self, env, args):
        self.env = env
        self.cr = env.cr
        self.args = args
        size = SIZES[args.size]
        self.n_customers = args.customers or size["customers"]
        self.n_orders = args.orders or size["orders"]
        self.n_products = args.products or size["products"]
        self.rng = random.Random(args.seed)
        self.today = args.today
        self.start = self.today - timedelta(days=DAYS)
        self.company = env.ref("base.main_company")
        self.timings = {}

    # ------------------------------------------------------------------
    def check(self):
        cr = self.cr
        cr.execute(
            "SELECT name, state FROM ir_module_module "
            "WHERE name IN ('sale_margin', 'customer_tier')"
        )
        states = dict(cr.fetchall())
        if states.get("sale_margin") != "installed":
            sys.exit("sale_margin is not installed in this database.")
        if states.get("customer_tier") != "installed":
            print("warning: customer_tier is not installed in this database.")
        cr.execute(
            "SELECT 1 FROM res_partner WHERE ref LIKE %s LIMIT 1", [BENCH_REF + "%"]
        )
        if cr.fetchone():
            sys.exit(
                "This database already holds benchmark data: drop and recreate it."
            )
        if self.company.currency_id.name != "USD":
            print(
                f"note: company currency is {self.company.currency_id.name}; "
                "rates are generated for EUR and CNY against it."
            )
        # One session, deterministic random(): no parallel workers.
        cr.execute("SET max_parallel_workers_per_gather = 0")
        # Bulk load: the rows are consistent by construction, so skip the
        # per-row foreign-key triggers (needs a superuser role, as Odoo's).
        cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        self.replica = cr.fetchone()[0]
        if self.replica:
            cr.execute("SET session_replication_role = replica")
        else:
            print("note: not a superuser role: foreign keys are checked row by row.")
        cr.execute("SELECT setseed(%s)", [(self.args.seed % 1000) / 1000.0])

    # ------------------------------------------------------------------
    def currencies(self):
        """Activate EUR/CNY, daily rates over three years, one pricelist each."""
        env, cr = self.env, self.cr
        company_currency = self.company.currency_id
        codes = ["USD", "EUR", "CNY"]
        currencies = (
            env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", codes)])
        )
        currencies.filtered(lambda c: not c.active).write({"active": True})
        self.currency_ids = {c.name: c.id for c in currencies}
        rows = []
        for code, (rate, vol) in RATES.items():
            if code == company_currency.name:
                continue
            day = self.start - timedelta(days=7)
            while day <= self.today:
                rate *= math.exp(self.rng.gauss(0.0, vol))
                rows.append((self.currency_ids[code], day, round(rate, 6)))
                day += timedelta(days=1)
        cr.execute(
            "DELETE FROM res_currency_rate WHERE company_id = %s "
            "AND currency_id = ANY(%s) AND name >= %s",
            [self.company.id, [r[0] for r in rows], self.start - timedelta(days=7)],
        )
        cr.execute(
            "INSERT INTO res_currency_rate (currency_id, name, rate, company_id, "
            "create_uid, write_uid, create_date, write_date) "
            "SELECT c, d, r, %s, 1, 1, now() at time zone 'UTC', "
            "now() at time zone 'UTC' "
            "FROM unnest(%s::int[], %s::date[], %s::numeric[]) AS t(c, d, r)",
            [self.company.id, *[list(col) for col in zip(*rows, strict=True)]],
        )
        # rate of each currency per day (company currency: 1)
        cr.execute(
            "CREATE TEMP TABLE bench_rate (currency_id int, day date, rate numeric)"
        )
        cr.execute(
            """
            INSERT INTO bench_rate
            SELECT c.id, d::date,
                   COALESCE((SELECT r.rate FROM res_currency_rate r
                              WHERE r.currency_id = c.id AND r.name <= d::date
                                AND (r.company_id IS NULL OR r.company_id = %s)
                              ORDER BY r.company_id, r.name DESC LIMIT 1), 1.0)
              FROM res_currency c,
                   generate_series(%s::date, %s::date, '1 day') d
             WHERE c.id = ANY(%s)
            """,
            [
                self.company.id,
                self.start,
                self.today + timedelta(days=1),
                list(self.currency_ids.values()),
            ],
        )
        cr.execute("CREATE UNIQUE INDEX ON bench_rate (currency_id, day)")
        # relative to the company currency, as sale.order.currency_rate
        cr.execute(
            "UPDATE bench_rate r SET rate = r.rate / c.rate FROM bench_rate c "
            "WHERE c.currency_id = %s AND c.day = r.day",
            [company_currency.id],
        )
        Pricelist = env["product.pricelist"]
        self.pricelist_ids = {}
        for code in codes:
            pricelist = Pricelist.create(
                {
                    "name": f"Bench {code}",
                    "currency_id": self.currency_ids[code],
                    "company_id": self.company.id,
                }
            )
            self.pricelist_ids[code] = pricelist.id
        env.flush_all()

    # ------------------------------------------------------------------
    def salespeople(self):
        env = self.env
        group = env.ref("sales_team.group_sale_salesman")
        users = env["res.users"].with_context(
            no_reset_password=True, tracking_disable=True
        )
        self.user_ids = users.create(
            [
                {
                    "name": f"Bench Salesperson {i}",
                    "login": f"bench_sales_{i}",
                    "email": f"bench_sales_{i}@example.com",
                    "company_id": self.company.id,
                    "company_ids": [(6, 0, [self.company.id])],
                    "groups_id": [(6, 0, [group.id, env.ref("base.group_user").id])],
                }
                for i in range(1, 7)
            ]
        ).ids
        self.team_id = env.ref("sales_team.team_sales_department").id
        env.flush_all()

    # ------------------------------------------------------------------
    def products(self):
        cr, rng = self.cr, self.rng
        n = self.n_products
        rows = []
        for i in range(n):
            price = round(
                min(max(math.exp(rng.gauss(math.log(40), 1.0)), 1.0), 5000.0), 2
            )
            cost = round(price * rng.uniform(0.45, 0.8), 2)
            rows.append(
                (i, f"Bench Product {i + 1:05d}", f"BP{i + 1:05d}", price, cost)
            )
        cr.execute(
            "CREATE TEMP TABLE bench_product (idx int PRIMARY KEY, name text, "
            "code text, list_price numeric, cost numeric, tmpl_id int, product_id int)"
        )
        unnest_insert(
            cr,
            "bench_product",
            ["idx", "name", "code", "list_price", "cost"],
            rows,
            ["int", "text", "text", "numeric", "numeric"],
        )
        categ = ref_id(self.env, "product.product_category_all")
        uom = ref_id(self.env, "uom.product_uom_unit")
        cr.execute(
            "UPDATE bench_product SET tmpl_id = nextval('product_template_id_seq'), "
            "product_id = nextval('product_product_id_seq')"
        )
        cr.execute(
            """
            INSERT INTO product_template
                (id, name, default_code, categ_id, uom_id, uom_po_id, type,
                 service_tracking, sale_line_warn, list_price, volume, weight,
                 sale_ok, purchase_ok, active, can_image_1024_be_zoomed,
                 has_configurable_attributes, service_type, expense_policy,
                 invoice_policy, sequence, create_uid, write_uid, create_date,
                 write_date)
            SELECT tmpl_id, jsonb_build_object('en_US', name), code, %s, %s, %s,
                   'consu', 'no', 'no-message', list_price, 0, 0, true, true, true,
                   false, false, 'manual', 'no', 'order', 1, 1, 1,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM bench_product
            """,
            [categ, uom, uom],
        )
        cr.execute(
            """
            INSERT INTO product_product
                (id, product_tmpl_id, default_code, combination_indices,
                 standard_price, active, can_image_variant_1024_be_zoomed,
                 create_uid, write_uid, create_date, write_date)
            SELECT product_id, tmpl_id, code, '',
                   jsonb_build_object(%s::text, cost), true, false, 1, 1,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM bench_product
            """,
            [str(self.company.id)],
        )
        self.tax = self.env["account.tax"].search(
            [
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "=", TAX_RATE * 100),
                ("price_include", "=", False),
                ("company_id", "=", self.company.id),
            ],
            limit=1,
        )
        if self.tax:
            cr.execute(
                "INSERT INTO product_taxes_rel (prod_id, tax_id) "
                "SELECT tmpl_id, %s FROM bench_product",
                [self.tax.id],
            )
        else:
            print("note: no 15 % sales tax found; lines get no tax.")

    # ------------------------------------------------------------------
    def customers(self):
        cr, rng, env = self.cr, self.rng, self.env
        n = self.n_customers
        country_ids = {
            c.code: c.id
            for c in env["res.country"].search([("code", "in", list(COUNTRIES))])
        }
        codes = list(COUNTRIES)
        weights = [COUNTRIES[c][1] for c in codes]
        industry_ids = env["res.partner.industry"].search([]).ids or [None]
        # Pareto weights; order count and order size each ~ weight ** 0.6
        custs = []
        for i in range(n):
            country = rng.choices(codes, weights)[0]
            currency = COUNTRIES[country][0]
            weight = min(rng.paretovariate(PARETO_ALPHA), 2000.0)
            buying = rng.random() >= PROSPECT_SHARE
            # active span: starts within the first 2.5 years; 70 % still active
            start = rng.randint(0, int(DAYS * 0.85))
            end = DAYS if rng.random() < 0.7 else rng.randint(start, DAYS)
            custs.append(
                {
                    "idx": i,
                    "country_id": country_ids[country],
                    "currency_id": self.currency_ids[currency],
                    "pricelist_id": self.pricelist_ids[currency],
                    "user_id": rng.choice(self.user_ids),
                    "industry_id": rng.choice(industry_ids),
                    "weight": weight,
                    "buying": buying,
                    "span_start": self.start + timedelta(days=start),
                    "span_end": self.start + timedelta(days=end),
                    "discount": round(rng.uniform(0.85, 1.0), 3),
                    "order_value": 1500.0
                    * weight**SIZE_EXPONENT
                    * rng.uniform(0.6, 1.6),
                    "contacts": rng.choice((1, 1, 2, 2, 3)),
                    "n_orders": 0,
                }
            )
        # distribute the M orders: one each for buyers, the rest ~ weight ** 0.6
        buyers = [c for c in custs if c["buying"]]
        extra = self.n_orders - len(buyers)
        if extra < 0:
            sys.exit("Fewer orders than buying customers: raise --orders.")
        total = sum(c["weight"] ** SIZE_EXPONENT for c in buyers)
        shares = [extra * c["weight"] ** SIZE_EXPONENT / total for c in buyers]
        for cust, share in zip(buyers, shares, strict=True):
            cust["n_orders"] = 1 + int(share)
        left = self.n_orders - sum(c["n_orders"] for c in buyers)
        by_remainder = sorted(
            range(len(buyers)), key=lambda k: shares[k] - int(shares[k]), reverse=True
        )
        for k in by_remainder[:left]:
            buyers[k]["n_orders"] += 1

        cr.execute(
            """
            CREATE TEMP TABLE bench_customer (
                idx int PRIMARY KEY, partner_id int, country_id int, currency_id int,
                pricelist_id int, user_id int, industry_id int, n_orders int,
                span_start date, span_end date, discount numeric,
                order_value numeric, contacts int, contact_ids int[])
            """
        )
        columns = [
            "idx",
            "country_id",
            "currency_id",
            "pricelist_id",
            "user_id",
            "industry_id",
            "n_orders",
            "span_start",
            "span_end",
            "discount",
            "order_value",
            "contacts",
        ]
        types = [
            "int",
            "int",
            "int",
            "int",
            "int",
            "int",
            "int",
            "date",
            "date",
            "numeric",
            "numeric",
            "int",
        ]
        unnest_insert(
            cr,
            "bench_customer",
            columns,
            [[c[k] for k in columns] for c in custs],
            types,
        )
        cr.execute(
            "UPDATE bench_customer SET partner_id = nextval('res_partner_id_seq')"
        )
        company_key = str(self.company.id)
        cr.execute(
            """
            INSERT INTO res_partner
                (id, name, complete_name, commercial_company_name, ref, is_company,
                 commercial_partner_id, country_id, industry_id, user_id, lang,
                 type, email, email_normalized, active, partner_share,
                 customer_rank, supplier_rank, color, message_bounce, invoice_warn,
                 sale_warn, autopost_bills, city,
                 specific_property_product_pricelist,
                 create_uid, write_uid, create_date, write_date)
            SELECT partner_id, nm, nm, nm, %(ref)s || lpad(idx::text, 6, '0'), true,
                   partner_id, country_id, industry_id, user_id, 'en_US',
                   'contact', em, em, true, true,
                   1, 0, 0, 0, 'no-message',
                   'no-message', 'ask', 'City ' || (idx %% 97),
                   jsonb_build_object(%(company)s::text, pricelist_id),
                   1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (SELECT *, 'Bench Customer ' || lpad(idx::text, 6, '0') AS nm,
                           'buyer' || idx || '@customer' || idx || '.example' AS em
                      FROM bench_customer) c
            """,
            {"ref": BENCH_REF, "company": company_key},
        )
        cr.execute(
            """
            CREATE TEMP TABLE bench_contact AS
            SELECT nextval('res_partner_id_seq') AS id, c.partner_id AS parent_id,
                   c.idx, g AS k, c.country_id, c.user_id
              FROM bench_customer c, generate_series(1, c.contacts) g
            """
        )
        cr.execute(
            """
            INSERT INTO res_partner
                (id, name, complete_name, commercial_company_name, parent_id,
                 is_company, commercial_partner_id, country_id, user_id, lang, type,
                 email, email_normalized, active, partner_share, customer_rank,
                 supplier_rank, color, message_bounce, invoice_warn, sale_warn,
                 autopost_bills, create_uid, write_uid, create_date, write_date)
            SELECT t.id, t.nm, t.parent_name || ', ' || t.nm, t.parent_name,
                   t.parent_id,
                   false, t.parent_id, t.country_id, t.user_id, 'en_US', 'contact',
                   t.em, t.em, true, true, 0, 0, 0, 0, 'no-message', 'no-message',
                   'ask', 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (SELECT *, 'Contact ' || k || ' of ' || idx AS nm,
                           'Bench Customer ' || lpad(idx::text, 6, '0') AS parent_name,
                           'contact' || k || '@customer' || idx || '.example' AS em
                      FROM bench_contact) t
            """
        )
        cr.execute(
            """
            UPDATE bench_customer c SET contact_ids = t.ids
              FROM (SELECT idx, array_agg(id ORDER BY k) AS ids
                      FROM bench_contact GROUP BY idx) t
             WHERE t.idx = c.idx
            """
        )

    # ------------------------------------------------------------------
    def orders(self):
        cr = self.cr
        draft_from = self.today - timedelta(days=45)
        p_sale, p_draft = STATES[0][1], STATES[1][1]
        # one row per order: customer, ordering partner, date, state, size
        cr.execute(
            """
            CREATE TEMP TABLE bench_order AS
            SELECT o.*, r.rate,
                   row_number() OVER (ORDER BY o.date_order, o.seq) AS num
              FROM (
                SELECT c.partner_id AS customer_id, g AS seq,
                       -- the company itself or one of its contacts orders
                       CASE WHEN u.pick = 0 THEN c.partner_id
                            ELSE c.contact_ids[u.pick] END AS partner_id,
                       c.currency_id, c.pricelist_id, c.user_id, c.discount,
                       u.state,
                       CASE WHEN u.state = 'draft'
                            THEN %(draft_from)s::timestamp
                                 + (u.r_date * (%(today)s::date - %(draft_from)s::date))
                                   * interval '1 day'
                            ELSE c.span_start::timestamp
                                 + (u.r_date * (c.span_end - c.span_start + 1))
                                   * interval '1 day'
                       END AS date_order,
                       1 + floor(u.r_lines * 5)::int AS n_lines,
                       -- order value in company currency, lognormal around the
                       -- customer's typical order value
                       c.order_value * exp(0.5 * sqrt(-2 * ln(1 - u.r1))
                                           * cos(2 * pi() * u.r2)) AS value
                  FROM bench_customer c
                 CROSS JOIN generate_series(1, c.n_orders) g
                 CROSS JOIN LATERAL (
                    SELECT floor(random() * (c.contacts + 1))::int AS pick,
                           CASE WHEN s < %(p_sale)s THEN 'sale'
                                WHEN s < %(p_sale)s + %(p_draft)s THEN 'draft'
                                ELSE 'cancel' END AS state,
                           random() AS r_date, random() AS r_lines,
                           random() AS r1, random() AS r2
                      FROM (SELECT random() AS s, g AS _g) x
                 ) u
              ) o
              JOIN bench_rate r
                ON r.currency_id = o.currency_id AND r.day = o.date_order::date
            """,
            {
                "draft_from": draft_from,
                "today": self.today,
                "p_sale": p_sale,
                "p_draft": p_draft,
            },
        )
        cr.execute("ALTER TABLE bench_order ADD COLUMN id int")
        cr.execute("UPDATE bench_order SET id = nextval('sale_order_id_seq')")
        cr.execute("CREATE UNIQUE INDEX ON bench_order (id)")
        cr.execute("SELECT COUNT(*) FROM bench_product")
        n_products = cr.fetchone()[0]
        # one row per line: product (popular ones more often), qty, prices
        cr.execute(
            """
            CREATE TEMP TABLE bench_line AS
            WITH l AS MATERIALIZED (
                SELECT o.id AS order_id, g AS seq, o.rate, o.discount, o.state,
                       o.value / o.n_lines AS line_value,
                       floor(power(random(), 2) * %(n_products)s)::int AS pidx,
                       random() AS r_qty
                  FROM bench_order o, generate_series(1, o.n_lines) g
            )
            SELECT nextval('sale_order_line_id_seq') AS id, l.order_id,
                   l.seq * 10 AS sequence, l.state, p.product_id, p.name,
                   q.qty, q.price_unit, q.purchase_price,
                   round(q.qty * q.price_unit, 2) AS subtotal
              FROM l
              JOIN bench_product p ON p.idx = l.pidx
             CROSS JOIN LATERAL (
                SELECT greatest(1, round(l.line_value / (p.list_price * l.discount)
                                         * (0.5 + l.r_qty)))::numeric AS qty,
                       round(p.list_price * l.discount * l.rate, 2) AS price_unit,
                       round(p.cost * l.rate, 2) AS purchase_price
             ) q
            """,
            {"n_products": n_products},
        )
        tax = TAX_RATE if self.tax else 0.0
        cr.execute(
            """
            ALTER TABLE bench_line ADD COLUMN tax numeric, ADD COLUMN margin numeric;
            UPDATE bench_line SET tax = round(subtotal * %s, 2),
                                  margin = round(subtotal - purchase_price * qty, 2);
            CREATE INDEX ON bench_line (order_id);
            ANALYZE bench_line;
            ANALYZE bench_order;
            """,
            [tax],
        )

    def write_orders(self):
        cr = self.cr
        company = self.company.id
        cr.execute(
            """
            INSERT INTO sale_order
                (id, company_id, partner_id, partner_invoice_id, partner_shipping_id,
                 name, date_order, state, pricelist_id, currency_id, currency_rate,
                 user_id, team_id, invoice_status, validity_date,
                 amount_untaxed, amount_tax, amount_total, margin, margin_percent,
                 locked, require_signature, require_payment, prepayment_percent,
                 create_uid, write_uid, create_date, write_date)
            SELECT o.id, %(company)s, o.partner_id, o.partner_id, o.partner_id,
                   'S' || lpad(o.num::text, 5, '0'), date_trunc('second', o.date_order),
                   o.state, o.pricelist_id, o.currency_id, o.rate,
                   o.user_id, %(team)s,
                   CASE o.state WHEN 'sale' THEN 'to invoice' ELSE 'no' END,
                   CASE o.state WHEN 'draft' THEN o.date_order::date + 30 END,
                   a.untaxed, a.tax, a.untaxed + a.tax, a.margin,
                   CASE WHEN a.untaxed <> 0 THEN a.margin / a.untaxed ELSE 0 END,
                   false, true, false, 1.0,
                   1, 1, o.date_order, o.date_order
              FROM bench_order o
              JOIN (SELECT order_id, SUM(subtotal) AS untaxed, SUM(tax) AS tax,
                           SUM(margin) AS margin
                      FROM bench_line GROUP BY order_id) a ON a.order_id = o.id
            """,
            {"company": company, "team": self.team_id},
        )

    def write_lines(self):
        cr = self.cr
        company = self.company.id
        uom = ref_id(self.env, "uom.product_uom_unit")
        cr.execute(
            """
            INSERT INTO sale_order_line
                (id, order_id, sequence, name, product_id, product_uom,
                 product_uom_qty, price_unit, technical_price_unit, discount,
                 price_subtotal, price_tax, price_total, price_reduce_taxexcl,
                 price_reduce_taxinc, purchase_price, margin, margin_percent,
                 customer_lead, company_id, currency_id, order_partner_id,
                 salesman_id, state, qty_delivered_method, invoice_status,
                 qty_delivered, qty_invoiced, qty_to_invoice,
                 untaxed_amount_invoiced, untaxed_amount_to_invoice,
                 product_packaging_qty, is_downpayment, is_expense,
                 create_uid, write_uid, create_date, write_date)
            SELECT l.id, l.order_id, l.sequence, l.name, l.product_id, %(uom)s,
                   l.qty, l.price_unit, l.price_unit, 0,
                   l.subtotal, l.tax, l.subtotal + l.tax, round(l.subtotal / l.qty, 2),
                   round((l.subtotal + l.tax) / l.qty, 2), l.purchase_price, l.margin,
                   CASE WHEN l.subtotal <> 0 THEN l.margin / l.subtotal ELSE 0 END,
                   0, %(company)s, o.currency_id, o.partner_id,
                   o.user_id, l.state, 'manual',
                   CASE l.state WHEN 'sale' THEN 'to invoice' ELSE 'no' END,
                   0, 0, CASE l.state WHEN 'sale' THEN l.qty ELSE 0 END,
                   0, CASE l.state WHEN 'sale' THEN l.subtotal ELSE 0 END,
                   0, false, false,
                   1, 1, o.date_order, o.date_order
              FROM bench_line l
              JOIN bench_order o ON o.id = l.order_id
            """,
            {"uom": uom, "company": company},
        )

    def write_taxes(self):
        cr = self.cr
        company = self.company.id
        if self.tax:
            cr.execute(
                "INSERT INTO account_tax_sale_order_line_rel "
                "(sale_order_line_id, account_tax_id) SELECT id, %s FROM bench_line",
                [self.tax.id],
            )
        # next quotation numbers continue after the generated ones
        cr.execute("SELECT COUNT(*) FROM bench_order")
        count = cr.fetchone()[0]
        sequence = self.env["ir.sequence"].search(
            [("code", "=", "sale.order"), ("company_id", "in", [company, False])],
            limit=1,
        )
        if sequence:
            sequence.number_next = count + 1

    def finish(self):
        if self.replica:
            self.cr.execute("SET session_replication_role = DEFAULT")
        self.cr.execute(
            "DROP TABLE bench_rate, bench_product, bench_customer, bench_contact, "
            "bench_order, bench_line"
        )
        self.env.flush_all()
        self.env.invalidate_all()

    def summary(self):
        cr = self.cr
        cr.execute(
            "SELECT COUNT(*) FILTER (WHERE is_company), "
            "COUNT(*) FILTER (WHERE NOT is_company) FROM res_partner "
            "WHERE ref LIKE %s OR parent_id IN "
            "(SELECT id FROM res_partner WHERE ref LIKE %s)",
            [BENCH_REF + "%", BENCH_REF + "%"],
        )
        companies, contacts = cr.fetchone()
        cr.execute(
            "SELECT state, COUNT(*) FROM sale_order GROUP BY state ORDER BY state"
        )
        states = dict(cr.fetchall())
        cr.execute("SELECT COUNT(*) FROM sale_order_line")
        lines = cr.fetchone()[0]
        # Pareto check: share of the 20 % best customers in confirmed revenue
        cr.execute(
            """
            WITH r AS (
                SELECT p.commercial_partner_id AS cp,
                       SUM(so.amount_untaxed / so.currency_rate) AS rev
                  FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale' GROUP BY 1
            ), ranked AS (
                SELECT rev, row_number() OVER (ORDER BY rev DESC) AS rk,
                       COUNT(*) OVER () AS n FROM r
            )
            SELECT SUM(rev) FILTER (WHERE rk <= n * 0.2) / SUM(rev), SUM(rev), MAX(n)
              FROM ranked
            """
        )
        top_share, revenue, buyers = cr.fetchone()
        cr.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('sale_order')), "
            "pg_size_pretty(pg_total_relation_size('sale_order_line'))"
        )
        so_size, sol_size = cr.fetchone()
        print(
            f"customers {companies:,} (buying {buyers:,}), contacts {contacts:,}, "
            f"orders {sum(states.values()):,} {states}, lines {lines:,}"
        )
        print(
            f"confirmed revenue {float(revenue):,.0f} {self.company.currency_id.name}; "
            f"top 20 % of buyers bring {float(top_share):.0%}; "
            f"sale_order {so_size}, sale_order_line {sol_size}"
        )


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    registry = setup_odoo(args)
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        gen = Generator(env, args)
        print(
            f"Generating {gen.n_customers:,} customers / {gen.n_orders:,} orders "
            f"in {args.db} (seed {args.seed}, up to {gen.today})"
        )
        timings = gen.timings
        gen.check()
        with timed("currencies, rates, pricelists", timings):
            gen.currencies()
        with timed("salespeople", timings):
            gen.salespeople()
        with timed(f"products ({gen.n_products:,})", timings):
            gen.products()
        with timed("customers and contacts", timings):
            gen.customers()
        with timed("orders and lines (staging)", timings):
            gen.orders()
        with timed("sale_order insert", timings):
            gen.write_orders()
        with timed("sale_order_line insert", timings):
            gen.write_lines()
        with timed("line taxes, sequence", timings):
            gen.write_taxes()
        gen.finish()
        with timed("commit", timings):
            cr.commit()
    # hint bits, visibility map and planner statistics of the new rows
    with timed("vacuum analyze", timings):
        vacuum(args.db, FILLED_TABLES)
    with registry.cursor() as cr:
        gen.env = gen.env(cr=cr)
        gen.cr = cr
        gen.company = gen.company.with_env(gen.env)
        gen.summary()
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
