"""18.0.1.2.0: the prediction fit each program kept in its own columns becomes
a fit record (customer.tier.prediction.fit) of its date; the columns go."""

from odoo import SUPERUSER_ID, api

from odoo.addons.customer_tier.models.customer_tier_migration import (
    _migrate_program_fits,
)


def migrate(cr, version):
    if not version:
        return
    _migrate_program_fits(api.Environment(cr, SUPERUSER_ID, {}))
