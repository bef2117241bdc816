from . import customer_tier_recompute
from . import customer_tier_workbook_wizard
from . import base_partner_merge
