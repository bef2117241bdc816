from . import customer_tier_recompute
