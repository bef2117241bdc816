"""Competing suppliers of a customer: kept by hand on the commercial partner
(``tier_competitor_ids``), with what each supplies and its estimated share of
the customer's purchases; the tier profile counts them (``competitor_count``,
:mod:`.customer_tier_dimension`).
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CustomerTierCompetitor(models.Model):
    """A supplier competing with us at a customer, with what it supplies and
    its estimated share of the customer's purchases."""

    _name = "customer.tier.competitor"
    _inherit = ["customer.tier.owned.line"]
    _description = "Competing Supplier"
    _owner_field = "partner_id"
    _order = "partner_id, estimated_share desc, id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        ondelete="cascade",
        index=True,
    )
    competitor_partner_id = fields.Many2one(
        "res.partner",
        string="Competitor Contact",
        ondelete="set null",
        help="The competitor, when it is a partner in the database.",
    )
    name = fields.Char(
        string="Competitor",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    products = fields.Char(help="What the competitor supplies to the customer.")
    estimated_share = fields.Float(
        string="Estimated Share (%)",
        digits=(16, 1),
        aggregator="avg",
        help="Estimated share of the customer's purchases that goes to this "
        "competitor, in percent.",
    )
    notes = fields.Text()
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")

    _sql_constraints = [
        (
            "estimated_share_range",
            "CHECK(estimated_share >= 0 AND estimated_share <= 100)",
            "An estimated share lies between 0 and 100 %.",
        ),
    ]

    @api.depends("competitor_partner_id")
    def _compute_name(self):
        for line in self:
            if line.competitor_partner_id:
                line.name = line.competitor_partner_id.commercial_partner_id.name

    @api.constrains("partner_id", "competitor_partner_id")
    def _check_not_self(self):
        for line in self:
            competitor = line.competitor_partner_id.commercial_partner_id
            if competitor and competitor == line.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "%(customer)s cannot be its own competing supplier.",
                        customer=line.partner_id.display_name,
                    )
                )

    @api.constrains("partner_id", "estimated_share")
    def _check_total_share(self):
        # Constraints run before Odoo checks the record rules on a created or
        # moved line: check them first, so that the message below tells
        # nothing about the shares of another salesperson's customer.
        self.check_access("write")
        for partner in self.partner_id:
            total = sum(
                self.sudo()
                .search([("partner_id", "=", partner.id)])
                .mapped("estimated_share")
            )
            if total > 100.0 + 1e-6:
                raise ValidationError(
                    self.env._(
                        "The estimated shares of the competing suppliers of "
                        "%(customer)s add up to %(total)s %%, more than 100 %%.",
                        customer=partner.display_name,
                        total=round(total, 1),
                    )
                )


class ResPartner(models.Model):
    _inherit = "res.partner"

    tier_competitor_ids = fields.One2many(
        "customer.tier.competitor",
        "partner_id",
        string="Competing Suppliers",
        help="Who else supplies the customer.",
    )
