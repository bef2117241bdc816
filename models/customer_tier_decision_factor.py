from odoo import fields, models


class CustomerTierDecisionFactor(models.Model):
    """What decides a key account's purchases (price, quality, delivery ...)."""

    _name = "customer.tier.decision.factor"
    _description = "Customer Decision Factor"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer(string="Color Index", aggregator=None)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A decision factor with this name exists."),
    ]
