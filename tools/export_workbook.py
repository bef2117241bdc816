#!/usr/bin/env python3
# pylint: disable=print-used,invalid-commit
"""Write the customer tier workbook (XLSX) of a database to a file.

    python3 tools/export_workbook.py --db customer_tier_demo --out tiers.xlsx
    python3 tools/export_workbook.py --db NAME --out f.xlsx --login lin.wei \\
        --date-from 2025-01-01 --date-to 2025-03-31 --db_host=127.0.0.1

It opens an Odoo registry (no server, no ``odoo shell``) and calls the same
method as the export wizard, with the rights of ``--login`` (default: admin),
so a salesperson limited to own documents exports own customers only.
Options it does not know (``--db_host``, ``--db_user``, ``--addons-path`` ...)
are passed to Odoo's configuration; without ``--addons-path`` the repository
is made visible to Odoo as ``customer_tier`` next to Odoo's own addons.
"""

import argparse
import os
import sys
import tempfile
from datetime import date

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="database name")
    parser.add_argument("--out", required=True, help="XLSX file to write")
    parser.add_argument("--login", default="admin", help="export as this user")
    parser.add_argument("--company", help="company name or id (default: the user's)")
    parser.add_argument(
        "--date-from",
        type=date.fromisoformat,
        help="first day of the moves period (default: quarter start)",
    )
    parser.add_argument(
        "--date-to",
        type=date.fromisoformat,
        help="last day of the period (default: today)",
    )
    parser.add_argument(
        "--salesperson",
        action="append",
        default=[],
        help="login of a salesperson to restrict to (repeatable)",
    )
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=30,
        help="upcoming reorders within this many days (default 30)",
    )
    return parser.parse_known_args(argv)


def odoo_config(odoo_args):
    import odoo
    from odoo.tools import config

    if not any(a.startswith("--addons-path") for a in odoo_args):
        odoo_addons = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))), "addons"
        )
        addons_dir = tempfile.mkdtemp(prefix="customer_tier_addons.")
        os.symlink(REPO_ROOT, os.path.join(addons_dir, "customer_tier"))
        odoo_args = [*odoo_args, f"--addons-path={odoo_addons},{addons_dir}"]
    config.parse_config(odoo_args)


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    odoo_config(odoo_args)
    import odoo
    from odoo.modules.registry import Registry

    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        user = env["res.users"].search([("login", "=", args.login)], limit=1)
        if not user:
            sys.exit(f"No user with login {args.login!r} in {args.db}.")
        company = user.company_id
        if args.company:
            domain = (
                [("id", "=", int(args.company))]
                if args.company.isdigit()
                else [("name", "=", args.company)]
            )
            company = env["res.company"].search(domain, limit=1)
            if not company or company not in user.company_ids:
                sys.exit(f"{args.login} has no access to company {args.company!r}.")
        context = dict(user.context_get(), allowed_company_ids=[company.id])
        uenv = odoo.api.Environment(cr, user.id, context)
        salespeople = uenv["res.users"]
        for login in args.salesperson:
            found = env["res.users"].search([("login", "=", login)], limit=1)
            if not found:
                sys.exit(f"No salesperson with login {login!r}.")
            salespeople |= uenv["res.users"].browse(found.id)
        Wizard = uenv["customer.tier.workbook.wizard"]
        values = {
            "company_id": company.id,
            "horizon_days": args.horizon_days,
            "user_ids": [(6, 0, salespeople.ids)],
        }
        if args.date_from:
            values["date_from"] = args.date_from
        if args.date_to:
            values["date_to"] = args.date_to
        wizard = Wizard.create(values)
        wizard._write_workbook(args.out)
        company_name = company.name
        cr.rollback()  # the transient wizard is not kept
    sys.stdout.write(
        f"Wrote {args.out} ({os.path.getsize(args.out)} bytes) for {args.login} "
        f"in {company_name}.\n"
    )


if __name__ == "__main__":
    main()
