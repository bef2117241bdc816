"""18.0.1.1.0: reorder checks and key-date reminders of former versions carried
the customer's figures or the key date on the partner (read by every user who
may edit it): their detail goes to the tier profile."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    api.Environment(cr, SUPERUSER_ID, {})["mail.activity"]._customer_tier_hide_details()
