"""Guards shared by the module's models: values users may not write, the
records an export reads, and the operators a search on a computed flag
understands."""

from odoo import api, models
from odoo.exceptions import AccessError, UserError


def check_fields_not_written(records, vals_list, names=(), derived=True):
    """Refuse values of fields users do not set, unless in superuser mode.

    ``vals_list``: the values of a ``create`` (a list) or a ``write`` (one
    dict). Refused: the fields in ``names`` (set by the module's scheduled
    runs only) and, with ``derived`` (the module's own models), every
    computed or related field that is read-only: Odoo writes any field it is
    given over RPC (``readonly`` only locks it in forms), so a stored related
    field would take any value and a non-stored one would write through to
    its source record.
    """
    if records.env.su:
        return
    if isinstance(vals_list, dict):
        vals_list = [vals_list]
    given = {name for vals in vals_list for name in vals}
    refused = [
        field
        for name, field in records._fields.items()
        if name in given
        and (
            name in names
            or (derived and (field.compute or field.related) and field.readonly)
        )
    ]
    if refused:
        env = records.env
        raise AccessError(
            env._(
                "%(fields)s of %(model)s cannot be set by hand: the tier "
                "program sets them.",
                fields=", ".join(
                    f"“{field._description_string(env)}”" for field in refused
                ),
                model=env["ir.model"].sudo()._get(records._name).name,
            )
        )


class CustomerTierExportGuard(models.AbstractModel):
    """The module's records that hold figures computed when read, or read
    through their company and salesperson: an export checks that the user
    reads them.

    An export reads the fields of the ids it is given, and Odoo checks the
    records' access only when it reads a stored field: a computed or related
    field (a figure, a program's fit status, a key date's salesperson...)
    would be computed for records the user may not read, of another company
    or another salesperson."""

    _name = "customer.tier.export.guard"
    _description = "Customer Tier Export Guard"

    def export_data(self, fields_to_export):
        self.check_access("read")
        return super().export_data(fields_to_export)


class CustomerTierOwnedLine(models.AbstractModel):
    """A line kept by hand on a record of the sales team (``_owner_field``: a
    competing supplier on its customer, a key date on its profile): no derived
    field is written by hand, and a line moved to another owner must still be
    the writer's. ``_unwritable_fields``: fields the module's scheduled runs
    set, which nobody writes by hand either."""

    _name = "customer.tier.owned.line"
    _description = "Customer Tier Line Kept on an Owner"
    _inherit = ["customer.tier.export.guard"]
    _owner_field = None
    _unwritable_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        check_fields_not_written(self, vals_list, names=self._unwritable_fields)
        return super().create(vals_list)

    def write(self, vals):
        check_fields_not_written(self, vals, names=self._unwritable_fields)
        res = super().write(vals)
        if self._owner_field in vals:
            # Odoo checks the record rules on the values before a write only:
            # a line moved to another owner must still be the writer's.
            self.check_access("write")
        return res


def flag_search_values(records, field_name, operator, value):
    """The values of the boolean ``field_name`` (a subset of ``{True,
    False}``) that the search term ``(field_name, operator, value)`` asks
    for; a ``UserError`` for an operator a flag does not understand."""
    if operator in ("=", "!="):
        wanted = {bool(value)}
    elif operator in ("in", "not in"):
        values = value if isinstance(value, (list, tuple, set)) else [value]
        wanted = {bool(v) for v in values}
    else:
        env = records.env
        raise UserError(
            env._(
                "“%(field)s” is a yes/no field: search it with “is set” or "
                "“is not set”, not with “%(operator)s”.",
                field=records._fields[field_name]._description_string(env),
                operator=operator,
            )
        )
    if operator in ("!=", "not in"):
        wanted = {True, False} - wanted
    return wanted


def flag_domain(wanted, positive_domain):
    """Domain of a flag search for ``wanted`` (from :func:`flag_search_values`)
    given ``positive_domain(positive)``, the domain of the records whose flag
    is set (``positive`` True) or not set (False)."""
    if wanted == {True, False}:
        return [(1, "=", 1)]
    if not wanted:
        return [(0, "=", 1)]
    return positive_domain(True in wanted)


# Search by name on a many2one: the operator that finds the records named
# (a negative operator finds the others: those, negated).
NAME_OPERATORS = {
    "=": "=",
    "!=": "=",
    "in": "in",
    "not in": "in",
    "like": "like",
    "not like": "like",
    "ilike": "ilike",
    "not ilike": "ilike",
    "=like": "=like",
    "=ilike": "=ilike",
}
NEGATIVE_NAME_OPERATORS = {"!=", "not in", "not like", "not ilike"}


def profile_operator_error(env, operator):
    """The error of a search on a tier profile field with ``operator``."""
    return UserError(
        env._(
            "Tier profiles cannot be searched with “%(operator)s”: search them "
            "by customer name or pick one.",
            operator=operator,
        )
    )
