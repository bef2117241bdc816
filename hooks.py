"""Install and uninstall hooks.

Uninstalling the module keeps what Odoo's own data still uses and stops what
would run on the module's behalf:

* the points programs of the tier programs are archived: the customers keep
  their cards, points and history, and nothing credits points by rules that
  no longer exist (see ``customer.tier.program._loyalty_uninstall``);
* records of the module's data (activity types, products, product categories,
  partners of the demo data...) that other records still use (activities,
  order lines, products, orders, the kept points programs' rewards) are kept.
  Odoo would try to delete them, fail on the foreign key and log the failed
  query at ERROR level; their external ids are parked under ``KEPT_MODULE``
  instead, so the uninstall leaves them alone;
* the module's index on the orders (``models/sale_order.py``) is dropped.

A reinstall takes the parked external ids back before loading the data
(``pre_init_hook``), so the data files update the kept records instead of
creating second ones, and the company's tier program takes its old points
program back (``_loyalty_ensure_program``).
"""

from odoo.tools import mute_logger
from odoo.tools.sql import drop_index

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from .models.sale_order import (
    LINE_REVENUE_INDEX,
    ORDER_FIGURES_INDEX,
    QUOTATION_INDEX,
)

MODULE = "customer_tier"
# Module name of the external ids of records kept at uninstall.
KEPT_MODULE = "__customer_tier__"


def pre_init_hook(env):
    """Give the records kept by a previous uninstall their external ids back."""
    Data = env["ir.model.data"].sudo()
    for data in Data.search(
        [("module", "=", KEPT_MODULE), ("model", "!=", "loyalty.program")]
    ):
        if (
            data.model in env
            and env[data.model].browse(data.res_id).exists()
            and not Data.search_count(
                [("module", "=", MODULE), ("name", "=", data.name)]
            )
        ):
            data.module = MODULE
        else:
            data.unlink()


def uninstall_hook(env):
    env["customer.tier.program"]._loyalty_uninstall()
    _keep_used_records(env)
    # (the module's indexes on Odoo's orders and lines: models/sale_order.py)
    drop_index(env.cr, ORDER_FIGURES_INDEX, "sale_order")
    drop_index(env.cr, QUOTATION_INDEX, "sale_order")
    drop_index(env.cr, LINE_REVENUE_INDEX, "sale_order_line")


def _keep_used_records(env):
    """Park the external ids of the module's records that Odoo's data still
    uses, so that the uninstall does not try to delete them.

    Which ones: the deletion Odoo is about to do is tried first, in its
    order (latest external id first) and under its context, and rolled
    back; a record whose deletion fails is kept, and so are the products and
    tags the kept points programs' rules and rewards use. Records of the
    module's own models (their tables are dropped) and technical records
    (``ir.*``, groups) are left to Odoo.
    """
    Data = env["ir.model.data"].sudo()
    rows = Data.search([("module", "=", MODULE)], order="id DESC").filtered(
        lambda d: (
            d.model in env
            and env[d.model]._original_module != MODULE
            and not d.model.startswith("ir.")
            and d.model != "res.groups"
        )
    )
    kept = _used_by_kept_points_programs(env)
    shared = {
        (d.model, d.res_id)
        for d in Data.search(
            [
                ("module", "!=", MODULE),
                ("model", "in", list(set(rows.mapped("model")))),
                ("res_id", "in", rows.mapped("res_id")),
            ]
        )
    }
    # plain values: a tried deletion removes the external ids of its record
    items = [(d.id, d.model, d.res_id) for d in rows]
    to_park = []
    env.flush_all()
    uninstall_env = env(su=True, context={**env.context, MODULE_UNINSTALL_FLAG: True})
    savepoint = env.cr.savepoint()
    try:
        with mute_logger("odoo.sql_db"):
            for data_id, model, res_id in items:
                if (model, res_id) in shared:  # another module's too: Odoo skips it
                    continue
                if (model, res_id) in kept:
                    to_park.append(data_id)
                    continue
                try:
                    with env.cr.savepoint():
                        uninstall_env[model].browse(res_id).exists().unlink()
                except Exception:  # what Odoo would fail on too
                    to_park.append(data_id)
    finally:
        savepoint.close(rollback=True)  # only tried
    env.invalidate_all()
    Data.browse(to_park).write({"module": KEPT_MODULE})


def _used_by_kept_points_programs(env):
    """(model, id) of the records the rules and rewards of the archived
    points programs use (and their ``_inherits`` parents): without them the
    rewards would lose their products when the program is taken back."""
    Program = env["customer.tier.program"].sudo().with_context(active_test=False)
    loyalty = Program.search([("loyalty_program_id", "!=", False)]).loyalty_program_id
    loyalty = loyalty.with_context(active_test=False)
    used = set()
    for line in [*loyalty.reward_ids, *loyalty.rule_ids]:
        for field in line._fields.values():
            if field.type in ("many2one", "many2many") and field.store:
                for record in line[field.name]:
                    used.add((record._name, record.id))
                    for parent_model, link in record._inherits.items():
                        used.add((parent_model, record[link].id))
    return used
