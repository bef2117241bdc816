"""Every RPC-callable method of the module is reviewed.

In Odoo 18 any method of a model whose name does not start with ``_`` (and is
not ``init``) can be called over RPC by anyone who may read the model. The
first test walks the registry and fails on such a method of this module that
is not in ``REVIEWED`` below, with the reason it is safe; the others call the
guarded actions as the least-privileged users (a salesperson limited to own
documents, a salesperson of all documents, a user of the other company).
"""

from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CustomerTierCase

MODULE = "odoo.addons.customer_tier"

ORM = "ORM override: super() checks access before anything else is done"
ACTION_ONLY = "returns a window action; the records open with the user's rights"

GUARDED = (
    "ORM override: refuses computed, related and technical fields unless "
    "superuser, then super() checks access"
)

# (model, method): why it is safe to call over RPC
EXPORT_GUARD = (
    "ORM export, which checks first that the user reads the exported records "
    "(customer.tier.export.guard): their computed fields are not computed for "
    "records of another company or salesperson"
)
REVIEWED = {
    **{
        (model, "export_data"): EXPORT_GUARD
        for model in (
            "customer.tier",
            "customer.tier.competitor",
            "customer.tier.export.guard",
            "customer.tier.key.date",
            "customer.tier.owned.line",
            "customer.tier.profile",
            "customer.tier.program",
        )
    },
    ("account.move", "button_draft"): (
        "Accounting's button: super() checks write access, then points are "
        "taken back for the moves it reset and, on the invoiced revenue basis, "
        "their customers' tier profiles are refreshed"
    ),
    ("customer.tier", "write"): ORM,
    ("customer.tier.competitor", "write"): (
        "ORM override: super() checks the rules before, then again on the new customer"
    ),
    ("customer.tier.competitor", "create"): GUARDED,
    ("customer.tier.competitor", "unlink"): (
        "ORM override: super() checks access, then the competitor count of "
        "the customers' profiles follows"
    ),
    ("customer.tier.history", "read_group"): (
        "ORM override: super() checks access and rules, then only names the "
        "empty from/to groups (New, No tier)"
    ),
    ("customer.tier.key.date", "create"): GUARDED,
    ("customer.tier.key.date", "write"): (
        "ORM override: super() checks the rules before, then again on the new profile"
    ),
    ("customer.tier.owned.line", "create"): GUARDED,
    ("customer.tier.owned.line", "write"): (
        "ORM override: super() checks the rules before, then again on the new owner"
    ),
    ("customer.tier.profile", "read_group"): (
        "ORM override: only names the computed recency's aggregate, then "
        "super() checks access and rules"
    ),
    ("customer.tier.profile", "write"): (
        "ORM override: salespeople limited to key-account fields, the "
        "override to tier managers, then super() checks access and rules"
    ),
    ("customer.tier.profile", "init"): "ORM hook; Odoo refuses 'init' over RPC",
    ("customer.tier.ranking.entry", "init"): ("ORM hook; Odoo refuses 'init' over RPC"),
    ("sale.order", "init"): "ORM hook; Odoo refuses 'init' over RPC",
    ("sale.order.line", "init"): "ORM hook; Odoo refuses 'init' over RPC",
    ("customer.tier.profile", "action_clear_override"): (
        "action: writes through write(), which refuses non-managers"
    ),
    ("customer.tier.profile", "action_refresh"): (
        "action: checks the manager group and write access on the profiles"
    ),
    ("customer.tier.profile", "action_view_history"): ACTION_ONLY,
    ("customer.tier.profile", "action_view_followup_activities"): ACTION_ONLY,
    ("customer.tier.program", "create"): ORM,
    ("customer.tier.program", "write"): ORM,
    ("customer.tier.program", "unlink"): ORM,
    ("customer.tier.program", "action_create_loyalty_program"): (
        "action: checks write access on the program (its company's managers)"
    ),
    ("customer.tier.program", "action_open_loyalty_program"): ACTION_ONLY,
    ("customer.tier.program", "action_open_recompute"): (
        "action: checks write access on the program, opens the wizard"
    ),
    ("customer.tier.program", "action_view_profiles"): ACTION_ONLY,
    ("customer.tier.recompute", "action_preview"): (
        "action: wizard of managers only, checks write access on its program"
    ),
    ("customer.tier.recompute", "action_apply"): (
        "action: wizard of managers only, checks write access on its program"
    ),
    ("customer.tier.recompute.request", "action_view_moves"): ACTION_ONLY,
    ("customer.tier.workbook.wizard", "action_export"): (
        "action: reads with the user's rights into the user's own wizard; no file path"
    ),
    ("loyalty.card", "action_view_tier_points_history"): ACTION_ONLY,
    ("loyalty.history", "create"): (
        "ORM override: refuses the expiry fields unless superuser, fills the "
        "expiry date of the values, super() checks access"
    ),
    ("loyalty.history", "write"): GUARDED,
    ("mail.activity", "create"): GUARDED,
    ("mail.activity", "write"): GUARDED,
    ("mail.activity", "unlink"): (
        "ORM override: notes which activities are tier follow-ups (nothing "
        "returned), super() checks access, then their profiles' follow-up "
        "dates are recomputed in SQL"
    ),
    ("res.company", "create"): ORM,
    ("res.partner", "create"): ORM,
    ("res.partner", "write"): (
        "ORM override: prospect inputs of other salespeople's customers "
        "refused, super() checks access"
    ),
    ("res.partner", "action_view_customer_tier_profile"): ACTION_ONLY,
    ("res.partner", "action_view_tier_points_cards"): ACTION_ONLY,
    ("res.partner", "action_view_tier_points_history"): ACTION_ONLY,
    ("res.partner", "action_send_tier_points_statement"): (
        "returns the mail composer action; posting checks mail access"
    ),
    ("sale.order", "create"): ORM,
    ("sale.order", "write"): ORM,
    ("sale.order", "action_confirm"): (
        "Sales' button: super() confirms with the user's rights, then the "
        "customer's profile is refreshed"
    ),
    ("sale.order.line", "create"): (
        "ORM override: fee-line flag reserved to managers, super() checks access"
    ),
    ("sale.order.line", "write"): (
        "ORM override: fee-line flag reserved to managers, super() checks access"
    ),
    ("sale.order.line", "unlink"): ORM,
}


def module_public_methods(registry):
    """(model, method) of every public callable defined by this module."""
    found = set()
    for model_name in registry:
        for cls in registry[model_name].__mro__:
            if not getattr(cls, "__module__", "").startswith(MODULE):
                continue
            for name, value in vars(cls).items():
                if not name.startswith("_") and callable(value):
                    found.add((model_name, name))
    return found


@tagged("post_install", "-at_install")
class TestPublicMethods(CustomerTierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mine = cls._customer("Mine Ltd", user_id=cls.user_own.id)
        cls.b_customer = cls._customer("B Customer", user_id=cls.user_b.id)
        cls._order(cls.mine, 3000, date(2024, 5, 1))
        cls._order(cls.b_customer, 700, date(2024, 5, 1), company=cls.company_b)
        cls._run()
        cls.profile_mine = cls._profile(cls.mine)

    def test_public_methods_are_reviewed(self):
        found = module_public_methods(self.env.registry)
        self.assertIn(("customer.tier.profile", "action_refresh"), found)
        unreviewed = sorted(found - REVIEWED.keys())
        self.assertFalse(
            unreviewed,
            "Public (RPC-callable) methods of customer_tier not reviewed: make "
            "them private or guard them, then add them to REVIEWED",
        )
        self.assertFalse(sorted(REVIEWED.keys() - found), "stale REVIEWED entries")
        self.assertTrue(all(REVIEWED.values()))

    def test_workbook_writer_is_private(self):
        Workbook = self.env["customer.tier.workbook"]
        self.assertFalse(hasattr(Workbook, "write_workbook"))
        self.assertTrue(callable(Workbook._write_workbook))

    def test_create_loyalty_program_managers_only(self):
        Loyalty = self.env["loyalty.program"].with_context(active_test=False)
        self.program.loyalty_program_id.active = False
        self.program.loyalty_program_id = False
        count = Loyalty.search_count([])
        for user in (self.user_own, self.user_all, self.user_b):
            program = self.program.with_env(self._env_as(user))
            with self.assertRaises(AccessError):
                program.action_create_loyalty_program()
        self.env.invalidate_all()
        self.assertFalse(self.program.loyalty_program_id)
        self.assertEqual(Loyalty.search_count([]), count)
        # the program's manager creates it
        action = self.program.with_env(
            self._env_as(self.user_manager)
        ).action_create_loyalty_program()
        self.assertTrue(self.program.loyalty_program_id)
        self.assertEqual(action["res_id"], self.program.loyalty_program_id.id)
        self.assertEqual(Loyalty.search_count([]), count + 1)

    def test_refresh_managers_only(self):
        self.profile_mine.write({"revenue_window": 1.0})
        for user in (self.user_own, self.user_all, self.user_b):
            profile = self.profile_mine.with_env(self._env_as(user))
            with self.assertRaises(AccessError):
                profile.action_refresh()
        self.env.invalidate_all()
        self.assertEqual(self.profile_mine.revenue_window, 1.0)
        self.profile_mine.with_env(self._env_as(self.user_manager)).action_refresh()
        self.env.invalidate_all()
        self.assertNotEqual(self.profile_mine.revenue_window, 1.0)

    def test_recompute_managers_of_the_program_only(self):
        for user in (self.user_own, self.user_all, self.user_b):
            program = self.program.with_env(self._env_as(user))
            with self.assertRaises(AccessError):
                program.action_open_recompute()
        # a manager of company A does not preview nor apply company B's
        env = self._env_as(self.user_manager)
        with self.assertRaises(AccessError):
            self.program_b.with_env(env).action_open_recompute()
        wizard = env["customer.tier.recompute"].create(
            {"program_id": self.program_b.id, "eval_date": self.eval_date}
        )
        with self.assertRaises(AccessError):
            wizard.action_preview()
        self.assertEqual(wizard.state, "draft")
        self.assertFalse(wizard.line_ids)
        wizard.state = "preview"
        with self.assertRaises(AccessError):
            wizard.action_apply()
        # its own company's program: previewed
        own = env["customer.tier.recompute"].create(
            {"program_id": self.program.id, "eval_date": self.eval_date}
        )
        own.action_preview()
        self.assertEqual(own.state, "preview")
