"""Every view, window action and menu of the module opens."""

from datetime import date

from lxml import etree

from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CustomerTierCase


@tagged("post_install", "-at_install")
class TestViews(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Viewed Ltd", user_id=cls.user_own.id)
        cls._order(cls.customer, 3000, date(2024, 5, 1))
        cls._order(cls.customer, 1000, date(2024, 6, 1))
        cls.prospect = cls._customer(
            "Maybe Ltd", customer_rank=1, user_id=cls.user_own.id
        )
        cls._run()
        cls.profile = cls._profile(cls.customer)
        cls.manager_env = cls._env_as(cls.user_manager)
        cls.own_env = cls._env_as(cls.user_own)

    def _module_records(self, model):
        data = self.env["ir.model.data"].search(
            [("module", "=", "customer_tier"), ("model", "=", model)]
        )
        return self.env[model].browse(data.mapped("res_id")).exists()

    def test_every_view_loads(self):
        views = self._module_records("ir.ui.view")
        self.assertGreaterEqual(len(views), 20)
        for view in views.filtered(lambda v: v.model and v.type != "qweb"):
            for env in (self.manager_env, self.own_env):
                Model = env[view.model]
                if not Model.has_access("read"):
                    continue
                with self.subTest(view=view.xml_id, user=env.user.login):
                    result = Model.get_views([(view.id, view.type)])
                    arch = result["views"][view.type]["arch"]
                    self.assertTrue(etree.fromstring(arch).tag)
                    self.assertIn(view.model, result["models"])

    def test_inherited_views_apply(self):
        Partner = self.own_env["res.partner"]
        form = etree.fromstring(
            Partner.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertTrue(form.xpath("//page[@name='customer_tier']"))
        self.assertTrue(
            form.xpath("//button[@name='action_view_customer_tier_profile']")
        )
        for view_type in ("list", "kanban", "search"):
            arch = etree.fromstring(
                Partner.get_views([(False, view_type)])["views"][view_type]["arch"]
            )
            self.assertTrue(arch.xpath("//field[@name='customer_tier_id']"), view_type)
        search = etree.fromstring(
            Partner.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        for name in ("tier_a", "tier_d", "tier_prospects", "tier_reorder_overdue"):
            self.assertTrue(search.xpath(f"//filter[@name='{name}']"), name)
        # a user outside the tier groups gets none of it
        employee = self.env["res.users"].create(
            {
                "name": "Plain Employee",
                "login": "ct_plain_employee",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [(6, 0, [self.env.ref("base.group_user").id])],
            }
        )
        form = etree.fromstring(
            self._env_as(employee)["res.partner"].get_views([(False, "form")])["views"][
                "form"
            ]["arch"]
        )
        self.assertFalse(form.xpath("//page[@name='customer_tier']"))

    def test_partner_search_filters(self):
        Partner = self.own_env["res.partner"]
        arch = etree.fromstring(
            Partner.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        eval_context = {"uid": self.user_own.id}
        domains = {
            node.get("name"): safe_eval(node.get("domain"), eval_context)
            for node in arch.xpath("//filter[starts-with(@name, 'tier_')]")
        }
        tier = self.profile.tier_id
        self.assertEqual(tier, self.tier_b)
        found = Partner.search(domains["tier_b"] + [("id", "in", self.customer.ids)])
        self.assertEqual(found, self.customer)
        self.assertFalse(
            Partner.search(domains["tier_a"] + [("id", "=", self.customer.id)])
        )
        self.assertEqual(
            Partner.search(domains["tier_prospects"] + [("is_company", "=", True)]),
            self.prospect,
        )
        # group by tier
        groups = Partner.web_read_group(
            [("id", "in", (self.customer | self.prospect).ids)],
            ["customer_tier_id"],
            ["customer_tier_id"],
        )["groups"]
        self.assertEqual(
            {
                g["customer_tier_id"] and g["customer_tier_id"][0]: g[
                    "customer_tier_id_count"
                ]
                for g in groups
            },
            {self.tier_b.id: 1, False: 1},
        )

    def test_every_action_loads(self):
        actions = self._module_records("ir.actions.act_window")
        self.assertGreaterEqual(len(actions), 4)
        Actions = self.manager_env["ir.actions.act_window"]
        for xml_id in actions.mapped("xml_id"):
            with self.subTest(action=xml_id):
                action = Actions._for_xml_id(xml_id)
                Model = self.manager_env[action["res_model"]]
                context = safe_eval(
                    action.get("context") or "{}",
                    {"uid": self.user_manager.id, "active_id": False, "active_ids": []},
                )
                views = [list(v) for v in action["views"]]
                if action.get("search_view_id"):
                    views.append([action["search_view_id"][0], "search"])
                else:
                    views.append([False, "search"])
                result = Model.with_context(**context).get_views(
                    views,
                    {"load_filters": True, "toolbar": True, "action_id": action["id"]},
                )
                self.assertEqual(set(result["views"]), {v[1] for v in views}, xml_id)
                domain = safe_eval(
                    action.get("domain") or "[]", {"uid": self.user_manager.id}
                )
                if "list" in result["views"]:
                    fields = result["models"][action["res_model"]]["fields"]
                    spec = {name: {} for name in fields}
                    Model.with_context(**context).web_search_read(
                        domain, spec, limit=80
                    )

    def test_menus(self):
        menus = self._module_records("ir.ui.menu")
        self.assertTrue(menus)
        for menu in menus.filtered("action"):
            self.assertTrue(menu.action.exists(), menu.complete_name)
        visible_manager = self.manager_env["ir.ui.menu"]._visible_menu_ids()
        visible_own = self.own_env["ir.ui.menu"]._visible_menu_ids()
        profiles_menu = self.env.ref("customer_tier.customer_tier_profile_menu")
        config_menu = self.env.ref("customer_tier.customer_tier_config_menu")
        self.assertIn(profiles_menu.id, visible_own)
        self.assertNotIn(config_menu.id, visible_own)
        self.assertIn(config_menu.id, visible_manager)

    # ------------------------------------------------------------------
    # Forms
    # ------------------------------------------------------------------
    def test_program_form(self):
        program = self.program.with_env(self.manager_env)
        with Form(program) as form:
            form.window_months = 6
            form.reorder_overdue_factor = 2.0
            with form.tier_ids.new() as line:
                line.code = "E"
                line.name = "Extra"
                line.sequence = 50
        self.assertEqual(program.window_months, 6)
        extra = program.tier_ids.filtered(lambda t: t.code == "E")
        self.assertEqual(extra.kind, "customer")
        self.assertEqual(program._customer_tiers()[-1], extra)  # new fallback
        action = program.action_open_recompute()
        self.assertEqual(action["res_model"], "customer.tier.recompute")
        action = program.action_view_profiles()
        self.assertIn(
            self.profile, self.env[action["res_model"]].search(action["domain"])
        )

    def test_program_form_layout(self):
        """Five pages by concern, the technical settings on the last one."""
        program = self.program.with_env(self.manager_env)
        arch = etree.fromstring(
            program.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        pages = arch.xpath("//notebook/page")
        self.assertEqual(
            [page.get("name") for page in pages],
            ["tiers", "service", "grades", "prediction", "advanced"],
        )

        def fields_of(page):
            return {
                node.get("name")
                for node in arch.xpath(f"//page[@name='{page}']//field")
                if not node.xpath("ancestor::list")
            }

        technical = {"batch_size", "followup_batch_size", "predict_min_repeaters"}
        self.assertEqual(fields_of("advanced"), technical)
        for page in ("tiers", "service", "grades", "prediction"):
            self.assertFalse(fields_of(page) & technical, page)
        self.assertLessEqual(
            {
                "followup_user_id",
                "followup_days_ahead",
                "key_date_remind_days",
                "sample_fee_product_ids",
                "loyalty_program_id",
                "loyalty_expiry_months",
            },
            fields_of("service"),
        )
        self.assertIn("segment_ids", fields_of("tiers"))
        self.assertLessEqual(
            {"grade_ids", "prospect_weight_volume", "region_group_ids"},
            fields_of("grades"),
        )
        self.assertIn("churn_alive_bound", fields_of("prediction"))
        # every setting of the form is still editable through it
        with Form(program) as form:
            form.batch_size = 700
            form.followup_batch_size = 80
            form.predict_min_repeaters = 12
            form.followup_days_ahead = 4
            form.loyalty_expiry_months = 20
            form.prospect_weight_fit = 15
        self.assertEqual(
            (
                program.batch_size,
                program.followup_batch_size,
                program.predict_min_repeaters,
                program.followup_days_ahead,
                program.loyalty_expiry_months,
                program.prospect_weight_fit,
            ),
            (700, 80, 12, 4, 20, 15),
        )

    def _arch(self, env, model, view_type, xmlid=None):
        view_id = self.env.ref(xmlid).id if xmlid else False
        views = env[model].get_views([(view_id, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_tier_badges_read_the_tier_colour(self):
        """Wherever a tier shows as a badge, it is drawn in the colour of
        the tier (the swatch a manager picks), read from the same field."""
        badges = [
            (self.own_env, "res.partner", "form", None, "customer_tier_color"),
            (self.own_env, "res.partner", "list", None, "customer_tier_color"),
            (self.own_env, "res.partner", "kanban", None, "customer_tier_color"),
            (self.own_env, "customer.tier.profile", "form", None, "tier_color"),
            (self.own_env, "customer.tier.profile", "list", None, "tier_color"),
            (
                self.own_env,
                "customer.tier.profile",
                "list",
                "customer_tier.customer_tier_profile_view_list_classification",
                "tier_color",
            ),
            (
                self.own_env,
                "customer.tier.profile",
                "list",
                "customer_tier.customer_tier_profile_view_list_followup",
                "tier_color",
            ),
        ]
        for env, model, view_type, xmlid, color in badges:
            with self.subTest(model=model, view=xmlid or view_type):
                arch = self._arch(env, model, view_type, xmlid)
                nodes = arch.xpath("//field[@widget='customer_tier_badge']")
                self.assertTrue(nodes)
                for node in nodes:
                    self.assertEqual(
                        safe_eval(node.get("options")), {"color_field": color}
                    )
                    self.assertFalse(
                        [a for a in node.attrib if a.startswith("decoration-")]
                    )
                self.assertTrue(arch.xpath(f"//field[@name='{color}']"))
                self.assertFalse(
                    arch.xpath(
                        "//field[@name='tier_id' or @name='customer_tier_id']"
                        "[@widget='badge']"
                    )
                )
        tier = self.tier_b.with_env(self.own_env)
        self.assertEqual(
            tier.color,
            self.customer.with_env(self.own_env)
            .with_company(self.company)
            .customer_tier_color,
        )
        self.assertEqual(tier.color, self.profile.with_env(self.own_env).tier_color)

    def test_partner_list_tier_column(self):
        arch = self._arch(self.own_env, "res.partner", "list")
        (column,) = arch.xpath("//field[@name='customer_tier_id']")
        self.assertEqual(column.get("widget"), "customer_tier_badge")
        self.assertEqual(column.get("optional"), "show")
        self.assertGreaterEqual(int(column.get("width").removesuffix("px")), 120)

    def test_classification_list_columns(self):
        """The classification list opens on the columns that matter; the
        others are a click away (optional, hidden)."""
        action = self.env.ref("customer_tier.customer_tier_classification_action")
        view_id = action.view_id.id or next(
            (v.view_id.id for v in action.view_ids if v.view_mode == "list"), False
        )
        self.assertEqual(
            view_id,
            self.env.ref(
                "customer_tier.customer_tier_profile_view_list_classification"
            ).id,
        )
        expected = {
            "customer_tier.customer_tier_profile_view_list_classification": [
                "partner_id",
                "tier_id",
                "main_category_id",
                "region_id",
                "frequency_class",
                "share_of_wallet",
                "revenue_window",
                "user_id",
            ],
            "customer_tier.customer_tier_profile_view_list": [
                "partner_id",
                "tier_id",
                "at_risk",
                "user_id",
                "revenue_window",
                "order_count_window",
                "last_order_date",
                "cumulative_share",
            ],
        }
        for xmlid, columns in expected.items():
            with self.subTest(view=xmlid):
                arch = self._arch(
                    self.manager_env, "customer.tier.profile", "list", xmlid
                )
                shown = [
                    node.get("name")
                    for node in arch.xpath("/list/field")
                    if node.get("optional", "show") == "show"
                    and not node.get("column_invisible")
                ]
                self.assertEqual(shown, columns)
                for node in arch.xpath("/list/field"):
                    if node.get("name") not in columns and not node.get(
                        "column_invisible"
                    ):
                        self.assertEqual(node.get("optional"), "hide", node.get("name"))

    def test_shares_show_two_decimals_at_most(self):
        share_fields = {
            "revenue_share",
            "cumulative_share",
            "main_category_share",
            "share_of_wallet",
            "share_of_wallet_raw",
            "tier_revenue_share",
            "tier_cumulative_share",
            "tier_share_of_wallet",
            "prob_alive",
            "churn_alive_bound",
        }
        # (the recompute wizard's preview lines are left to the wizard)
        views = self._module_records("ir.ui.view").filtered(
            lambda v: v.type in ("list", "form") and not self.env[v.model]._transient
        )
        seen = set()
        for view in views:
            arch = etree.fromstring(view.arch_db)
            for node in arch.xpath("//field[@widget='percentage']"):
                with self.subTest(view=view.xml_id, field=node.get("name")):
                    self.assertEqual(node.get("digits"), "[16, 2]")
                    seen.add(node.get("name"))
        self.assertLessEqual(seen, share_fields)
        self.assertGreaterEqual(len(seen), 8)

    def test_tier_form(self):
        with Form(self.tier_a.with_env(self.manager_env)) as form:
            form.min_revenue = 12345
            form.max_recency_days = 99
        self.assertEqual(self.tier_a.min_revenue, 12345)
        with Form(self.manager_env["customer.tier"]) as form:
            form.program_id = self.program
            form.kind = "prospect"
            form.code = "Z"
            form.name = "Prospect Z"
            form.sequence = 90
        tier = form.record
        self.assertEqual(tier.company_id, self.company)
        self.assertIn(tier, self.program.grade_ids)

    def test_profile_form(self):
        profile = self.profile.with_env(self.manager_env)
        with Form(profile) as form:
            self.assertEqual(form.revenue_window, 4000.0)
            form.manual_tier_id = self.tier_a
            form.manual_reason = "Strategic account"
        self.assertEqual(profile.tier_id, self.tier_a)
        self.assertTrue(profile.manual_differs)
        action = profile.action_view_history()
        history = self.env[action["res_model"]].search(action["domain"])
        self.assertIn("manual", history.mapped("cause"))
        # the salesperson opens the profile read-only
        form = Form(self.profile.with_env(self.own_env))
        self.assertEqual(form.tier_id, self.tier_a)

    def test_partner_form_tier_page(self):
        form = Form(self.customer.with_env(self.own_env))
        self.assertEqual(form.customer_tier_id, self.tier_b)
        self.assertEqual(form.customer_tier_profile_id, self.profile)
        self.assertEqual(form.tier_revenue_window, 4000.0)
        self.assertEqual(form.tier_order_count, 2)
        self.assertEqual(str(form.tier_last_order_date), "2024-06-01")
        self.assertEqual(form.tier_frequency_class, "occasional")
        form = Form(self.prospect.with_env(self.own_env))
        self.assertTrue(form.tier_is_prospect)
        action = self.customer.with_env(
            self.own_env
        ).action_view_customer_tier_profile()
        self.assertEqual(action["res_id"], self.profile.id)

    def test_recompute_wizard(self):
        Wizard = self.manager_env["customer.tier.recompute"].with_context(
            default_program_id=self.program.id
        )
        newcomer = self._customer("Newcomer Ltd")
        self._order(newcomer, 20000, date(2024, 6, 15))
        self._order(newcomer, 20000, date(2024, 6, 20))
        self._order(newcomer, 20000, date(2024, 6, 25))
        with Form(Wizard) as form:
            form.eval_date = self.eval_date
        wizard = form.record
        wizard.action_preview()
        self.assertEqual(wizard.state, "preview")
        line = wizard.line_ids.filtered(lambda ln: ln.partner_id == newcomer)
        self.assertEqual(line.to_tier_id, self.tier_a)
        self.assertEqual(line.revenue_window, 60000.0)
        # the previewed wizard opens too, then applies what it showed
        form = Form(wizard)
        self.assertEqual(form.state, "preview")
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(self._profile(newcomer).tier_id, self.tier_a)
        self.assertEqual(
            newcomer.with_company(self.company).customer_tier_id, self.tier_a
        )
