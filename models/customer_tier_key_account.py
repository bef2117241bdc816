"""Key-account profile: ordering cycle, preferred products, decision factors,
notes, key contacts and their key dates.

Preferred products are computed, not curated: the top products by revenue
(untaxed line amount divided by the order's currency rate, i.e. in company
currency) of the customer's confirmed orders in the program's evaluation
window ending today, one SQL per company for the whole recordset. The decision
factors, notes, key contacts and key dates are kept by hand; a salesperson may
edit these (and only these) on the profiles of own customers.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from .customer_tier_engine import (
    ORDER_RATE,
    counted_lines,
    counted_orders,
    in_window,
)

PREFERRED_PRODUCTS = 5
# Profile fields a tier user (salesperson) may write.
KEY_ACCOUNT_FIELDS = {
    "decision_factor_ids",
    "key_account_notes",
    "key_contact_ids",
    "key_date_ids",
}


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    key_account = fields.Boolean(related="tier_id.key_account")
    preferred_product_ids = fields.Many2many(
        "product.product",
        string="Preferred Products",
        compute="_compute_preferred_product_ids",
        help="Top products by revenue (company currency) in the evaluation window.",
    )
    decision_factor_ids = fields.Many2many(
        "customer.tier.decision.factor",
        string="Decision Factors",
        help="What decides this customer's purchases.",
    )
    key_account_notes = fields.Html(string="Key-Account Notes")
    key_contact_ids = fields.Many2many(
        "res.partner",
        "customer_tier_profile_key_contact_rel",
        "profile_id",
        "partner_id",
        string="Key Contacts",
        domain="[('commercial_partner_id', '=', partner_id), ('id', '!=', partner_id)]",
    )
    key_date_ids = fields.One2many(
        "customer.tier.key.date", "profile_id", string="Key Dates"
    )

    @api.depends("partner_id", "company_id", "program_id.window_months")
    @api.depends_context("tz")
    def _compute_preferred_product_ids(self):
        today = fields.Date.context_today(self)
        products = {}
        for program, profiles in self.filtered("id").grouped("program_id").items():
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT partner_id, product_id FROM (
                        SELECT p.commercial_partner_id AS partner_id,
                               sol.product_id,
                               ROW_NUMBER() OVER (
                                   PARTITION BY p.commercial_partner_id
                                   ORDER BY SUM(sol.price_subtotal / %(rate)s) DESC,
                                       sol.product_id
                               ) AS rank
                          FROM sale_order_line sol
                          JOIN sale_order so ON so.id = sol.order_id
                          JOIN res_partner p ON p.id = so.partner_id
                         WHERE %(counted)s
                           AND %(in_window)s
                           AND p.commercial_partner_id = ANY(%(partners)s)
                           AND %(counted_lines)s
                           AND sol.product_id IS NOT NULL
                         GROUP BY p.commercial_partner_id, sol.product_id
                    ) ranked
                    WHERE rank <= %(limit)s
                    ORDER BY partner_id, rank
                    """,
                    rate=ORDER_RATE,
                    counted=counted_orders(program.company_id.id, today),
                    in_window=in_window(today, program.window_months),
                    counted_lines=counted_lines(),
                    partners=profiles.partner_id.ids,
                    limit=PREFERRED_PRODUCTS,
                )
            )
            by_partner = {}
            for partner_id, product_id in rows:
                by_partner.setdefault(partner_id, []).append(product_id)
            for profile in profiles:
                products[profile.id] = by_partner.get(profile.partner_id.id, [])
        for profile in self:
            profile.preferred_product_ids = [
                fields.Command.set(products.get(profile.id, []))
            ]

    @api.constrains("key_contact_ids", "partner_id")
    def _check_key_contacts(self):
        for profile in self:
            strangers = profile.key_contact_ids.filtered(
                lambda c, p=profile: c.commercial_partner_id != p.partner_id
            )
            if strangers:
                raise ValidationError(
                    self.env._(
                        "The key contacts of %(customer)s are its own "
                        "contacts: %(contacts)s are not.",
                        contacts=", ".join(strangers.mapped("display_name")),
                        customer=profile.partner_id.display_name,
                    )
                )

    def write(self, vals):
        if (
            not self.env.su
            and set(vals) - KEY_ACCOUNT_FIELDS
            and not self.env.user.has_group("customer_tier.group_customer_tier_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only tier managers can change a tier profile; salespeople "
                    "keep its key-account details."
                )
            )
        return super().write(vals)


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    key_account = fields.Boolean(
        string="Key-Account Profile",
        help="Customers of this tier get a key-account profile: ordering "
        "cycle, preferred products, decision factors, key contacts and "
        "their key dates.",
    )
