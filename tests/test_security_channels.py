"""A salesperson limited to own documents learns nothing about the customers
of other salespeople, and a user of another company nothing about this
company's customers, by any channel: the 80/20 report, the stored shares and
ranks, the tier card, the workbook, the chatter, the loyalty figures, and
searches on the partner.

Fixture (company A unless said otherwise), window revenue on 2024-06-30:

* ``mine_big`` 20,000 and ``mine_small`` 5,000, customers of ``user_own``;
* ``other`` 365,400.40, a customer of ``user_all``;
* ``unowned`` 13,973, without salesperson;
* ``cust_b`` 7,000 in company B, a customer of ``user_b``.
"""

import io
import re
from datetime import date

from openpyxl import load_workbook

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import CustomerTierCase
from .test_assignment import AssignmentCase

E = date(2024, 6, 30)
LATER = date(2025, 9, 30)  # every window revenue has aged out
OWN_TOTAL = 25000.0
COMPANY_TOTAL = 20000 + 5000 + 365400.40 + 13973
# shares and ranks computed over the whole company
COMPANY_WIDE = ("revenue_share", "cumulative_share", "pareto_rank")
PARTNER_COMPANY_WIDE = ("tier_revenue_share", "tier_cumulative_share")


@tagged("post_install", "-at_install")
class TestSecurityChannels(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine_big = cls._customer("Own Big", user_id=cls.user_own.id)
        cls.mine_small = cls._customer("Own Small", user_id=cls.user_own.id)
        cls.other = cls._customer("Other Salesperson's", user_id=cls.user_all.id)
        cls.unowned = cls._customer("Nobody's")
        cls.cust_b = cls._customer("Company B Customer", user_id=cls.user_b.id)
        cls.customers = cls.mine_big | cls.mine_small | cls.other | cls.unowned
        for partner, day, amount in (
            (cls.mine_big, "2024-03-01", 12000),
            (cls.mine_big, "2024-05-01", 8000),
            (cls.mine_small, "2024-04-01", 5000),
            (cls.other, "2024-02-01", 365400.40),
            (cls.unowned, "2024-05-15", 13973),
        ):
            cls._order(partner, amount, date.fromisoformat(day))
        cls._order(cls.cust_b, 7000, date(2024, 5, 2), company=cls.company_b)
        cls._run(E)
        cls._run(E, company=cls.company_b)
        cls.prof = {p: cls._profile(p) for p in cls.customers}
        cls.prof_b = cls._profile(cls.cust_b, company=cls.company_b)
        cls.user_tier_only = mail_new_test_user(
            cls.env,
            login="ct_tier_only",
            name="Tier Only",
            groups="base.group_user,customer_tier.group_customer_tier_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

    def _partners(self, user, company=None):
        return self._env_as(user, company)["res.partner"]

    # ------------------------------------------------------------------
    # 80/20 report: ranked among the customers the user may see
    # ------------------------------------------------------------------
    def test_pareto_report_is_own_portfolio(self):
        Report = self._env_as(self.user_own)["customer.tier.pareto.report"]
        rows = Report.search([])
        self.assertEqual(rows.partner_id, self.mine_big | self.mine_small)
        self.assertEqual(rows.mapped("pareto_rank"), [1, 2])
        for row in rows:
            # the total behind the shares is his own, not the company's
            self.assertAlmostEqual(
                row.revenue_window / row.revenue_share * 100, OWN_TOTAL, places=2
            )
        big, small = rows
        self.assertAlmostEqual(big.revenue_share, 80.0, places=4)
        self.assertAlmostEqual(big.cumulative_share, 80.0, places=4)
        self.assertAlmostEqual(small.cumulative_share, 100.0, places=4)
        # consecutive cumulative shares give back his own revenue only
        self.assertAlmostEqual(
            (small.cumulative_share - big.cumulative_share) / 100 * OWN_TOTAL,
            5000.0,
            places=2,
        )
        self.assertEqual(rows.mapped("customer_share"), [50.0, 100.0])
        self.assertEqual(rows.mapped("band"), ["1_top", "2_rest"])
        self.assertEqual(rows.mapped("decile"), ["05", "10"])
        [total] = Report.read_group([], ["revenue_share:sum"], [], lazy=False)
        self.assertAlmostEqual(total["revenue_share"], 100.0, places=4)
        # a salesperson who sees all customers gets the company's 80/20
        rows = self._env_as(self.user_all)["customer.tier.pareto.report"].search([])
        self.assertEqual(
            rows.partner_id.ids,
            (self.other | self.mine_big | self.unowned | self.mine_small).ids,
        )
        self.assertAlmostEqual(
            rows[0].revenue_window / rows[0].revenue_share * 100,
            COMPANY_TOTAL,
            places=2,
        )
        # company B: its own customers only, ranked among themselves
        rows = self._env_as(self.user_b)["customer.tier.pareto.report"].search([])
        self.assertEqual(rows.partner_id, self.cust_b)
        self.assertEqual(rows.pareto_rank, 1)
        self.assertAlmostEqual(rows.revenue_share, 100.0, places=4)

    def test_company_wide_shares_are_not_his_to_read(self):
        profile = self.prof[self.mine_big].with_env(self._env_as(self.user_own))
        partner = self.mine_big.with_env(self._env_as(self.user_own))
        self.assertEqual(profile.revenue_window, 20000)  # his own figures: yes
        for fname in COMPANY_WIDE:
            with self.assertRaises(AccessError, msg=fname):
                profile.read([fname])
        for fname in PARTNER_COMPANY_WIDE:
            with self.assertRaises(AccessError, msg=fname):
                partner.read([fname])
        # nor by searching on them
        with self.assertRaises(AccessError):
            profile.search([("cumulative_share", "<=", 0.5)])
        # who sees every customer reads them
        profile = self.prof[self.mine_big].with_env(self._env_as(self.user_all))
        self.assertEqual(profile.pareto_rank, 2)
        self.assertAlmostEqual(profile.revenue_share, 20000 / COMPANY_TOTAL, places=4)
        self.assertAlmostEqual(
            self.mine_big.with_env(self._env_as(self.user_all)).tier_cumulative_share,
            (365400.40 + 20000) / COMPANY_TOTAL,
            places=4,
        )

    def test_shares_from_the_snapshot_follow_the_record_rules(self):
        """The rank and shares, read from the ranking snapshot (which no user
        reads), show for exactly the profiles a user reads, each over its own
        company; a search, sort or group on them tells nothing of another
        company's or (limited salesperson) another salesperson's customers."""
        with self.assertRaises(AccessError):
            self._env_as(self.user_all)["customer.tier.ranking.entry"].search([])
        Profile = self._env_as(self.user_all)["customer.tier.profile"]
        ranked = Profile.search([("revenue_share", ">", 0)], order="pareto_rank")
        self.assertEqual(
            ranked.partner_id,
            self.other | self.mine_big | self.unowned | self.mine_small,
        )
        self.assertEqual(ranked.mapped("pareto_rank"), [1, 2, 3, 4])
        self.assertAlmostEqual(sum(ranked.mapped("revenue_share")), 1.0, places=9)
        # company B's only customer has all of its company's revenue: no
        # profile of company A matches, and company B's is not found
        self.assertFalse(Profile.search([("revenue_share", ">=", 0.999)]))
        self.assertFalse(
            Profile.search([("cumulative_share", "=", 1.0), ("pareto_rank", "=", 1)])
        )
        [group] = Profile.read_group([], ["revenue_share"], [])
        self.assertAlmostEqual(group["revenue_share"], 1.0, places=9)
        # searchable, sortable and groupable as when they were stored
        described = Profile.fields_get(
            list(COMPANY_WIDE), ["searchable", "sortable", "groupable"]
        )
        for fname in COMPANY_WIDE:
            self.assertEqual(
                described[fname],
                {"searchable": True, "sortable": True, "groupable": True},
            )
        groups = Profile.read_group([], ["revenue_share"], ["pareto_rank"])
        self.assertEqual([g["pareto_rank"] for g in groups], [1, 2, 3, 4])
        ProfileB = self._env_as(self.user_b, self.company_b)["customer.tier.profile"]
        found = ProfileB.search([("revenue_share", ">", 0)])
        self.assertEqual(found, self.prof_b)
        self.assertEqual(
            (found.pareto_rank, found.revenue_share, found.cumulative_share),
            (1, 1.0, 1.0),
        )
        self.assertFalse(ProfileB.search([("pareto_rank", ">", 1)]))
        # the limited salesperson: not by reading, sorting nor grouping
        Own = self._env_as(self.user_own)["customer.tier.profile"]
        for fname in COMPANY_WIDE:
            with self.assertRaises(AccessError, msg=fname):
                Own.search([], order=fname)
            with self.assertRaises(AccessError, msg=fname):
                Own.read_group([], [f"{fname}:max"], ["tier_id"])
            with self.assertRaises(AccessError, msg=fname):
                Own.search([(fname, ">", 0)])

    def test_export_of_shares_follows_the_record_rules(self):
        """An export (which reads the figures of the ids it is given) of the
        shares read from the snapshot gives nothing of a profile the user
        does not read: another company's for a user of company B."""
        export = self.env.ref("base.group_allow_export")
        self.user_b.groups_id |= export
        self.user_all.groups_id |= export
        other = self.prof[self.other]
        self.assertGreater(other.revenue_share, 0.5)
        ProfileB = self._env_as(self.user_b)["customer.tier.profile"]
        for fname in COMPANY_WIDE:
            # (a request of its own: nothing read before in its cache)
            self.env.invalidate_all()
            with self.assertRaises(AccessError, msg=fname):
                ProfileB.browse(other.id).export_data([fname])
        Partner = self._env_as(self.user_b)["res.partner"]
        [[share]] = Partner.browse(self.other.id).export_data(["tier_revenue_share"])[
            "datas"
        ]
        self.assertFalse(share)
        # his own company's: as read
        Profile = self._env_as(self.user_all)["customer.tier.profile"]
        rows = Profile.browse(other.id).export_data(list(COMPANY_WIDE))["datas"]
        self.assertEqual(rows, [[other[fname] for fname in COMPANY_WIDE]])
        [[own]] = ProfileB.browse(self.prof_b.id).export_data(["revenue_share"])[
            "datas"
        ]
        self.assertEqual(own, 1.0)

    def test_export_of_computed_fields_follows_the_record_rules(self):
        """An export reads the fields of the ids it is given, and Odoo checks
        the records' access only when it reads a stored field: an export of
        the module's records a user does not read is refused, whatever the
        fields (computed ones would be computed for him)."""
        self.env.ref("base.group_allow_export").users |= self.user_b
        env_b = self._env_as(self.user_b)
        other = self.prof[self.other]
        for model, record, names in (
            ("customer.tier.profile", other, ["predict_status_text", "tier_color"]),
            ("customer.tier.program", self.program, ["predict_status_text"]),
            (
                "customer.tier.program",
                self.program,
                ["predict_status", "profile_count"],
            ),
            ("customer.tier", self.tier_a, ["profile_count"]),
        ):
            self.env.invalidate_all()
            with self.assertRaises(AccessError, msg=(model, names)):
                env_b[model].browse(record.id).export_data(names)
        # his own company's
        rows = (
            env_b["customer.tier.program"]
            .browse(self.program_b.id)
            .export_data(["predict_status"])
        )
        status = dict(
            self.program_b._fields["predict_status"]._description_selection(self.env)
        )[self.program_b.predict_status]
        self.assertEqual(rows, {"datas": [[status]]})

    def test_views_open_without_company_wide_figures(self):
        env = self._env_as(self.user_own)
        profile = env["customer.tier.profile"].browse(self.prof[self.mine_big].id)
        form = Form(profile)
        self.assertEqual(form.revenue_window, 20000)
        form = Form(env["res.partner"].browse(self.mine_big.id))
        self.assertEqual(form.tier_revenue_window, 20000)
        views = env["customer.tier.profile"].get_views(
            [(False, "form"), (False, "list"), (False, "pivot"), (False, "search")]
        )
        fields = views["models"]["customer.tier.profile"]["fields"]
        for fname in COMPANY_WIDE:
            self.assertNotIn(fname, fields)
        analysis = env.ref("customer_tier.customer_tier_profile_view_search_analysis")
        arch = env["customer.tier.profile"].get_view(analysis.id, "search")["arch"]
        self.assertNotIn("cumulative_share", arch)  # the "80 %" filter is gone
        fields = env["res.partner"].get_views([(False, "form"), (False, "list")])[
            "models"
        ]["res.partner"]["fields"]
        for fname in PARTNER_COMPANY_WIDE:
            self.assertNotIn(fname, fields)
        # every saved filter he is offered runs for him
        for saved in env["ir.filters"].search(
            [("model_id", "like", "customer.tier."), ("user_id", "=", False)]
        ):
            env[saved.model_id].search(saved._get_eval_domain())
        # the manager still has them
        arch = self._env_as(self.user_manager)["customer.tier.profile"].get_view(
            analysis.id, "search"
        )["arch"]
        self.assertIn("cumulative_share", arch)

    def test_tier_card_ranks_among_visible_customers(self):
        report = self.env.ref("customer_tier.customer_tier_card_report_action")

        def text(user, partner):
            html, _kind = report.with_env(self._env_as(user))._render_qweb_html(
                report.report_name, self.prof[partner].ids
            )
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))

        own = text(self.user_own, self.mine_big)
        self.assertIn("# 1 (cumulative 80.0 %)", own)
        self.assertNotIn("4.9", own)  # 20,000 over the company's total
        own = text(self.user_own, self.mine_small)
        self.assertIn("# 2 (cumulative 100.0 %)", own)
        company = text(self.user_all, self.mine_big)
        self.assertIn("# 2 (cumulative 95.3 %)", company)

    def test_workbook_ranks_among_visible_customers(self):
        wizard = self._env_as(self.user_own)["customer.tier.workbook.wizard"].create(
            {
                "company_id": self.company.id,
                "date_from": date(2024, 1, 1),
                "date_to": E,
            }
        )
        book = load_workbook(io.BytesIO(wizard._generate_xlsx()))
        rows = list(book["Customers"].iter_rows(values_only=True))
        col = {name: i for i, name in enumerate(rows[0])}
        by_name = {r[0]: r for r in rows[1:]}
        self.assertEqual(set(by_name), {"Own Big", "Own Small"})
        big, small = by_name["Own Big"], by_name["Own Small"]
        self.assertAlmostEqual(big[col["Revenue Share"]], 0.8, places=6)
        self.assertAlmostEqual(big[col["Cumulative Share"]], 0.8, places=6)
        self.assertEqual(big[col["Pareto Rank"]], 1)
        self.assertAlmostEqual(small[col["Cumulative Share"]], 1.0, places=6)
        self.assertEqual(small[col["Pareto Rank"]], 2)
        # no cell anywhere carries the company's total or another's revenue
        for sheet in book:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, (int, float)):
                        self.assertNotAlmostEqual(value, COMPANY_TOTAL, places=1)
                        self.assertNotAlmostEqual(value, 365400.40, places=1)
                        self.assertNotAlmostEqual(value, 13973, places=1)

    # ------------------------------------------------------------------
    # Chatter: the detail on the profile, nothing on the partner
    # ------------------------------------------------------------------
    def test_tier_notes_stay_on_the_profile(self):
        marginal = self.env["product.pricelist"].create(
            {"name": "Marginal prices", "company_id": self.company.id}
        )
        self.tier_d.pricelist_id = marginal
        self.program.grace_length = 0
        manager = self._env_as(self.user_manager)
        manager["customer.tier.profile"].browse(self.prof[self.other].id).write(
            {"manual_tier_id": self.tier_a.id, "manual_reason": "Disputed rebate"}
        )
        self._run(LATER)  # every customer falls to D and gets its pricelist
        notes = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.customers.ids)]
        )
        self.assertFalse(notes, "nothing of the tiers is posted on the partner")
        for user in (self.user_own, self.user_b):
            env = self._env_as(user)
            messages = env["res.partner"].browse(self.other.id).message_ids
            bodies = " ".join(str(b) for b in messages.mapped("body"))
            self.assertNotIn("Disputed rebate", bodies)
            self.assertNotIn("tier", bodies.lower())
        # the profile keeps the detail, under its record rules
        other_notes = " ".join(
            str(b)
            for b in manager["customer.tier.profile"]
            .browse(self.prof[self.other].id)
            .message_ids.mapped("body")
        )
        self.assertIn("Disputed rebate", other_notes)
        Message = self._env_as(self.user_own)["mail.message"]
        self.assertFalse(
            Message.search(
                [
                    ("model", "=", "customer.tier.profile"),
                    ("res_id", "=", self.prof[self.other].id),
                ]
            )
        )
        own_notes = Message.search(
            [
                ("model", "=", "customer.tier.profile"),
                ("res_id", "=", self.prof[self.mine_big].id),
            ]
        )
        own_notes = " ".join(str(b) for b in own_notes.mapped("body"))
        self.assertIn(self.tier_d.display_name, own_notes)
        self.assertIn("Marginal prices", own_notes)  # the pricelist that followed
        self.assertFalse(
            self._env_as(self.user_b)["mail.message"].search(
                [
                    ("model", "=", "customer.tier.profile"),
                    ("res_id", "in", [p.id for p in self.prof.values()]),
                ]
            )
        )

    def test_done_reorder_check_leaves_its_figures_on_the_profile(self):
        profile = self.prof[self.other]
        check = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.other.id,
                "activity_type_id": self.env.ref(
                    "customer_tier.mail_activity_type_reorder_check"
                ).id,
                "summary": "Reorder check: reorder overdue, At Risk",
                "note": "<p>2 orders and $ 365,400.40 revenue in the window.</p>",
                "user_id": self.user_all.id,
                "customer_tier_profile_id": profile.id,
                "customer_tier_activity": "reorder",
            }
        )
        check.with_env(self._env_as(self.user_all)).action_feedback(
            feedback="Called: stock for two months"
        )
        for user in (self.user_own, self.user_b):
            messages = self._partners(user).browse(self.other.id).message_ids
            bodies = " ".join(str(b) for b in messages.mapped("body"))
            self.assertIn("stock for two months", bodies)  # the call is logged
            self.assertNotIn("365,400.40", bodies)
            self.assertNotIn("At Risk", bodies)
        notes = self._env_as(self.user_manager)["mail.message"].search(
            [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
        )
        self.assertIn("365,400.40", " ".join(str(b) for b in notes.mapped("body")))
        self.assertFalse(
            self._env_as(self.user_own)["mail.message"].search(
                [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
            )
        )

    # ------------------------------------------------------------------
    # Loyalty: what Odoo's own loyalty access gives, no more
    # ------------------------------------------------------------------
    def test_points_follow_loyalty_access(self):
        loyalty = self.program.loyalty_program_id
        self.assertTrue(loyalty)
        card = self.env["loyalty.card"].create(
            {"program_id": loyalty.id, "partner_id": self.other.id, "points": 2468}
        )
        # no access to loyalty cards: no points either
        partner = self._partners(self.user_tier_only).browse(self.other.id)
        with self.assertRaises(AccessError):
            self._env_as(self.user_tier_only)["loyalty.card"].search([])
        self.assertEqual(partner.tier_points_balance, 0)
        self.assertFalse(partner.tier_loyalty_card_ids)
        self.assertFalse(partner.tier_points_history_ids)
        # a salesperson reads the company's cards in Odoo: the same here
        env = self._env_as(self.user_own)
        visible = env["loyalty.card"].search(
            [("partner_id", "=", self.other.id), ("program_id", "=", loyalty.id)]
        )
        self.assertIn(card, visible)
        partner = env["res.partner"].browse(self.other.id)
        self.assertEqual(partner.tier_loyalty_card_ids, visible)
        self.assertEqual(partner.tier_points_balance, sum(visible.mapped("points")))
        # another company reads none of company A's cards
        partner = self._partners(self.user_b).browse(self.other.id)
        self.assertEqual(partner.tier_points_balance, 0)
        self.assertFalse(partner.tier_loyalty_card_ids)

    # ------------------------------------------------------------------
    # Partner searches
    # ------------------------------------------------------------------
    def test_profile_search_follows_access(self):
        other_profile = self.prof[self.other]
        self.assertEqual(
            self._partners(self.user_all).search(
                [("customer_tier_profile_id", "=", other_profile.id)]
            ),
            self.other,
        )
        # another salesperson's profile, or another company's, finds nothing
        for user, profile in (
            (self.user_own, other_profile),
            (self.user_b, other_profile),
            (self.user_all, self.prof_b),
        ):
            for operator, value in (("=", profile.id), ("in", profile.ids)):
                self.assertFalse(
                    self._partners(user).search(
                        [("customer_tier_profile_id", operator, value)]
                    ),
                    f"{user.login} {operator}",
                )
        with_profile = self._partners(self.user_own).search(
            [
                ("customer_tier_profile_id", "!=", False),
                ("id", "in", self.customers.ids),
            ]
        )
        self.assertEqual(with_profile, self.mine_big | self.mine_small)
        without = self._partners(self.user_own).search(
            [("customer_tier_profile_id", "=", False), ("id", "in", self.customers.ids)]
        )
        self.assertEqual(without, self.other | self.unowned)

    def test_search_every_tier_figure(self):
        """Every searchable ``tier_*`` field of the partner: no crash, the
        right partners for the admin, nothing of another's customer for a
        salesperson limited to own documents."""
        # distinctive values for figures the fixture leaves empty
        self.prof[self.other].sudo().write(
            {
                "last_contact_date": date(2024, 1, 10),
                "next_followup_date": date(2024, 2, 10),
                "prospect_score": 55.0,
            }
        )
        admin = self.env(
            context=dict(self.env.context, allowed_company_ids=[self.company.id])
        )["res.partner"]
        own = self._partners(self.user_own)
        searchable = {
            name: desc
            for name, desc in admin.fields_get(
                attributes=["searchable", "type"]
            ).items()
            if name.startswith("tier_") and desc["searchable"]
        }
        self.assertTrue(
            {
                "tier_revenue_window",
                "tier_order_count",
                "tier_prospect_score",
                "tier_last_contact_date",
                "tier_followup_overdue",
            }
            <= set(searchable)
        )
        checked = set()
        for name, desc in searchable.items():
            field = admin._fields[name]
            value = self.other.with_env(admin.env)[name]
            if desc["type"] in ("many2one", "many2many", "one2many"):
                domain = [(name, "in", value.ids)] if value else [(name, "=", False)]
            elif desc["type"] in ("float", "monetary") and value:
                # search values are rounded to the field's digits
                digits = field.type == "float" and field.get_digits(admin.env)
                step = 10 ** -(digits or (0, 2))[1]
                domain = [(name, ">=", value - step), (name, "<=", value + step)]
            else:
                domain = [(name, "=", value)]
            domain.append(("id", "in", self.customers.ids))
            found = admin.search(domain)
            self.assertIn(self.other, found, name)
            admin.search([(name, "!=", False)])  # no crash either way
            through_profile = (
                field.related and field.related.startswith("customer_tier_profile_id.")
            ) or name in ("tier_reorder_overdue", "tier_is_prospect")
            if through_profile and value and name in PARTNER_COMPANY_WIDE:
                # not his to read, not his to search on either
                with self.assertRaises(AccessError):
                    own.search(domain)
                checked.add(name)
            elif through_profile and value:
                checked.add(name)
                self.assertNotIn(self.other, own.search(domain), name)
                self.assertNotIn(
                    self.other,
                    self._partners(self.user_b).search(domain),
                    name,
                )
        self.assertTrue(
            {
                "tier_revenue_window",
                "tier_order_count",
                "tier_prospect_score",
                "tier_last_contact_date",
                "tier_followup_overdue",
            }
            <= checked,
            checked,
        )
        # the figure search of the issue, as a custom filter would send it
        self.assertEqual(
            admin.search(
                [
                    ("tier_revenue_window", ">", 300000),
                    ("id", "in", self.customers.ids),
                ]
            ),
            self.other,
        )
        self.assertFalse(own.search([("tier_revenue_window", ">", 300000)]))
        self.assertEqual(
            own.search(
                [("tier_revenue_window", ">", 1000), ("id", "in", self.customers.ids)]
            ),
            self.mine_big | self.mine_small,
        )

    # ------------------------------------------------------------------
    # Open activities on the partner: read by every internal user
    # ------------------------------------------------------------------
    def test_read_every_tier_figure_as_the_user(self):
        """Every partner field that shows a figure of the profile is computed
        as the reading user, not as superuser (Odoo's default for related
        fields): whatever the order of the fields, the channel (read, web_read
        through an order, export) or what the transaction read before, a
        salesperson limited to own documents reads nothing of another
        salesperson's customer, and a user of company B nothing of company
        A."""
        figures = [
            name
            for name, field in self.env["res.partner"]._fields.items()
            if (field.related or "").startswith("customer_tier_profile_id.")
            and field.groups is None
        ]
        self.assertGreater(len(figures), 20)
        export = self.env.ref("base.group_allow_export")
        for user in (self.user_own, self.user_b):
            user.groups_id = [Command.link(export.id)]
        # the superuser reads them all first: nothing he read may be served
        # to the salesperson from the cache
        self.assertAlmostEqual(self.other.tier_revenue_window, 365400.40, places=2)
        self.assertTrue(self.other.customer_tier_profile_id)
        for user, partner, company in (
            (self.user_own, self.other, None),
            (self.user_own, self.unowned, None),
            (self.user_b, self.other, self.company_b),
        ):
            Partner = self._partners(user, company)
            for names in (figures, ["customer_tier_profile_id", *figures]):
                [values] = Partner.browse(partner.id).read(names)
                shown = {n: values[n] for n in names if values[n]}
                self.assertFalse(shown, f"{user.login} reads {shown} in that order")
            [values] = Partner.browse(partner.id).export_data(figures)["datas"]
            self.assertFalse([v for v in values if v not in ("", False, 0, 0.0)])
        # read through one of his orders, his own customer's figures show
        order = self._order(self.mine_big, 100, E, state="draft")
        [values] = (
            self._env_as(self.user_own)["sale.order"]
            .browse(order.id)
            .web_read({"partner_id": {"fields": {name: {} for name in figures}}})
        )
        self.assertAlmostEqual(
            values["partner_id"]["tier_revenue_window"], 20000.0, places=2
        )
        # his own customer's figures still show
        own = self._partners(self.user_own).browse(self.mine_big.id)
        self.assertAlmostEqual(own.tier_revenue_window, 20000.0, places=2)
        self.assertEqual(own.customer_tier_profile_id, self.prof[self.mine_big])

    def test_tier_is_set_by_the_tier_program_only(self):
        """The stored tier decides pricing, points and policies of every
        order: no user writes it by hand (a manager overrides it on the
        profile, with a reason), not even one who may edit contacts."""
        editor = self.user_own
        editor.groups_id |= self.env.ref("base.group_partner_manager")
        tier_before = self.mine_small.customer_tier_id
        self.assertNotEqual(tier_before, self.tier_a)
        for user in (editor, self.user_manager):
            Partner = self._partners(user)
            with self.assertRaises(AccessError):
                Partner.browse(self.mine_small.id).write(
                    {"commercial_tier_id": self.tier_a.id}
                )
            with self.assertRaises(AccessError):
                Partner.create(
                    {"name": "Self-made Core", "commercial_tier_id": self.tier_a.id}
                )
        # the editor may still edit the partner itself
        self._partners(editor).browse(self.mine_small.id).write({"phone": "+1 555"})
        self.mine_small.invalidate_recordset()
        self.assertEqual(self.mine_small.customer_tier_id, tier_before)
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Self-made Core")])
        )

    def test_open_checks_and_reminders_say_nothing_of_the_customer(self):
        """While a reorder check or a key-date reminder is open, another
        salesperson reads it on the partner (planned activities, or
        ``mail.activity`` over RPC): it says that it is due, nothing more.
        Odoo shows a partner's activities to whoever may write the partner:
        a salesperson with Contact Creation, as every new user gets it."""
        self.user_own.groups_id = [
            Command.link(self.env.ref("base.group_partner_manager").id)
        ]
        profile = self.prof[self.other]
        program = profile.program_id
        engine = program._engine()
        risk = engine.segments.filtered(lambda s: s.code == "at_risk")[:1]
        row = dict(
            profile.read(
                ["partner_id", "is_prospect", "last_order_date", "revenue_window"],
                load=None,
            )[0],
            reorder_overdue=True,
            expected_order_date=date(2024, 3, 2),
            reorder_cycle_days=30.0,
            recency_days=150,
            rfm_segment_id=risk.id,
            rfm_recency_score=1,
            rfm_frequency_score=4,
            rfm_monetary_score=5,
            churn_risk=True,
            prob_alive=0.12,
            expected_orders_12m=0.4,
            order_count_window=1,
        )
        self.assertEqual(row["revenue_window"], 365400.40)
        program._followup_alerts(engine, [row], E)
        self.env["customer.tier.key.date"].create(
            {
                "profile_id": profile.id,
                "contact_id": self.other.id,
                "kind": "other",
                "name": "Founding day",
                "date": date(1990, 7, 3),
                "note": "Sponsor of the harbour regatta",
            }
        )
        program._followup_key_dates(E, 10)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.other.id)]
        )
        self.assertEqual(
            set(activities.mapped("customer_tier_activity")), {"reorder", "key_date"}
        )
        secrets = (
            "365,400.40",
            "365400.4",
            "12 %",  # probability that the customer is still active
            "R 1",  # RFM scores
            "F 4",
            risk.name,
            "reorder overdue",
            "Founding day",
            "harbour regatta",
        )
        own = self._env_as(self.user_own)
        read = (
            str(own["mail.activity"].search_read([("res_id", "=", self.other.id)])),
            str(
                own["res.partner"]
                .browse(self.other.id)
                .activity_ids.read(["summary", "note", "display_name"])
            ),
            str(
                own["mail.activity"].search_read(
                    [("id", "in", activities.ids)], ["customer_tier_profile_id"]
                )
            ),
        )
        for text in read:
            for secret in secrets:
                self.assertNotIn(secret, text)
        self.assertIn("Reorder check", read[0])
        self.assertIn("Key date", read[1])
        # nor by searching their text
        self.assertFalse(
            own["mail.activity"].search(
                [("res_id", "=", self.other.id), ("note", "ilike", "400.40")]
            )
        )
        # the assigned salesperson finds the detail on the profile
        notes = " ".join(
            str(body)
            for body in self._env_as(self.user_all)["customer.tier.profile"]
            .browse(profile.id)
            .message_ids.mapped("body")
        )
        for secret in secrets:
            if secret != "365400.4":
                self.assertIn(secret, notes)
        self.assertFalse(
            own["mail.message"].search(
                [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
            )
        )

    def test_upgrade_hides_the_details_of_former_activities(self):
        """Checks and reminders scheduled by 18.0.1.0.0 carried the figures or
        the key date on the partner: the upgrade logs them on the profile and
        leaves the pointer, like the follow-up run does now."""
        self.user_own.groups_id = [
            Command.link(self.env.ref("base.group_partner_manager").id)
        ]
        profile = self.prof[self.other]
        Activity = self.env["mail.activity"].with_context(
            mail_activity_quick_update=True
        )
        common = {
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": self.other.id,
            "user_id": self.user_all.id,
            "customer_tier_profile_id": profile.id,
        }
        # one create each: one call would subscribe the user three times
        check, reminder, cadence = (
            Activity.create(vals)
            for vals in [
                dict(
                    common,
                    activity_type_id=self.env.ref(
                        "customer_tier.mail_activity_type_reorder_check"
                    ).id,
                    summary="Reorder check: reorder overdue, At Risk",
                    note="<p>1 orders and $ 365,400.40 revenue in the window.</p>",
                    customer_tier_activity="reorder",
                ),
                dict(
                    common,
                    activity_type_id=self.env.ref(
                        "customer_tier.mail_activity_type_key_date"
                    ).id,
                    summary="Founding day of Other Salesperson's on 07/03/2024",
                    note="<p>Sponsor of the harbour regatta</p>",
                    customer_tier_activity="key_date",
                ),
                dict(
                    common,
                    activity_type_id=self.env.ref(
                        "customer_tier.mail_activity_type_tier_followup"
                    ).id,
                    summary="Tier follow-up",
                    note="<p>Quarterly review</p>",
                    customer_tier_activity="followup",
                ),
            ]
        )
        self.env.cr.execute(
            "UPDATE mail_activity SET create_date = '2024-06-01 08:00:00' "
            "WHERE id = %s",
            (check.id,),
        )
        check.invalidate_recordset(["create_date"])
        Activity._customer_tier_hide_details()
        self.assertEqual(Activity._customer_tier_hide_details(), 0)  # once
        own = self._env_as(self.user_own)["mail.activity"]
        text = str(own.search_read([("res_id", "=", self.other.id)]))
        for secret in ("365,400.40", "At Risk", "Founding day", "harbour regatta"):
            self.assertNotIn(secret, text)
        self.assertIn("Quarterly review", text)  # the cadence keeps its note
        self.assertEqual(cadence.summary, "Tier follow-up")
        self.assertFalse(check.summary or reminder.summary)
        self.assertIn("figures of this check are logged on", str(check.note))
        self.assertIn("of this key date are on", str(reminder.note))
        notes = self.env["mail.message"].search(
            [("model", "=", "customer.tier.profile"), ("res_id", "=", profile.id)]
        )
        bodies = " ".join(str(b) for b in notes.mapped("body"))
        for secret in ("365,400.40", "At Risk", "Founding day", "harbour regatta"):
            self.assertIn(secret, bodies)
        self.assertNotIn("Quarterly review", bodies)
        dated = notes.filtered(lambda m: "365,400.40" in str(m.body))
        self.assertEqual(str(dated.date), "2024-06-01 08:00:00")


@tagged("post_install", "-at_install")
class TestAuditFollowUps(AssignmentCase):
    """The amount a customer at risk needs to keep its tier.

    Pareto (A 80 %, B 95 %, C rest), as in ``TestGracePareto``: on
    2024-06-30 X 500, Y 300, Z 200; W, a customer of ``user_all``, orders
    2,000 on 2024-07-15. On 2024-07-30 X, a customer of ``user_own``, is at
    risk of losing A: it needs 2,000 - 500 + 0.01, i.e. W's window revenue
    less its own. Threshold (A 10,000): X with 8,000 left in the window needs
    10,000 - 8,000, the tier's minimum, which every tier user reads.
    """

    E2 = date(2024, 7, 30)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"grace_unit": "evaluations", "grace_length": 2})
        cls.x = cls._customer("X", user_id=cls.user_own.id)
        cls.w = cls._customer("W", user_id=cls.user_all.id)

    def _amounts(self, user):
        profile = self._profile(self.x).with_env(self._env_as(user))
        return profile.revenue_to_keep_shown

    def test_pareto_amount_to_keep_is_company_wide(self):
        self.program.method = "pareto"
        y, z = self._customer("Y"), self._customer("Z")
        self._buy(self.x, 500, date(2024, 6, 1))
        self._buy(y, 300, date(2024, 5, 20))
        self._buy(z, 200, date(2024, 5, 10))
        self._run(E)
        self._buy(self.w, 2000, date(2024, 7, 15))
        self._run(self.E2)
        x = self._profile(self.x)
        self.assertTrue(x.at_risk)
        self.assertAlmostEqual(x.revenue_to_keep, 1500.01, places=2)
        # the salesperson of X: no amount, by no channel
        x_own = x.with_env(self._env_as(self.user_own))
        self.assertEqual(x_own.revenue_to_keep_shown, 0.0)
        for read in (
            lambda: x_own.read(["revenue_to_keep"]),
            lambda: x_own.search_read([], ["revenue_to_keep"]),
            lambda: x_own.search([("revenue_to_keep", ">", 1500)]),
        ):
            with self.assertRaises(AccessError):
                read()
        shown = x_own.read(["revenue_to_keep_shown", "revenue_window"])[0]
        self.assertEqual(shown["revenue_to_keep_shown"], 0.0)
        # those who see every customer keep it
        for user in (self.user_all, self.user_manager):
            self.assertAlmostEqual(self._amounts(user), 1500.01, places=2)
        # the form opens for him without it
        arch = x_own.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn('name="revenue_to_keep"', arch)
        self.assertIn('name="revenue_to_keep_shown"', arch)

    def test_threshold_amount_to_keep_is_for_everyone(self):
        self.assertEqual(self.program.method, "threshold")
        self._buy_many(
            self.x,
            [
                (4000, date(2023, 9, 1)),
                (4000, date(2024, 3, 1)),
                (4000, date(2024, 6, 1)),
            ],
        )
        self._run(E)
        self._run(date(2024, 9, 15))
        self.assertTrue(self._profile(self.x).at_risk)
        for user in (self.user_own, self.user_all, self.user_manager):
            self.assertEqual(self._amounts(user), 2000.0)
