#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""Time what sales users feel: the web calls of the module's screens.

Usage (from the repository root, Odoo 18 importable, on a database filled by
``bench/generate.py --size large``)::

    python3 bench/ui_latency.py --db ct_bench_large --runs 3
    python3 bench/ui_latency.py --db ct_bench_large --runs 3 --prepare

``--prepare`` first runs one full recompute of the main company's program and
commits it when the company has no tier profile yet (the generated database
has none): the screens below read profiles. It is the only thing the script
ever commits.

Every figure is the server side of one call the web client makes, through the
ORM in this process, as a real user: a salesperson of the generated data
limited to own documents (``--login``, default ``bench_sales_1``, *Sales /
User: Own Documents Only*, hence *Customer Tiers / User*) and a manager
(``--manager-login``, default ``admin``). The call and its arguments are built
from the views as ``get_views`` returns them to that user, the way the web
client builds them (``getFieldsSpec``): ``web_search_read`` with the view's
field specification, limit (list 80, kanban 40), order and ``count_limit``
10,001; ``web_read_group`` for a grouped list; ``read_group`` (``lazy=False``,
one call per combination of row and column groupbys, as the pivot and the
spreadsheet do) for pivots, graphs and the dashboard.

Customer list and kanban (``res.partner``, the generated ~56,000 partners):

- *plain*: the same call with the module's fields (every field of the spec
  defined by ``customer_tier``: the tier, its colour) removed from the
  specification, i.e. the list as it is without the module's columns, on the
  same database, records, user and domain;
- *tier*: the call the module's view makes (tier column / badge);
- *filter A*: the module's view with the search filter *Core (A)*;
- *grouped*: the list grouped by *Customer Tier* (``web_read_group``).

The tier and filter figures are divided by the plain figure of the same run
(ratios within one run); the target is at most 1.5. Done for all partners
(Contacts) and for the *Customers* filter (``customer_rank > 0``, the Sales
menu's default).

Reports over the profiles (each target: server time under 1 s): the tier
analysis pivot and graph, the profile list (and grouped by tier), the
classification list, the 80/20 report (list grouped by band as it opens, the
top band unfolded, its graph by decile and pivot by band) and the data
sources of the *Customer Tiers* dashboard (its pivots and lists; the slowest
of them is reported). A pivot's figure is the sum of its ``read_group`` calls
and a grouped list's the sum of its group call and of the unfolded group's
page: stricter than one call each.

The XLSX workbook (``customer.tier.workbook._write_workbook``, what the
wizard and ``tools/export_workbook.py`` call) of the manager (every customer)
is written to a temporary file in a forked child of this process (the
registry loaded, as an Odoo worker): its time, and the child's peak RSS
(``wait4``) against 10 s and 300 MB.

Caches: each run starts with the registry's caches cleared
(``registry.clear_all_caches()``) and one untimed call of every case (what a
running server has warm: views, access rules); every timed call gets a new
environment with an empty record cache, as a new request does. Every run is
a transaction rolled back at its end. Printed: per-case medians of wall time,
CPU (this process plus its PostgreSQL backend) and query count, each figure
with its target and PASS/MISS, and the peak RSS of this process.

Exit status: 0 whatever the figures (it measures, it does not gate).
"""

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager

from _common import new_parser, setup_odoo, vacuum
from benchmark import Bench as EngineBench
from benchmark import Measure, current_rss_mb, peak_rss_mb

TARGETS = {
    "ratio": 1.5,  # partner list / kanban with the tier vs without
    "report_seconds": 1.0,  # each report call
    "workbook_seconds": 10.0,
    "workbook_mb": 300.0,
}
LIST_LIMIT = 80
KANBAN_LIMIT = 40
COUNT_LIMIT = 10001
MODULE = "customer_tier"


def parse_args(argv):
    parser = new_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--login", default="bench_sales_1", help="salesperson (own documents)"
    )
    parser.add_argument("--manager-login", default="admin", help="tier manager")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="run and commit a full recompute first if there is no profile",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip among partners,reports,workbook",
    )
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# Building the web client's calls from the views
# ----------------------------------------------------------------------
def field_spec(model, node):
    """The specification the web client sends for one ``<field>`` node."""
    field = model._fields[node.get("name")]
    invisible = node.get("invisible") in ("1", "True")
    if field.type in ("many2one", "reference"):
        return {"fields": {} if invisible else {"display_name": {}}}
    if field.type in ("one2many", "many2many"):
        if invisible:
            return {}
        fields = {"display_name": {}}
        options = node.get("options") or ""
        if "color_field" in options:
            fields["color"] = {}
        return {"fields": fields}
    return {}


def view_call(model, view_type, view_id=False):
    """(specification, order, limit) of a list or kanban view as
    ``get_views`` returns it to the current user (group-restricted nodes
    already removed)."""
    from lxml import etree

    views = model.get_views([(view_id, view_type)])
    arch = etree.fromstring(views["views"][view_type]["arch"])
    if view_type == "list":
        nodes = [n for n in arch if n.tag == "field"]
        limit = int(arch.get("limit") or LIST_LIMIT)
    else:
        # every field of the kanban arch, outside sub-views of x2many fields
        nodes = [
            n
            for n in arch.iter("field")
            if not any(a.tag == "field" for a in n.iterancestors())
        ]
        limit = int(arch.get("limit") or KANBAN_LIMIT)
    spec = {}
    for node in nodes:
        spec[node.get("name")] = field_spec(model, node)
    order = arch.get("default_order") or ""
    return spec, order, limit


def without_module(model, spec):
    """The specification with every field the module defines removed."""
    return {
        name: sub
        for name, sub in spec.items()
        if MODULE not in (model._fields[name]._modules or ())
    }


def module_fields(model, spec):
    return sorted(set(spec) - set(without_module(model, spec)))


def search_filter(model, filter_name, view_id=False):
    """The domain of a filter of the model's search view."""
    from lxml import etree

    from odoo.tools.safe_eval import safe_eval

    views = model.get_views([(view_id, "search")])
    arch = etree.fromstring(views["views"]["search"]["arch"])
    for node in arch.iter("filter"):
        if node.get("name") == filter_name:
            return safe_eval(node.get("domain"), {"uid": model.env.uid})
    raise ValueError(f"no filter {filter_name} on {model._name}")


def web_search_read(model, domain, spec, order, limit):
    return model.web_search_read(
        domain,
        spec,
        offset=0,
        limit=limit,
        order=order or None,
        count_limit=COUNT_LIMIT,
    )


def pivot_calls(model, domain, rows, cols, measures):
    """The ``read_group`` calls of a pivot (or a spreadsheet pivot): one per
    combination of the row and column groupbys (totals included)."""
    combos = {()}
    for i in range(len(rows) + 1):
        for j in range(len(cols) + 1):
            combos.add(tuple(rows[:i] + cols[:j]))
    for groupby in sorted(combos, key=len):
        model.read_group(domain, measures, list(groupby), lazy=False)


def group_order(model, order, groupby, spec):
    """The order the list sends to ``web_read_group``: the terms on the
    groupby or on an aggregated field of the list."""
    terms = []
    for term in (order or "").split(","):
        name = term.split()[0] if term.strip() else ""
        if name and (
            name == groupby or (name in spec and model._fields[name].aggregator)
        ):
            terms.append(term.strip())
    return ", ".join(terms) or False


def aggregates(model, spec):
    """What the list sends to ``web_read_group``: the aggregates of its
    fields (``field:aggregator``)."""
    result = []
    for name in spec:
        field = model._fields[name]
        if field.aggregator and (field.store or field.column_type):
            result.append(f"{name}:{field.aggregator}")
    return result


# ----------------------------------------------------------------------
# The measurements: one function each. It prepares what the web client has
# before the call (the view, the filter's domain: untimed) and returns the
# call itself, which is timed.
# ----------------------------------------------------------------------
PARTNER_SCOPES = {
    "all partners": [],
    "customers": [("customer_rank", ">", 0)],
}


def partner_list(env, scope, view_type, variant):
    """The customer list or kanban: ``variant`` plain (module fields removed
    from the spec), tier (the module's view), filter (the module's view and
    the Core (A) filter)."""
    Partner = env["res.partner"]
    spec, order, limit = view_call(Partner, view_type)
    domain = list(PARTNER_SCOPES[scope])
    if variant == "plain":
        spec = without_module(Partner, spec)
    elif variant == "filter":
        domain += search_filter(Partner, "tier_a")
    return lambda: web_search_read(Partner, domain, spec, order, limit)


def partner_grouped(env, scope):
    """The customer list grouped by Customer Tier."""
    Partner = env["res.partner"]
    spec, order, _limit = view_call(Partner, "list")
    domain = list(PARTNER_SCOPES[scope])
    return lambda: Partner.web_read_group(
        domain,
        aggregates(Partner, spec),
        ["customer_tier_id"],
        limit=LIST_LIMIT,
        orderby=group_order(Partner, order, "customer_tier_id", spec),
        lazy=True,
    )


def analysis_pivot(env):
    """Tier analysis pivot as it opens (filter Customers, rows by tier,
    the action's measures)."""
    Profile = env["customer.tier.profile"]
    view = env.ref("customer_tier.customer_tier_profile_view_search_analysis")
    domain = search_filter(Profile, "customers", view.id)
    measures = [
        "__count",
        "revenue_window:sum",
        "margin_window:sum",
        "average_order_value:avg",
    ]
    return lambda: pivot_calls(Profile, domain, ["tier_id"], [], measures)


def analysis_pivot_country(env):
    """Tier analysis favorite 'Revenue by tier and country' (rows tier,
    columns country)."""
    Profile = env["customer.tier.profile"]
    measures = ["__count", "revenue_window:sum", "margin_window:sum"]
    domain = [("is_prospect", "=", False)]
    return lambda: pivot_calls(Profile, domain, ["tier_id"], ["country_id"], measures)


def analysis_graph(env):
    Profile = env["customer.tier.profile"]
    return lambda: Profile.read_group(
        [("is_prospect", "=", False)], ["revenue_window:sum"], ["tier_id"], lazy=False
    )


def profile_list(env, view_xmlid="customer_tier.customer_tier_profile_view_list"):
    """Profile list as it opens (filter Customers, first 80 rows)."""
    Profile = env["customer.tier.profile"]
    spec, order, limit = view_call(Profile, "list", env.ref(view_xmlid).id)
    domain = [("is_prospect", "=", False)]
    return lambda: web_search_read(Profile, domain, spec, order, limit)


def profile_grouped(env):
    """Profile list grouped by tier, then the largest group unfolded."""
    Profile = env["customer.tier.profile"]
    view = env.ref("customer_tier.customer_tier_profile_view_list")
    spec, order, limit = view_call(Profile, "list", view.id)
    domain = [("is_prospect", "=", False)]

    def call():
        groups = Profile.web_read_group(
            domain, aggregates(Profile, spec), ["tier_id"], limit=LIST_LIMIT, lazy=True
        )["groups"]
        if groups:
            biggest = max(groups, key=lambda g: g["tier_id_count"])
            web_search_read(Profile, biggest["__domain"], spec, order, limit)

    return call


def classification_list(env):
    return profile_list(
        env, "customer_tier.customer_tier_profile_view_list_classification"
    )


def classification_pivot(env):
    Profile = env["customer.tier.profile"]
    measures = ["__count", "revenue_window:sum", "estimated_purchase:sum"]
    return lambda: pivot_calls(Profile, [], ["tier_id"], ["region_id"], measures)


def pareto_list(env):
    """80/20 list as it opens (grouped by band), then the top band unfolded."""
    Report = env["customer.tier.pareto.report"]
    spec, order, limit = view_call(Report, "list")

    def call():
        groups = Report.web_read_group(
            [],
            aggregates(Report, spec),
            ["band"],
            limit=LIST_LIMIT,
            orderby=group_order(Report, order, "band", spec),
            lazy=True,
        )["groups"]
        if groups:
            web_search_read(Report, groups[0]["__domain"], spec, order, limit)

    return call


def pareto_graph(env):
    Report = env["customer.tier.pareto.report"]

    def call():
        Report.read_group([], ["cumulative_share:max"], ["decile"], lazy=False)
        pivot_calls(
            Report,
            [],
            ["band"],
            [],
            ["revenue_window:sum", "revenue_share:sum", "cumulative_share:max"],
        )

    return call


def dashboard(env):
    """The data sources of the Customer Tiers dashboard (its spreadsheet's
    pivots and lists, unfiltered): one call each, the client loads them
    separately (a list of calls: each is timed, the slowest is reported)."""
    import json

    from odoo.tools.misc import file_path

    path = file_path(f"{MODULE}/data/files/customer_tier_dashboard.json")
    with open(path) as handle:
        data = json.load(handle)
    pivots, lists = [], []
    for pivot in data.get("pivots", {}).values():
        Model = env[pivot["model"]]
        measures = [
            m["fieldName"]
            if m["fieldName"] == "__count"
            else f"{m['fieldName']}:{Model._fields[m['fieldName']].aggregator}"
            for m in pivot.get("measures", [])
        ]
        rows = [r["fieldName"] for r in pivot.get("rows") or []]
        cols = [c["fieldName"] for c in pivot.get("columns") or []]
        pivots.append((Model, pivot.get("domain") or [], rows, cols, measures))
    for listing in data.get("lists", {}).values():
        order = ", ".join(
            f"{o['name']} {'ASC' if o.get('asc') else 'DESC'}"
            for o in listing.get("orderBy", [])
        )
        lists.append(
            (
                env[listing["model"]],
                listing.get("domain") or [],
                listing["columns"],
                order or None,
            )
        )

    calls = [lambda args=args: pivot_calls(*args) for args in pivots]
    calls += [
        lambda m=Model, d=domain, c=columns, o=order: m.search_read(
            d, c, order=o, limit=100
        )
        for Model, domain, columns, order in lists
    ]
    return calls


REPORTS = {
    "analysis pivot (by tier)": analysis_pivot,
    "analysis pivot (tier x country)": analysis_pivot_country,
    "analysis graph": analysis_graph,
    "profile list": profile_list,
    "profile list grouped by tier": profile_grouped,
    "classification list": classification_list,
    "classification pivot (tier x region)": classification_pivot,
    "80/20 list (by band, top unfolded)": pareto_list,
    "80/20 graph and pivot": pareto_graph,
    "dashboard, slowest data source": dashboard,
}


def workbook(env, path):
    """The manager's workbook of the main company, to ``path``."""
    from odoo import fields

    company = env.company
    today = fields.Date.context_today(env["res.partner"])
    env["customer.tier.workbook"]._write_workbook(
        path, company, today.replace(month=1, day=1), today
    )


# ----------------------------------------------------------------------
class Bench(EngineBench):
    """The web calls' measurements, on the engine benchmark's state (its
    options, results and superuser ``env``)."""

    def user_env(self, cr, login):
        import odoo

        env = self.env(cr)
        user = env["res.users"].search([("login", "=", login)], limit=1)
        if not user:
            sys.exit(f"No user {login!r} in {self.args.db}.")
        company = env.ref("base.main_company")
        context = {
            "lang": user.lang or "en_US",
            "tz": user.tz or "UTC",
            "uid": user.id,
            "allowed_company_ids": [company.id],
        }
        return odoo.api.Environment(cr, user.id, context)

    def prepare(self):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            company = env.ref("base.main_company")
            profiles = env["customer.tier.profile"].search_count(
                [("company_id", "=", company.id)]
            )
            if profiles:
                print(f"{profiles:,} profiles already: nothing to prepare")
                return
            program = env["customer.tier.program"].search(
                [("company_id", "=", company.id)], limit=1
            )
            start = time.perf_counter()
            result = program._engine().run()
            env.flush_all()
            cr.commit()
            print(
                f"prepared: full recompute of {result['written']:,} profiles "
                f"committed in {time.perf_counter() - start:.1f} s"
            )
        vacuum(
            self.args.db,
            ("customer_tier_profile", "customer_tier_history", "res_partner"),
        )

    def describe(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE customer_rank > 0) "
                "FROM res_partner"
            )
            partners, customers = cr.fetchone()
            cr.execute("SELECT COUNT(*) FROM customer_tier_profile")
            profiles = cr.fetchone()[0]
            user = self.user_env(cr, self.args.login)
            own = user["res.partner"].search_count([("user_id", "=", user.uid)])
            manager = self.user_env(cr, self.args.manager_login)
            print(
                f"Database {self.args.db}: {partners:,} partners ({customers:,} "
                f"with customer_rank > 0), {profiles:,} profiles; salesperson "
                f"{self.args.login} ({own:,} own partners), manager "
                f"{self.args.manager_login}"
            )
            spec, _order, _limit = view_call(user["res.partner"], "list")
            print(
                "module fields of the partner list spec (removed for 'plain'): "
                + ", ".join(module_fields(user["res.partner"], spec))
            )
            spec, _order, _limit = view_call(manager["res.partner"], "kanban")
            print(
                "module fields of the partner kanban spec (removed for 'plain'): "
                + ", ".join(module_fields(manager["res.partner"], spec))
            )
            if not profiles:
                print("No profile: run with --prepare first.")
            cr.rollback()

    # ------------------------------------------------------------------
    def cases(self):
        """(key, login, prepare(env) -> timed call) of every case."""
        result = []
        users = (("sales", self.args.login), ("manager", self.args.manager_login))
        if "partners" not in self.skip:
            for who, login in users:
                for scope in PARTNER_SCOPES:
                    for view_type in ("list", "kanban"):
                        for variant in ("plain", "tier", "filter"):
                            key = ("partner", who, scope, view_type, variant)
                            result.append(
                                (
                                    key,
                                    login,
                                    lambda env, s=scope, v=view_type, x=variant: (
                                        partner_list(env, s, v, x)
                                    ),
                                )
                            )
                    result.append(
                        (
                            ("partner", who, scope, "list", "grouped"),
                            login,
                            lambda env, s=scope: partner_grouped(env, s),
                        )
                    )
        if "reports" not in self.skip:
            for who, login in users:
                for name, func in REPORTS.items():
                    result.append((("report", who, name), login, func))
        return result

    @contextmanager
    def request(self, cr, login):
        """A new environment of the user with an empty record cache."""
        env = self.user_env(cr, login)
        env.invalidate_all()
        env.transaction.clear()
        yield env

    def run(self, index):
        vacuum(self.args.db)
        cases = self.cases()
        cr = self.registry.cursor()
        try:
            self.registry.clear_all_caches()
            for _key, login, prepare in cases:  # warm: views, rules, ormcaches
                with self.request(cr, login) as env:
                    call = prepare(env)
                    for each in call if isinstance(call, list) else [call]:
                        each()
            # plain and module variants alternate, so load drifts hit both
            for key, login, prepare in cases:
                with self.request(cr, login) as env:
                    call = prepare(env)  # what the client has before the call
                    calls = call if isinstance(call, list) else [call]
                    measures = []
                    for each in calls:
                        env.invalidate_all()
                        with Measure(env) as m:
                            each()
                        measures.append(m)
                # several calls (the dashboard): the slowest one
                slowest = max(measures, key=lambda m: m.seconds)
                slowest.calls = len(measures)
                self.results[key].append(slowest)
        finally:
            cr.rollback()
            cr.close()
        print(f"run {index + 1}: {len(cases)} calls timed", flush=True)

    def run_workbook(self):
        """The workbook in a forked child: (seconds, child's peak RSS MB,
        RSS at the fork MB, file size, cpu seconds, queries)."""
        path = tempfile.mktemp(suffix=".xlsx", prefix="ct_ui_latency.")
        read_end, write_end = os.pipe()
        rss_fork = current_rss_mb()
        pid = os.fork()
        if pid == 0:  # child: own connection pool, never closes the parent's
            code = 1
            try:
                os.close(read_end)
                from odoo import sql_db

                keep = (sql_db._Pool, self.registry._db)  # noqa: F841
                sql_db._Pool = None
                self.registry._db = sql_db.db_connect(self.args.db)
                self.registry.clear_all_caches()
                with self.registry.cursor() as cr:
                    env = self.user_env(cr, self.args.manager_login)
                    with Measure(env) as m:
                        workbook(env, path)
                    cr.rollback()
                os.write(write_end, f"{m.seconds} {m.cpu} {m.queries}".encode())
                code = 0
            except Exception as exc:  # pylint: disable=broad-except
                os.write(write_end, f"error {exc!r}".encode())
            finally:
                os._exit(code)
        os.close(write_end)
        _pid, status, usage = os.wait4(pid, 0)
        with os.fdopen(read_end) as pipe:
            message = pipe.read()
        if status != 0:
            sys.exit(f"workbook failed: {message}")
        size = os.path.getsize(path)
        os.unlink(path)
        seconds, cpu, count = message.split()
        return (
            float(seconds),
            usage.ru_maxrss / 1024.0,
            rss_fork,
            size,
            float(cpu),
            int(count),
        )

    # ------------------------------------------------------------------
    def report(self):
        res = self.results

        def med(key, attr="seconds"):
            return statistics.median(getattr(m, attr) for m in res[key])

        def ratio(key, base, attr="seconds"):
            return statistics.median(
                getattr(a, attr) / getattr(b, attr)
                for a, b in zip(res[key], res[base], strict=True)
            )

        def verdict(ok):
            return "PASS" if ok else "MISS"

        runs = len(next(iter(res.values()), []))
        print(f"\n== medians of {runs} runs (server time of each web call) ==")
        if any(k[0] == "partner" for k in res):
            print(
                f"{'customer list / kanban':<52} {'wall':>8} {'cpu':>8} "
                f"{'queries':>7}  ratio to plain (target <= {TARGETS['ratio']})"
            )
        for key in res:
            if key[0] != "partner":
                continue
            _p, who, scope, view_type, variant = key
            label = f"{who:<7} {scope:<12} {view_type:<6} {variant}"
            line = (
                f"  {label:<50} {med(key) * 1000:6.1f}ms "
                f"{med(key, 'cpu') * 1000:6.1f}ms {med(key, 'queries'):7.0f}"
            )
            base = ("partner", who, scope, view_type, "plain")
            if variant in ("tier", "filter"):
                value = ratio(key, base)
                line += (
                    f"  x{value:.2f} (cpu x{ratio(key, base, 'cpu'):.2f})  "
                    f"{verdict(value <= TARGETS['ratio'])}"
                )
            elif variant == "grouped":
                value = med(key)
                line += (
                    f"  (target < {TARGETS['report_seconds']:.0f} s) "
                    f"{verdict(value < TARGETS['report_seconds'])}"
                )
            print(line)
        if any(k[0] == "report" for k in res):
            print(
                f"\n{'reports over the profiles':<52} {'wall':>8} {'cpu':>8} "
                f"{'queries':>7}  target < {TARGETS['report_seconds']:.0f} s"
            )
        for key in res:
            if key[0] != "report":
                continue
            _r, who, name = key
            value = med(key)
            print(
                f"  {who:<7} {name:<42} {value * 1000:6.1f}ms "
                f"{med(key, 'cpu') * 1000:6.1f}ms {med(key, 'queries'):7.0f}  "
                f"{verdict(value < TARGETS['report_seconds'])}"
            )
        if self.workbooks:
            seconds = statistics.median(w[0] for w in self.workbooks)
            rss = max(w[1] for w in self.workbooks)
            fork = self.workbooks[0][2]
            cpu = statistics.median(w[4] for w in self.workbooks)
            print(
                f"\nworkbook (manager, every customer): {seconds:.2f} s, cpu "
                f"{cpu:.2f} s, {self.workbooks[0][5]} queries "
                f"[{' '.join(f'{w[0]:.2f}' for w in self.workbooks)}], "
                f"{self.workbooks[0][3] / 1e6:.1f} MB file; "
                f"{verdict(seconds < TARGETS['workbook_seconds'])} target < "
                f"{TARGETS['workbook_seconds']:.0f} s"
            )
            print(
                f"workbook peak RSS of the process {rss:.0f} MB (registry loaded: "
                f"{fork:.0f} MB at the fork, +{rss - fork:.0f} MB); "
                f"{verdict(rss < TARGETS['workbook_mb'])} target < "
                f"{TARGETS['workbook_mb']:.0f} MB"
            )
        print(f"\npeak RSS of this process {peak_rss_mb():.0f} MB")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    registry = setup_odoo(args)
    bench = Bench(registry, args)
    if args.prepare:
        bench.prepare()
    bench.describe()
    bench.workbooks = []
    for index in range(args.runs):
        bench.run(index)
        if "workbook" not in bench.skip:
            bench.workbooks.append(bench.run_workbook())
            print(
                f"  workbook {bench.workbooks[-1][0]:.2f} s "
                f"(cpu {bench.workbooks[-1][4]:.2f} s)",
                flush=True,
            )
    bench.report()


if __name__ == "__main__":
    main()
