"""Demo data of customer_tier: an exporter of pumps and valves.

The demo tells the story of the module: two years of confirmed orders from
customers all over the world, in three currencies, shaped by the 80/20 rule (a
few core buyers order every month, many small ones now and then), with one-time
buyers, customers that stopped buying a year ago, a key customer that went
silent seven months ago (churn risk), open and cancelled quotations, and
prospects graded by their score (one graded by hand). Customers carry needs,
relationship types, estimated purchases, competing suppliers and logged notes;
two core customers have a key-account profile with key contacts and dates.

Everything is generated from fixed seeds relative to the installation date, so
two installations on the same day hold the same figures. Orders go through the
ORM (create, ``action_confirm``, ``_action_cancel``); the confirmation date is
then moved into the past, which recomputes the stored ``currency_rate`` of the
order at that date. Tiers are computed by three full evaluations (180 and 90
days ago, then today), so the history shows upgrades, downgrades after their
grace and pending downgrades. The salespeople's last contact with each
customer and prospect is an activity they marked as done, within its tier's
follow-up interval for most, longer ago for a handful whose follow-up then
fell due in the past (overdue); the daily follow-up run then fills the
salespeople's activity queues. Core and Key customers get their tier
pricelist on the way (unless they buy from an export pricelist), and two
Marginal customers have a quotation below their minimum order, with its
service fee.

The XML file ``demo/customer_tier_demo.xml`` holds the products, their
categories, the EUR and CNY pricelists and the minimum order with its
service fee of the Marginal tier; this file creates the rest (among which
the tier pricelists of Core and Key). It is not part of the module's models:
the XML file calls ``customer.tier.program._demo_populate``, which imports
this file and calls :func:`populate`, so it is only loaded when the demo data
is.
"""

import random
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tools import SQL

SEED = 20240618
MODULE = "customer_tier"

# Salespeople: (xml id, name, login = password, time zone)
SALESPEOPLE = [
    ("user_lin_wei_demo", "Lin Wei", "lin.wei", "Asia/Shanghai"),
    ("user_anna_schmidt_demo", "Anna Schmidt", "anna.schmidt", "Europe/Berlin"),
]

# Currency of the customers of a country (others buy in company currency).
EUR_COUNTRIES = {"AT", "BE", "DE", "ES", "FI", "FR", "HR", "IE", "IT", "NL", "PT"}
CNY_COUNTRIES = {"CN"}

# Tier pricelists: code -> (tier xml id, name, discount in %).
TIER_PRICELISTS = {
    "a": ("customer_tier_a", "Core Customers (-5%)", 5.0),
    "b": ("customer_tier_b", "Key Customers (-3%)", 3.0),
}

# Quotations below the minimum order of the Marginal tier: (customer, seal
# kits); one in company currency, one in EUR.
SMALL_QUOTATIONS = [("phoenix", 2), ("hamburg", 3)]

# Demo products (xml ids of demo/customer_tier_demo.xml).
PRODUCTS = {
    "pump": "product_centrifugal_pump_demo",
    "sub": "product_submersible_pump_demo",
    "ball": "product_ball_valve_demo",
    "fly": "product_butterfly_valve_demo",
    "seal": "product_seal_kit_demo",
    "impeller": "product_impeller_demo",
    "service": "product_commissioning_demo",
}
# List prices in company currency, as in the XML file (used to plan quantities).
LIST_PRICES = {
    "pump": 1850.0,
    "sub": 960.0,
    "ball": 145.0,
    "fly": 420.0,
    "seal": 68.0,
    "impeller": 240.0,
    "service": 650.0,
}
# What each industry buys (weights per product).
INDUSTRY_MIX = {
    "A": {"sub": 5, "ball": 3, "seal": 2},
    "B": {"pump": 4, "impeller": 3, "seal": 3},
    "C": {"pump": 5, "impeller": 2, "seal": 2, "ball": 1},
    "D": {"pump": 4, "fly": 4, "seal": 2},
    "E": {"pump": 3, "fly": 4, "sub": 2, "seal": 1},
    "F": {"ball": 4, "fly": 3, "pump": 2, "sub": 1},
}
DEFAULT_MIX = {"pump": 2, "sub": 2, "ball": 2, "fly": 1, "seal": 2, "impeller": 1}

# How each kind of customer buys. Days are counted back from the evaluation
# date: first order between ``start`` days ago, last order at least ``end`` days
# ago, ``gap`` days between orders, order values in company currency. The
# window revenue (last 12 months) is scaled into ``window`` so that every
# customer lands in the tier its story needs.
# fmt: off
ARCHETYPES = {
    # A core: monthly orders all year round
    "core": {
        "start": (700, 728), "end": (2, 20), "gap": (21, 36),
        "value": (20000, 36000), "discount": 5.0, "window": (260000, 480000),
    },
    # B key: an order every two months
    "key": {
        "start": (640, 728), "end": (4, 60), "gap": (45, 75),
        "value": (8000, 16000), "discount": 2.0, "window": (60000, 120000),
    },
    # B key too: new customers of the last months that order a lot
    "rising": {
        "start": (110, 160), "end": (3, 25), "gap": (24, 38),
        "value": (15000, 24000), "discount": 2.0, "window": (60000, 110000),
    },
    # B key going quiet: ordered every three to four weeks for more than a
    # year, silent for about eight months (still within the key tier's 270
    # days): a low probability of being active, a churn risk
    "fading": {
        "start": (600, 620), "end": (232, 242), "gap": (18, 32),
        "value": (12000, 18000), "discount": 2.0, "window": (60000, 100000),
    },
    # C general: a few orders a year
    "general": {
        "start": (600, 728), "end": (8, 110), "gap": (80, 140),
        "value": (1800, 5000), "discount": 0.0, "window": (7000, 22000),
    },
    # D marginal: small orders now and then
    "small": {
        "start": (250, 700), "end": (20, 250), "gap": (150, 280),
        "value": (300, 1300), "discount": 0.0, "window": (400, 3500),
    },
    # D marginal: used to buy, nothing in the last 12 months
    "lapsed": {
        "start": (640, 728), "end": (385, 560), "gap": (40, 85),
        "value": (4000, 14000), "discount": 0.0, "window": None,
    },
}
# fmt: on

# Buying customers: (key, name, country, city, industry, salesperson, kind,
# contact person or None). ``kind`` is an archetype or ("one_time", days ago,
# value). Salesperson: "lin", "anna" or "admin".
# fmt: off
CUSTOMERS = [
    # core
    ("rhein", "Rhein Industrietechnik GmbH", "DE", "Düsseldorf", "C", "anna",
     "core", "Jonas Weber"),
    ("hengtai", "Shanghai Hengtai Water Engineering Co., Ltd.", "CN", "Shanghai",
     "E", "lin", "core", "Zhang Min"),
    ("gulfcoast", "Gulf Coast Process Systems LLC", "US", "Houston", "D", "admin",
     "core", "Megan Carter"),
    ("osaka", "Osaka Fluid Control K.K.", "JP", "Osaka", "C", "lin", "core", None),
    ("iberia", "Iberia Aguas y Riegos S.A.", "ES", "Valencia", "A", "anna", "core",
     None),
    # key
    ("lyon", "Lyon Hydraulique SARL", "FR", "Lyon", "F", "anna", "key",
     "Claire Dubois"),
    ("maple", "Maple Municipal Supply Inc.", "CA", "Toronto", "E", "admin", "key",
     None),
    ("seoul", "Seoul Plant Engineering Co., Ltd.", "KR", "Seoul", "C", "lin", "key",
     None),
    ("pampas", "Pampas Agro Irrigação Ltda.", "BR", "Campinas", "A", "admin", "key",
     "Rafael Souza"),
    ("emirates", "Emirates Desal Services LLC", "AE", "Dubai", "E", "admin", "key",
     None),
    ("westland", "Holland Tuinbouw Techniek B.V.", "NL", "Naaldwijk", "A", "anna",
     "key", None),
    ("mumbai", "Mumbai Process Equipment Pvt. Ltd.", "IN", "Mumbai", "C", "lin",
     "key", "Priya Nair"),
    ("milano", "Milano Impianti S.r.l.", "IT", "Milan", "F", "anna", "rising", None),
    ("lvyuan", "Guangzhou Lvyuan Environmental Technology Co., Ltd.", "CN",
     "Guangzhou", "E", "lin", "rising", "Chen Jie"),
    ("adriatic", "Adriatic Shipyard Services d.o.o.", "HR", "Rijeka", "H", "anna",
     "fading", "Ivan Horvat"),
    # general
    ("poznan", "Polska Instalacje Sp. z o.o.", "PL", "Poznań", "F", "anna",
     "general", None),
    ("northern", "Northern Pump Services Ltd", "GB", "Leeds", "S", "anna",
     "general", "Oliver Hughes"),
    ("ankara", "Ankara Su Teknolojileri A.Ş.", "TR", "Ankara", "E", "anna",
     "general", None),
    ("saigon", "Saigon Mechanical & Electrical JSC", "VN", "Ho Chi Minh City", "F",
     "lin", "general", None),
    ("siam", "Siam Hotel Engineering Co., Ltd.", "TH", "Bangkok", "I", "lin",
     "general", None),
    ("queensland", "Queensland Mining Supplies Pty Ltd", "AU", "Brisbane", "B",
     "lin", "general", "Jack Wilson"),
    ("monterrey", "Industrial del Norte S.A. de C.V.", "MX", "Monterrey", "C",
     "admin", "general", None),
    ("capewater", "Cape Water Works (Pty) Ltd", "ZA", "Cape Town", "E", "admin",
     "general", None),
    ("wien", "Wiener Haustechnik GmbH", "AT", "Vienna", "F", "anna", "general",
     None),
    ("suomi", "Suomi Process Oy", "FI", "Tampere", "C", "anna", "general", None),
    ("dublin", "Dublin Facility Services Ltd", "IE", "Dublin", "N", "anna",
     "general", None),
    ("porto", "Porto Rega Agrícola Lda.", "PT", "Porto", "A", "anna", "general",
     None),
    ("chengdu", "Chengdu Hongda Building Services Co., Ltd.", "CN", "Chengdu", "F",
     "lin", "general", None),
    ("lubbock", "Texas Ag Irrigation Co.", "US", "Lubbock", "A", "admin",
     "general", None),
    ("riyadh", "Riyadh Utilities Contracting Co.", "SA", "Riyadh", "E", "admin",
     "general", None),
    # small buyers
    ("vancouver", "Vancouver Marine Repair Ltd", "CA", "Vancouver", "H", "admin",
     "small", None),
    ("brussels", "Brussels Lab Equipment SRL", "BE", "Brussels", "M", "anna",
     "small", None),
    ("kyoto", "Kyoto Garden Supplies Co.", "JP", "Kyoto", "G", "lin", "small",
     None),
    ("andes", "Andes Hotel Services SpA", "CL", "Santiago", "I", "admin", "small",
     None),
    ("hamburg", "Hamburg Ship Supply GmbH", "DE", "Hamburg", "H", "anna", "small",
     "Lena Fischer"),
    ("delhi", "Delhi Campus Facilities Pvt. Ltd.", "IN", "New Delhi", "P", "lin",
     "small", None),
    # lapsed: no order for more than a year
    ("bergen", "Nordic Fish Farming AS", "NO", "Bergen", "A", "anna", "lapsed",
     None),
    ("detroit", "Detroit Cooling Components Inc.", "US", "Detroit", "C", "admin",
     "lapsed", "Brian Miller"),
    ("lisboa", "Lisboa Construções S.A.", "PT", "Lisbon", "F", "anna", "lapsed",
     None),
    ("tianjin", "Tianjin Port Logistics Co., Ltd.", "CN", "Tianjin", "H", "lin",
     "lapsed", None),
    ("melbourne", "Melbourne Winery Equipment Pty Ltd", "AU", "Melbourne", "A",
     "lin", "lapsed", None),
    # one-time buyers
    ("marseille", "Marseille Piscines SARL", "FR", "Marseille", "R", "anna",
     ("one_time", 40, 9000), None),
    ("jakarta", "Jakarta Palm Oil Processing PT", "ID", "Jakarta", "A", "lin",
     ("one_time", 95, 6500), None),
    ("phoenix", "Phoenix Data Center Cooling LLC", "US", "Phoenix", "J", "admin",
     ("one_time", 20, 2100), None),
    ("copenhagen", "Copenhagen Brewery Supplies ApS", "DK", "Copenhagen", "C",
     "anna", ("one_time", 180, 3200), None),
    ("casablanca", "Casablanca Hammam Équipements SARL", "MA", "Casablanca", "S",
     "admin", ("one_time", 450, 4800), None),
    ("nairobi", "Nairobi Flower Farms Ltd", "KE", "Naivasha", "A", "admin",
     ("one_time", 610, 7200), None),
]

# Prospects: (key, name, country, city, industry, salesperson, quotation state
# or None, scoring inputs: estimated annual purchases in company currency,
# company size, reputation and fit stars). With the default weights and
# minimum scores they score A (Stockholm 82 + its sent quotation, Khobar 75 +),
# B (Antofagasta 46, Hanoi 41.8 + its quotation) and C (Canterbury 31.8,
# Lagos 27.4, Zurich 31.2).
PROSPECTS = [
    ("stockholm", "Stockholm Vatten Projekt AB", "SE", "Stockholm", "E", "anna",
     "sent", (600000, "large", "5", "5")),
    ("khobar", "Al Khobar Desalination Projects Co.", "SA", "Al Khobar", "E",
     "admin", "draft", (450000, "large", "4", "5")),
    ("antofagasta", "Andes Copper Mining Supply S.A.", "CL", "Antofagasta", "B",
     "admin", None, (150000, "medium", "3", "4")),
    ("hanoi", "Hanoi Construction Materials JSC", "VN", "Hanoi", "F", "lin",
     "draft", (80000, "medium", "3", "4")),
    ("canterbury", "Canterbury Dairy Irrigation Ltd", "NZ", "Christchurch", "A",
     "lin", None, (30000, "small", "2", "4")),
    ("lagos", "Lagos Facility Management Ltd", "NG", "Lagos", "N", "admin",
     "cancel", (40000, "medium", "2", "2")),
    ("zurich", "Zürich Labortechnik AG", "CH", "Zurich", "M", "anna", None,
     (20000, "small", "4", "2")),
]
# fmt: on

# The one prospect graded by hand (a manual grade wins over the score):
# (key, grade xml id, reason).
PROSPECT_MANUAL_GRADE = (
    "zurich",
    "prospect_grade_b",
    "Scores C, but the group is standardising the valves of its twelve "
    "laboratories: graded up by the sales manager.",
)

# Customer facts: estimated annual purchases (company currency, or EUR for the
# EUR customers), company size, relationship type, needs (xml ids without the
# ``customer_tier_need_`` prefix). Iberia's estimate lies below what it buys
# from us (share of wallet capped at 100 %).
# fmt: off
CUSTOMER_FACTS = {
    "rhein": (900000, "large", "strategic_alliance",
              ("high_end", "technical_support")),
    "hengtai": (650000, "enterprise", "partner", ("delivery_speed", "price_sensitive")),
    "gulfcoast": (1200000, "enterprise", "preferred_supplier",
                  ("after_sales", "delivery_speed")),
    "osaka": (500000, "large", "preferred_supplier", ("high_end",)),
    "iberia": (250000, "medium", "partner", ("price_sensitive", "after_sales")),
    "lyon": (300000, "medium", "preferred_supplier", ("technical_support",)),
    "maple": (400000, "large", "vendor", ("after_sales",)),
    "seoul": (250000, "large", "vendor", ("delivery_speed", "high_end")),
    "pampas": (200000, "medium", "preferred_supplier", ("price_sensitive",)),
    "mumbai": (180000, "medium", "vendor", ("price_sensitive", "technical_support")),
    "lvyuan": (350000, "large", "vendor", ("delivery_speed",)),
    "adriatic": (220000, "medium", "preferred_supplier", ("after_sales",)),
    "poznan": (60000, "small", "vendor", ("price_sensitive",)),
    "northern": (90000, "small", "vendor", ("after_sales", "delivery_speed")),
    "saigon": (70000, "medium", "vendor", ("price_sensitive",)),
    "queensland": (150000, "medium", "vendor", ("technical_support",)),
    "hamburg": (25000, "micro", "vendor", ("delivery_speed",)),
    "detroit": (180000, "medium", "vendor", ("price_sensitive",)),
}
# Competing suppliers (fictitious): customer -> [(name, products, share %)]
COMPETITORS = {
    "rhein": [
        ("Nordpumpen Technik GmbH", "Centrifugal pumps for the coating lines", 25.0),
        ("Alpine Valve Works AG", "Stainless ball valves", 10.0),
    ],
    "hengtai": [("Jiangsu Fluid Equipment Co.", "Butterfly valves, local stock", 35.0)],
    "lyon": [("Rhône Robinetterie SA", "Ball valves below DN50", 20.0)],
    "adriatic": [("Balkan Marine Pumps d.o.o.", "Submersible pumps, repairs", 40.0)],
    "stockholm": [("Nordic Flow Systems AB", "Incumbent valve supplier", 70.0)],
}
# Logged notes of the salespeople: (customer, days ago, text).
NOTES = [
    ("rhein", 12, "Visited the plant with Jonas Weber: a second coating line is "
     "planned for next year, quotation for 40 CP-200 pumps requested."),
    ("hengtai", 52, "Call with Zhang Min: the Pudong tender closes next quarter; "
     "they want local stock of the DN150 butterfly valves."),
    ("lyon", 8, "Claire Dubois asked for the datasheets of the new valve range."),
    ("seoul", 20, "Video call: the plant expansion is on hold until spring."),
    ("queensland", 75, "Jack Wilson moved to a new mine site; new buyer to meet."),
    ("adriatic", 150, "Ivan Horvat mentioned a cheaper offer from a local repair "
     "shop."),
    ("stockholm", 3, "Sent the tender documents and the reference list of "
     "municipal utilities."),
    ("hanoi", 2, "Weekly call: price list for the distributor agreed, samples "
     "shipped."),
]
# Contacts of the salespeople (done activities: activity type xml id,
# feedback), one per customer and prospect with a follow-up cadence, a few
# days to one interval ago, so that most next follow-ups lie ahead.
CONTACT_ACTIVITIES = [
    ("mail.mail_activity_data_call", "Called the buyer: stock is fine, the "
     "next order comes as planned."),
    ("mail.mail_activity_data_meeting", "Visited the site: went through the "
     "installed pumps with the maintenance team, no open issue."),
    ("mail.mail_activity_data_email", "Sent the updated price list and the "
     "delivery times; the buyer confirmed receipt."),
    ("mail.mail_activity_data_call", "Video call about next season's projects; "
     "a quotation will follow when the budget is approved."),
]
# Customers whose follow-up slipped: last contact the tier's interval plus
# this many days ago, and the follow-up activity due since then (overdue).
OVERDUE_FOLLOWUPS = {
    "osaka": 6,
    "pampas": 11,
    "adriatic": 9,
    "ankara": 4,
    "vancouver": 14,
}
# fmt: on


def _slug(name):
    return "".join(c for c in name.lower() if c.isalnum())[:24]


def _order_lines(rng, mix, value, discount):
    """Split ``value`` over one to three products of ``mix``: (product, qty)."""
    products = sorted(mix)
    count = min(len(products), rng.choice((1, 1, 2, 2, 3)))
    chosen = []
    pool = list(products)
    for _i in range(count):
        weights = [mix[p] for p in pool]
        pick = rng.choices(pool, weights=weights)[0]
        pool.remove(pick)
        chosen.append(pick)
    shares = [rng.uniform(1.0, 3.0) for _p in chosen]
    total = sum(shares)
    net = 1 - discount / 100.0
    return [
        (product, max(1, round(value * share / total / (LIST_PRICES[product] * net))))
        for product, share in zip(chosen, shares, strict=True)
    ]


def demo_plan():
    """The orders of every demo partner, independent of the database.

    Returns a list of dicts: ``partner`` (customer key), ``contact`` (bool:
    placed by the contact person), ``days_ago``, ``hour``, ``state`` (sale,
    cancel_sale = confirmed then cancelled, draft, sent, cancel), ``discount``
    and ``lines`` [(product key, quantity)].
    """
    plan = []
    for key, _name, _country, _city, industry, _user, kind, contact in CUSTOMERS:
        rng = random.Random(f"{SEED}:{key}")
        mix = INDUSTRY_MIX.get(industry, DEFAULT_MIX)
        if isinstance(kind, tuple):
            _kind, days_ago, value = kind
            plan.append(
                {
                    "partner": key,
                    "contact": False,
                    "days_ago": days_ago,
                    "hour": rng.randint(7, 15),
                    "state": "sale",
                    "discount": 0.0,
                    "lines": _order_lines(rng, mix, value, 0.0),
                }
            )
            continue
        spec = ARCHETYPES[kind]
        discount = spec["discount"]
        day = rng.randint(*spec["start"])
        last = rng.randint(*spec["end"])
        orders = []
        while day >= last:
            orders.append([day, rng.uniform(*spec["value"])])
            day -= rng.randint(*spec["gap"])
        if spec["window"]:
            # scale into the window range: conservative edges of the 12 months
            low, high = spec["window"]
            inside = sum(v for d, v in orders if d <= 355)
            if inside < low:
                factor = low * 1.05 / inside
            elif inside > high:
                factor = high * 0.95 / inside
            else:
                factor = 1.0
            for order in orders:
                order[1] *= factor
        for day, value in orders:
            lines = _order_lines(rng, mix, value, discount)
            if kind in ("core", "key") and rng.random() < 0.15:
                lines.append(("service", rng.randint(1, 3)))
            plan.append(
                {
                    "partner": key,
                    "contact": bool(contact) and rng.random() < 0.4,
                    "days_ago": day,
                    "hour": rng.randint(1, 15),
                    "state": "sale",
                    "discount": discount,
                    "lines": lines,
                }
            )
            # now and then an order confirmed by mistake and cancelled
            if rng.random() < 0.05 and day > 3:
                plan.append(
                    {
                        "partner": key,
                        "contact": False,
                        "days_ago": day - rng.randint(1, min(day - 1, 6)),
                        "hour": rng.randint(1, 15),
                        "state": "cancel_sale",
                        "discount": discount,
                        "lines": _order_lines(rng, mix, value, discount),
                    }
                )
        # open quotations of good customers, stale ones of general customers
        if kind in ("core", "key", "rising") and rng.random() < 0.6:
            plan.append(
                {
                    "partner": key,
                    "contact": bool(contact),
                    "days_ago": rng.randint(1, 12),
                    "hour": rng.randint(1, 15),
                    "state": rng.choice(("draft", "sent")),
                    "discount": discount,
                    "lines": _order_lines(
                        rng, mix, rng.uniform(*spec["value"]), discount
                    ),
                }
            )
        elif kind == "general" and rng.random() < 0.3:
            plan.append(
                {
                    "partner": key,
                    "contact": False,
                    "days_ago": rng.randint(40, 200),
                    "hour": rng.randint(1, 15),
                    "state": rng.choice(("draft", "cancel")),
                    "discount": 0.0,
                    "lines": _order_lines(rng, mix, rng.uniform(*spec["value"]), 0.0),
                }
            )
    for key, _name, _country, _city, industry, _user, state, _inputs in PROSPECTS:
        if not state:
            continue
        rng = random.Random(f"{SEED}:{key}")
        mix = INDUSTRY_MIX.get(industry, DEFAULT_MIX)
        plan.append(
            {
                "partner": key,
                "contact": False,
                "days_ago": rng.randint(3, 30) if state != "cancel" else 150,
                "hour": rng.randint(1, 15),
                "state": state,
                "discount": 0.0,
                "lines": _order_lines(rng, mix, rng.uniform(6000, 40000), 0.0),
            }
        )
    plan.sort(key=lambda o: (-o["days_ago"], o["hour"], o["partner"]))
    return plan


def _monthly_rates(seed, start, months, base, step, low, high):
    """A bounded random walk of rates, one per month: [(date, rate)]."""
    rng = random.Random(f"{SEED}:{seed}")
    rate = base
    rates = []
    for month in range(months):
        rates.append((start + relativedelta(months=month), round(rate, 4)))
        rate = min(high, max(low, rate + rng.uniform(-step, step)))
    return rates


def populate(Program):
    """Create the demo customers, orders and tiers (once)."""
    if Program.env.ref(f"{MODULE}.{SALESPEOPLE[0][0]}", raise_if_not_found=False):
        return True
    company = Program.env.ref("base.main_company")
    program = Program.with_context(active_test=False).search(
        [("company_id", "=", company.id)], limit=1
    )
    if not program:
        return True
    today = fields.Date.context_today(program)
    if Program.env.ref(
        f"{MODULE}.partner_{CUSTOMERS[0][0]}_demo", raise_if_not_found=False
    ):
        # Reinstalled on a database that kept the customers and orders of
        # an earlier demo (see hooks.py): evaluate them, create no second
        # set of customers and orders.
        program._engine().run(eval_date=today)
        return True
    quiet = Program.with_context(
        tracking_disable=True,
        mail_create_nolog=True,
        mail_create_nosubscribe=True,
        mail_notrack=True,
        no_reset_password=True,
    ).env
    _pricelists(quiet, company)
    _tier_pricelists(quiet, company)
    _currency_rates(quiet, company, today)
    users = _users(quiet, company)
    partners, contacts = _partners(quiet, company, users)
    # No incremental refresh while orders are confirmed with today's date
    # (nor while the partners' facts are filled in): the program sleeps
    # until the orders carry their real dates.
    program.with_context(tracking_disable=True).active = False
    # Nor points credited at today's date and the no-tier multiplier: the
    # points are back-filled on the order dates once tiers are known.
    loyalty = program.loyalty_program_id
    loyalty.active = False
    _partner_facts(quiet, partners)
    _orders(quiet, company, partners, contacts, today)
    program.with_context(tracking_disable=True).active = True
    loyalty.active = True
    _notes(quiet, partners, users, today)
    # Two earlier evaluations give the history its moves (and downgrades
    # their grace); the activities they raised were handled back then.
    for days in (180, 90):
        program._engine().run(eval_date=today - timedelta(days=days))
        _forget_activities(quiet, program)
    program._engine().run(eval_date=today)
    _small_quotations(quiet, company, partners)
    _grade_prospects(quiet, program, partners)
    _key_accounts(quiet, program, partners, contacts, today)
    # Points: every confirmed order credited at its customer's tier, on
    # its date; credits older than the expiry expire. Two spare parts
    # are redeemable as free goods.
    program._loyalty_backfill()
    gift_tag = Program.env.ref(f"{MODULE}.product_tag_loyalty_gift")
    for xmlid in ("product_seal_kit_demo", "product_impeller_demo"):
        Program.env.ref(f"{MODULE}.{xmlid}").product_tag_ids |= gift_tag
    _contacts(quiet, program, partners, users, today)
    # The daily follow-up run, until nothing is left to schedule.
    for _batch in range(100):
        _done, remaining = Program._cron_followup()
        if not remaining:
            break
    _overdue_followups(quiet, program, partners, today)
    return True


def _pricelists(env, company):
    """Enable pricelists and make sure the company has a default one."""
    env.ref("base.group_user")._apply_group(env.ref("product.group_product_pricelist"))
    Pricelist = env["product.pricelist"]
    if not Pricelist.search_count(
        [
            ("currency_id", "=", company.currency_id.id),
            ("company_id", "in", [company.id, False]),
        ]
    ):
        Pricelist.create(company._get_default_pricelist_vals())


def _tier_pricelists(env, company):
    """Core and Key customers buy from a tier pricelist: it becomes theirs
    when they enter the tier, unless they buy from a pricelist set by hand
    (an export one). Created after the company's default pricelist, which
    stays the default of the other customers."""
    Pricelist = env["product.pricelist"]
    for code, (tier_xmlid, name, discount) in TIER_PRICELISTS.items():
        pricelist = Pricelist.create(
            {
                "name": name,
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "sequence": 40,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": discount,
                        }
                    )
                ],
            }
        )
        env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": f"{MODULE}.pricelist_tier_{code}_demo",
                    "record": pricelist,
                    "noupdate": True,
                }
            ]
        )
        env.ref(f"{MODULE}.{tier_xmlid}").pricelist_id = pricelist


def _currency_rates(env, company, today):
    """Activate EUR and CNY with monthly rates over the last two years."""
    start = (today - relativedelta(months=25)).replace(day=1)
    series = {
        "EUR": _monthly_rates("EUR", start, 26, 0.92, 0.012, 0.86, 0.98),
        "CNY": _monthly_rates("CNY", start, 26, 7.15, 0.05, 6.9, 7.4),
    }
    Rate = env["res.currency.rate"]
    for code, rates in series.items():
        currency = env.ref(f"base.{code}")
        if currency == company.currency_id:
            continue
        currency.active = True
        existing = set(
            Rate.search(
                [("currency_id", "=", currency.id), ("company_id", "=", company.id)]
            ).mapped("name")
        )
        Rate.create(
            [
                {
                    "name": day,
                    "rate": rate,
                    "currency_id": currency.id,
                    "company_id": company.id,
                }
                for day, rate in rates
                if day not in existing
            ]
        )


def _users(env, company):
    groups = [
        env.ref("base.group_user").id,
        env.ref("sales_team.group_sale_salesman").id,
    ]
    users = env["res.users"].create(
        [
            {
                "name": name,
                "login": login,
                "password": login,
                "email": f"{login}@example.com",
                "tz": tz,
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [Command.set(groups)],
            }
            for _xmlid, name, login, tz in SALESPEOPLE
        ]
    )
    env["ir.model.data"]._update_xmlids(
        [
            {"xml_id": f"{MODULE}.{xmlid}", "record": user, "noupdate": True}
            for (xmlid, *_rest), user in zip(SALESPEOPLE, users, strict=True)
        ]
    )
    team = env.ref("sales_team.team_sales_department", raise_if_not_found=False)
    if team:
        env["crm.team.member"].create(
            [{"crm_team_id": team.id, "user_id": user.id} for user in users]
        )
    return {
        "lin": users[0],
        "anna": users[1],
        "admin": env.ref("base.user_admin"),
    }


def _partners(env, company, users):
    """Customer and prospect companies, with a contact person for some."""
    pricelists = {
        "EUR": env.ref(f"{MODULE}.pricelist_eur_demo"),
        "CNY": env.ref(f"{MODULE}.pricelist_cny_demo"),
    }
    rows = [
        (key, name, country, city, industry, user, contact)
        for key, name, country, city, industry, user, _kind, contact in CUSTOMERS
    ] + [
        (key, name, country, city, industry, user, None)
        for key, name, country, city, industry, user, *_rest in PROSPECTS
    ]
    countries = {
        country.code: country
        for country in env["res.country"].search(
            [("code", "in", list({row[2] for row in rows}))]
        )
    }
    vals_list = []
    for key, name, country, city, industry, user, _contact in rows:
        currency = (
            "EUR"
            if country in EUR_COUNTRIES
            else "CNY"
            if country in CNY_COUNTRIES
            else None
        )
        vals = {
            "name": name,
            "is_company": True,
            "country_id": countries[country].id,
            "city": city,
            "industry_id": env.ref(f"base.res_partner_industry_{industry}").id,
            "user_id": users[user].id,
            "email": f"purchasing@{_slug(key)}.example.com",
            "website": f"https://www.{_slug(key)}.example.com",
            "customer_rank": 1,
            "company_id": False,
        }
        if currency:
            vals["property_product_pricelist"] = pricelists[currency].id
        vals_list.append(vals)
    Partner = env["res.partner"]
    records = Partner.create(vals_list)
    partners = {row[0]: record for row, record in zip(rows, records, strict=True)}
    contact_rows = [(key, contact) for key, *_r, contact in rows if contact]
    contact_records = Partner.create(
        [
            {
                "name": contact,
                "parent_id": partners[key].id,
                "type": "contact",
                "function": "Purchasing Manager",
                "email": f"{_slug(contact)}@{_slug(key)}.example.com",
                "user_id": partners[key].user_id.id,
            }
            for key, contact in contact_rows
        ]
    )
    contacts = {
        key: rec for (key, _c), rec in zip(contact_rows, contact_records, strict=True)
    }
    env["ir.model.data"]._update_xmlids(
        [
            {
                "xml_id": f"{MODULE}.partner_{key}_demo",
                "record": record,
                "noupdate": True,
            }
            for key, record in partners.items()
        ]
        + [
            {
                "xml_id": f"{MODULE}.partner_{key}_contact_demo",
                "record": record,
                "noupdate": True,
            }
            for key, record in contacts.items()
        ]
    )
    return partners, contacts


def _orders(env, company, partners, contacts, today):
    """Create, confirm and cancel the planned orders, then date them."""
    plan = demo_plan()
    products = {key: env.ref(f"{MODULE}.{xmlid}") for key, xmlid in PRODUCTS.items()}
    default_pricelist = env["product.pricelist"].search(
        [
            ("currency_id", "=", company.currency_id.id),
            ("company_id", "in", [company.id, False]),
        ],
        limit=1,
    )
    vals_list = []
    dates = []
    for spec in plan:
        partner = partners[spec["partner"]]
        if spec["contact"] and spec["partner"] in contacts:
            partner = contacts[spec["partner"]]
        date_order = datetime.combine(
            today - timedelta(days=spec["days_ago"]), time(spec["hour"], 30)
        )
        dates.append(date_order)
        pricelist = (
            partners[spec["partner"]].property_product_pricelist or default_pricelist
        )
        vals_list.append(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "user_id": partner.user_id.id,
                "pricelist_id": pricelist.id,
                "date_order": date_order,
                "client_order_ref": f"PO-{date_order:%y%m%d}-{len(vals_list):04d}",
                "order_line": [
                    Command.create(
                        {
                            "product_id": products[product].id,
                            "product_uom_qty": qty,
                            "discount": spec["discount"],
                        }
                    )
                    for product, qty in spec["lines"]
                ],
            }
        )
    SaleOrder = env["sale.order"].with_company(company)
    orders = SaleOrder.create(vals_list)
    by_state = {}
    for order, spec in zip(orders, plan, strict=True):
        by_state[spec["state"]] = by_state.get(spec["state"], SaleOrder) | order
    empty = SaleOrder.browse()
    confirmed = by_state.get("sale", empty) | by_state.get("cancel_sale", empty)
    confirmed.action_confirm()
    by_state.get("cancel_sale", empty)._action_cancel()
    by_state.get("cancel", empty)._action_cancel()
    by_state.get("sent", empty).action_quotation_sent()
    # Back to the planned dates: the stored currency rate follows the date.
    for order, date_order in zip(orders, dates, strict=True):
        order.write(
            {
                "date_order": date_order,
                "validity_date": date_order.date() + timedelta(days=30),
            }
        )
    orders.flush_recordset()
    return orders


def _partner_facts(env, partners):
    """Prospect inputs, needs, relationships, estimates and competitors."""
    eur = env.ref("base.EUR")
    for key, *_rest, (estimate, size, reputation, fit) in PROSPECTS:
        partners[key].write(
            {
                "tier_estimated_purchase": estimate,
                "tier_company_size": size,
                "tier_reputation": reputation,
                "tier_product_fit": fit,
            }
        )
    countries = {row[0]: row[2] for row in CUSTOMERS}
    for key, (estimate, size, relationship, needs) in CUSTOMER_FACTS.items():
        vals = {
            "tier_estimated_purchase": estimate,
            "tier_company_size": size,
            "tier_relationship_type": relationship,
            "tier_need_ids": [
                Command.set(
                    [
                        env.ref(f"{MODULE}.customer_tier_need_{need}").id
                        for need in needs
                    ]
                )
            ],
        }
        if countries[key] in EUR_COUNTRIES and eur.active:
            vals["tier_estimated_currency_id"] = eur.id
        partners[key].write(vals)
    env["customer.tier.competitor"].create(
        [
            {
                "partner_id": partners[key].id,
                "name": name,
                "products": products,
                "estimated_share": share,
            }
            for key, lines in COMPETITORS.items()
            for name, products, share in lines
        ]
    )


def _notes(env, partners, users, today):
    """Logged notes of the salespeople, dated in the past (last contact)."""
    note = env.ref("mail.mt_note")
    for key, days, text in NOTES:
        partner = partners[key]
        author = partner.user_id or users["admin"]
        message = partner.message_post(
            body=text,
            message_type="comment",
            subtype_id=note.id,
            author_id=author.partner_id.id,
        )
        message.sudo().write(
            {"date": datetime.combine(today - timedelta(days=days), time(9, 0))}
        )


def _contacts(env, program, partners, users, today):
    """The salespeople's last contact with every customer and prospect that
    has a follow-up cadence: an activity (call, meeting, e-mail) marked as
    done by its salesperson, dated a few days to one interval ago (the
    customers of ``OVERDUE_FOLLOWUPS``: longer ago)."""
    rng = random.Random(f"{SEED}:contacts")
    keys = {partner.id: key for key, partner in partners.items()}
    profiles = env["customer.tier.profile"].search(
        [
            ("program_id", "=", program.id),
            ("tier_id.followup_interval", ">", 0),
            ("partner_id", "in", list(keys)),
        ],
        order="partner_id",
    )
    model_id = env["ir.model"]._get_id("res.partner")
    Activity = env["mail.activity"].with_context(mail_activity_quick_update=True)
    for profile in profiles:
        partner = profile.partner_id
        key = keys[partner.id]
        interval = profile.tier_id.followup_interval
        type_xmlid, feedback = CONTACT_ACTIVITIES[
            rng.randrange(len(CONTACT_ACTIVITIES))
        ]
        if key in OVERDUE_FOLLOWUPS:
            days = interval + OVERDUE_FOLLOWUPS[key]
        else:
            days = rng.randint(1, max(1, interval - 1))
        user = partner.user_id or users["admin"]
        done = today - timedelta(days=days)
        activity = Activity.create(
            {
                "res_model_id": model_id,
                "res_id": partner.id,
                "activity_type_id": env.ref(type_xmlid).id,
                "user_id": user.id,
                "date_deadline": done,
            }
        )
        messages, _next = (
            activity.with_user(user).sudo()._action_done(feedback=feedback)
        )
        messages.sudo().write({"date": datetime.combine(done, time(10, 0))})
    # the messages now carry their real dates
    program._followup_refresh_dates(SQL("prof.program_id = %s", program.id))


def _overdue_followups(env, program, partners, today):
    """The follow-ups of ``OVERDUE_FOLLOWUPS`` fell due on their cadence
    date, in the past: the follow-up run scheduled them back then."""
    for key, days in OVERDUE_FOLLOWUPS.items():
        env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partners[key].id),
                ("customer_tier_activity", "=", "followup"),
            ]
        ).write({"date_deadline": today - timedelta(days=days)})


def _small_quotations(env, company, partners):
    """Two Marginal customers ask for spare parts only, below their tier's
    minimum order: their quotations carry the small-order service fee."""
    seal = env.ref(f"{MODULE}.product_seal_kit_demo")
    SaleOrder = env["sale.order"].with_company(company)
    for key, qty in SMALL_QUOTATIONS:
        partner = partners[key]
        SaleOrder.create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "user_id": partner.user_id.id,
                "pricelist_id": partner.property_product_pricelist.id,
                "order_line": [
                    Command.create({"product_id": seal.id, "product_uom_qty": qty})
                ],
            }
        )


def _forget_activities(env, program):
    """Drop the activities an earlier evaluation raised (handled back
    then) and close their alert episodes."""
    env["mail.activity"].sudo().search(
        [("customer_tier_profile_id.program_id", "=", program.id)]
    ).unlink()
    env["customer.tier.profile"].sudo().search(
        [
            ("program_id", "=", program.id),
            "|",
            "|",
            ("reorder_alert_date", "!=", False),
            ("risk_alert_date", "!=", False),
            ("alert_pending_date", "!=", False),
        ]
    ).write(
        {
            "reorder_alert_date": False,
            "risk_alert_date": False,
            "alert_pending_date": False,
        }
    )


def _grade_prospects(env, program, partners):
    """Grade one prospect by hand, above its score (the manual grade wins)."""
    key, grade, reason = PROSPECT_MANUAL_GRADE
    profile = env["customer.tier.profile"].search(
        [
            ("partner_id", "=", partners[key].id),
            ("company_id", "=", program.company_id.id),
        ],
        limit=1,
    )
    if profile:
        profile.write(
            {
                "manual_tier_id": env.ref(f"{MODULE}.{grade}").id,
                "manual_reason": reason,
            }
        )


def _key_accounts(env, program, partners, contacts, today):
    """Key-account profiles of two core customers: decision factors,
    notes, key contacts and their key dates (one reminder due within a
    week, one on 29 February)."""
    profiles = {
        profile.partner_id.id: profile
        for profile in env["customer.tier.profile"].search(
            [
                ("program_id", "=", program.id),
                (
                    "partner_id",
                    "in",
                    [partners["rhein"].id, partners["hengtai"].id],
                ),
            ]
        )
    }
    rhein = profiles.get(partners["rhein"].id)
    hengtai = profiles.get(partners["hengtai"].id)
    factor = f"{MODULE}.decision_factor_"
    if rhein:
        rhein.write(
            {
                "decision_factor_ids": [
                    Command.set(
                        [
                            env.ref(factor + code).id
                            for code in ("quality", "after_sales", "delivery")
                        ]
                    )
                ],
                "key_account_notes": "<p>Orders for two coating lines; the "
                "plant manager signs every order above 50,000. Quality "
                "audits each spring: send the inspection reports before "
                "March.</p>",
                "key_contact_ids": [Command.set(contacts["rhein"].ids)],
                "key_date_ids": [
                    Command.create(
                        {
                            "contact_id": contacts["rhein"].id,
                            "kind": "birthday",
                            "date": date(1976, 2, 29),
                            "note": "Born on a leap day: celebrates on 28 "
                            "February in other years.",
                        }
                    ),
                    Command.create(
                        {
                            "contact_id": partners["rhein"].id,
                            "kind": "anniversary",
                            "name": "Founding day",
                            "date": date(1952, 9, 15),
                        }
                    ),
                ],
            }
        )
    if hengtai:
        soon = today + timedelta(days=4)
        hengtai.write(
            {
                "decision_factor_ids": [
                    Command.set(
                        [
                            env.ref(factor + code).id
                            for code in ("price", "delivery", "relationship")
                        ]
                    )
                ],
                "key_account_notes": "<p>Buys for municipal tenders: price "
                "and local stock decide. Zhang Min prefers WeChat to "
                "e-mail.</p>",
                "key_contact_ids": [Command.set(contacts["hengtai"].ids)],
                "key_date_ids": [
                    Command.create(
                        {
                            "contact_id": contacts["hengtai"].id,
                            "kind": "birthday",
                            # 28 years back: a leap day stays a leap day
                            "date": soon.replace(year=soon.year - 28),
                        }
                    ),
                ],
            }
        )
