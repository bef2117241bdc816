"""18.0.1.4.0: fill the prediction's inputs of every customer profile (the
predicted figures are computed when read from them)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.customer_tier.models.customer_tier_migration import (
    _migrate_prediction_inputs,
)


def migrate(cr, version):
    if not version:
        return
    _migrate_prediction_inputs(api.Environment(cr, SUPERUSER_ID, {}))
