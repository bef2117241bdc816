"""18.0.1.1.0: the tier notes that former versions logged on partners (read by
every internal user of every company) go to the tier profiles."""

from odoo import SUPERUSER_ID, api

from odoo.addons.customer_tier.models.customer_tier_migration import (
    _migrate_partner_notes,
)


def migrate(cr, version):
    if not version:
        return
    _migrate_partner_notes(api.Environment(cr, SUPERUSER_ID, {}))
