# Part of customer_tier. See LICENSE file for full copyright and licensing details.
"""Chinese (zh_CN) translation: completeness, placeholders and loaded terms.

The completeness test regenerates the module's template from the running
database and the module's source files (what ``--i18n-export`` writes to
``i18n/customer_tier.pot``) and fails with the list of every term that has no
translation in ``i18n/zh_CN.po``.
"""

import re

import polib

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

from .common import CustomerTierCase, load_chinese

MODULE = "customer_tier"
PO_PATH = f"{MODULE}/i18n/zh_CN.po"

# Python %-placeholders; ``%%`` only counts in strings formatted by Python code
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdifr]|%[sdifr]|%%")
# markup and template expressions must survive the translation untouched
TAG = re.compile(r"<[^>]+>")
EXPRESSION = re.compile(r"\{\{.*?\}\}|\$\{.*?\}|t-[a-z-]+=\"[^\"]*\"")


def _signature(text, code):
    placeholders = PLACEHOLDER.findall(text)
    if not code:
        placeholders = [p for p in placeholders if p != "%%"]
    return sorted(placeholders), TAG.findall(text), sorted(EXPRESSION.findall(text))


def _is_code(entry):
    return "odoo-python" in (entry.comment or "") or any(
        occurrence[0].startswith("code:") for occurrence in entry.occurrences
    )


@tagged("post_install", "-at_install")
class TestI18nCompleteness(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.po = polib.pofile(file_path(PO_PATH))

    def _current_terms(self):
        """Source terms of the module, as ``--i18n-export`` would write them.

        A source file the extractor cannot read (e.g. an f-string passed to
        ``_()``: babel evaluates it) is only logged by Odoo and its terms
        silently vanish from the template, so an extraction error fails here.
        """
        with self.assertNoLogs("odoo.tools.translate", "ERROR"):
            reader = TranslationModuleReader(self.env.cr, modules=[MODULE])
        return {
            source
            for module, _type, _name, _res_id, source, _value, _comments in reader
            if module == MODULE and source
        }

    def test_po_header(self):
        self.assertEqual(self.po.metadata.get("Language"), "zh_CN")
        self.assertEqual(self.po.metadata.get("Plural-Forms"), "nplurals=1; plural=0;")
        self.assertIn("UTF-8", self.po.metadata.get("Content-Type", ""))

    def test_every_term_translated(self):
        terms = self._current_terms()
        self.assertGreater(len(terms), 100, "the module exports suspiciously few terms")
        translated = {e.msgid for e in self.po if e.msgstr.strip() and not e.obsolete}
        missing = sorted(terms - translated)
        self.assertFalse(
            missing,
            "%d term(s) of %s have no zh_CN translation in i18n/zh_CN.po "
            "(regenerate the pot and translate them):\n%s"
            % (len(missing), MODULE, "\n".join(f"  {m!r}" for m in missing)),
        )

    def test_placeholders_and_markup_kept(self):
        bad = [
            f"  {entry.msgid!r}\n    -> {entry.msgstr!r}"
            for entry in self.po
            if entry.msgstr
            and _signature(entry.msgid, _is_code(entry))
            != _signature(entry.msgstr, _is_code(entry))
        ]
        self.assertFalse(
            bad,
            "zh_CN translations that drop or alter a placeholder, tag or "
            "expression:\n" + "\n".join(bad),
        )

    def test_placeholder_check_catches_mistakes(self):
        """The check itself: a dropped or renamed placeholder is a mismatch."""
        source = "Tier %(tier)s: a bound lies between 0 and 100 %%."
        self.assertEqual(
            _signature(source, True),
            _signature("分层 %(tier)s：在 0 到 100%% 之间。", True),
        )
        for wrong in (
            "分层：在 0 到 100%% 之间。",
            "分层 %(name)s：100%%。",
            "分层 %(tier)s：100%。",
        ):
            self.assertNotEqual(
                _signature(source, True), _signature(wrong, True), wrong
            )
        self.assertNotEqual(
            _signature("<span>Tier</span>", False), _signature("分层", False)
        )


@tagged("post_install", "-at_install")
class TestI18nLoaded(CustomerTierCase):
    """zh_CN loaded: records, selections and errors speak Chinese."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_chinese(cls.env)
        cls.user_manager.lang = "zh_CN"
        cls.zh = cls.env(context=dict(cls.env.context, lang="zh_CN"))

    def _manager_env(self):
        # what a request of this user gets: its own language in the context
        user_env = self.env(user=self.user_manager)
        return user_env(context=dict(user_env["res.users"].context_get()))

    def test_tier_names(self):
        expected = {
            "customer_tier.customer_tier_a": "核心客户",
            "customer_tier.customer_tier_b": "重点客户",
            "customer_tier.customer_tier_c": "一般客户",
            "customer_tier.customer_tier_d": "边缘客户",
            "customer_tier.prospect_grade_a": "A级未成交客户",
        }
        for xmlid, name in expected.items():
            record = self.zh.ref(xmlid)
            self.assertEqual(record.name, name, xmlid)
            self.assertNotEqual(record.with_context(lang="en_US").name, name)

    def test_new_company_program_in_chinese(self):
        """A company created later copies the shipped tiers with their zh_CN names."""
        company = self.env["res.company"].create({"name": "CT i18n Co"})
        program = self.env["customer.tier.program"].search(
            [("company_id", "=", company.id)]
        )
        self.assertEqual(len(program), 1)
        names = set(program._customer_tiers().with_context(lang="zh_CN").mapped("name"))
        self.assertEqual(names, {"核心客户", "重点客户", "一般客户", "边缘客户"})

    def test_selection_and_field_labels(self):
        History = self.zh["customer.tier.history"]
        description = History.fields_get(["cause"])["cause"]
        self.assertEqual(description["string"], "变动原因")
        selection = dict(description["selection"])
        self.assertEqual(selection["manual"], "手动调整")
        self.assertEqual(selection["first_order"], "首次下单")
        partner_field = self.zh["res.partner"].fields_get(["customer_tier_id"])
        self.assertEqual(partner_field["customer_tier_id"]["string"], "客户分层")

    def test_menu_and_action_names(self):
        action = self.zh.ref("customer_tier.customer_tier_program_action")
        self.assertEqual(action.name, "分层方案")

    def test_validation_error_in_chinese(self):
        env = self._manager_env()
        self.assertEqual(env.lang, "zh_CN")
        program = self.program.with_env(env)
        with self.assertRaises(ValidationError) as caught:
            program.window_months = 0
        self.assertEqual(str(caught.exception), "评估期至少为一个月。")

    def test_validation_error_with_placeholder(self):
        env = self._manager_env()
        with self.assertRaises(ValidationError) as caught:
            self.program.with_env(env).sudo().copy({"name": "Second"})
        self.assertEqual(
            str(caught.exception),
            f"公司 {self.company.name} 已有一个有效的分层方案。",
        )
