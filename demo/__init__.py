"""Demo data generator, imported lazily by
``customer.tier.program._demo_populate`` (see customer_tier_demo.py)."""
