"""Issue 17 (2): actions are guarded like the writes they make.

In Odoo 18 any method of a model whose name does not start with ``_`` (and is
not ``init``) can be called over RPC by anyone who may read the model. These
tests call the guarded actions as the least-privileged users (a salesperson
limited to own documents, a salesperson of all documents, a user of the other
company).
"""

from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CustomerTierCase


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
