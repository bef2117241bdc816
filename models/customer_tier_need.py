from odoo import fields, models


class CustomerTierNeed(models.Model):
    """What matters most to a customer (after-sales support, delivery speed,
    price ...): tags on the partner, a dimension of the classification."""

    _name = "customer.tier.need"
    _description = "Customer Need"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        help="Technical code that saved filters and reports can rely on, e.g. "
        "price_sensitive.",
    )
    sequence = fields.Integer(default=10)
    color = fields.Integer(string="Color Index", aggregator=None)
    active = fields.Boolean(default=True)
    description = fields.Text(
        translate=True, help="How the sales team serves customers with this need."
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "A need with this code already exists."),
    ]
