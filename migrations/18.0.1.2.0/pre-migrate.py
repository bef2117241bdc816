"""18.0.1.2.0: the program form's notebook is regrouped (Method & Tiers,
Service, Prospects & Regions, Prediction, Advanced) and its Prediction page
no longer shows the fitted parameters, which leave the program for its fit
records. The former versions of the views that add to the program form,
still in the database when the program form (loaded first) is checked with
its extensions, would look for pages and fields that are gone: they are
emptied here, and their new versions load with their feature's views."""

from odoo.tools import SQL

PROGRAM_FORM_EXTENSIONS = (
    "customer_tier_program_view_form_dimension",
    "customer_tier_program_view_form_followup",
    "customer_tier_program_view_form_loyalty",
    "customer_tier_program_view_form_prediction",
)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            """
            UPDATE ir_ui_view v
               SET arch_db = jsonb_build_object('en_US', '<data/>')
              FROM ir_model_data d
             WHERE d.model = 'ir.ui.view'
               AND d.module = 'customer_tier'
               AND d.name IN %(names)s
               AND v.id = d.res_id
            """,
            names=PROGRAM_FORM_EXTENSIONS,
        )
    )
