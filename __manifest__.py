# Part of customer_tier. See LICENSE file for full copyright and licensing details.
{
    "name": "Customer Tiers",
    "summary": "Classify customers into tiers (core, key, general, marginal) "
    "and prospects into grades from their sale orders",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "customer_tier developers",
    "website": "https://github.com/customer-tier/customer_tier",
    "depends": ["sale_margin"],
    "data": [
        "security/customer_tier_security.xml",
        "security/ir.model.access.csv",
        "data/customer_tier_data.xml",
        "data/ir_cron_data.xml",
        "views/customer_tier_views.xml",
        "views/customer_tier_program_views.xml",
        "views/customer_tier_profile_views.xml",
        "views/customer_tier_history_views.xml",
        "views/res_partner_views.xml",
        "views/sale_order_views.xml",
        "wizards/customer_tier_recompute_views.xml",
        "views/customer_tier_menus.xml",
    ],
    "demo": [
        "demo/customer_tier_demo.xml",
    ],
    "installable": True,
    "application": False,
}
