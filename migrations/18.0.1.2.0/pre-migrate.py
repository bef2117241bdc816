"""18.0.1.2.0: the fitted parameters leave the program for its fit records,
and the program form's Prediction tab no longer shows them. That tab's
former view, still in the database when the program form (loaded first) is
checked with its extensions, would name fields that are gone: it is emptied
here, and its new version loads with the prediction views."""

from odoo.tools import SQL


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
               AND d.name = 'customer_tier_program_view_form_prediction'
               AND v.id = d.res_id
            """
        )
    )
