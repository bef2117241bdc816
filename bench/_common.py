"""Shared helpers of the benchmark scripts: options and opening Odoo.

Not an Odoo module file: ``bench/`` is never imported by Odoo. The scripts run
as plain Python with Odoo importable and open a registry themselves (no server,
no ``odoo shell``); they never build or install Odoo.
"""

import argparse
import atexit
import os
import shutil
import tempfile
import time
from contextlib import contextmanager

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_odoo_arguments(parser):
    """The database options shared by the scripts."""
    group = parser.add_argument_group("Odoo / PostgreSQL")
    group.add_argument("--db", required=True, help="database name")
    group.add_argument(
        "--db-host", default="127.0.0.1", help="PostgreSQL host (default 127.0.0.1)"
    )
    group.add_argument("--db-port", default=None, help="PostgreSQL port")
    group.add_argument("--db-user", default="odoo", help="PostgreSQL role (odoo)")
    group.add_argument("--db-password", default=None, help="PostgreSQL password")
    group.add_argument(
        "--addons-path",
        default=None,
        help="Odoo addons path; default: Odoo's own 'addons' folder next to the "
        "'odoo' package, plus a temporary folder holding a 'customer_tier' "
        "symlink to this repository",
    )
    return parser


def default_addons_path():
    """Odoo's root addons folder plus a temporary ``customer_tier`` symlink."""
    import odoo

    odoo_root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
    paths = [os.path.join(odoo_root, "addons")]
    addons_dir = tempfile.mkdtemp(prefix="customer_tier_bench.")
    atexit.register(shutil.rmtree, addons_dir, True)
    os.symlink(REPO_ROOT, os.path.join(addons_dir, "customer_tier"))
    paths.append(addons_dir)
    return ",".join(paths)


def odoo_args(args, log_level="warn"):
    """Command-line options for Odoo's configuration, from our options."""
    result = [
        f"--database={args.db}",
        f"--db_host={args.db_host}",
        f"--db_user={args.db_user}",
        f"--addons-path={args.addons_path or default_addons_path()}",
        f"--log-level={log_level}",
    ]
    if args.db_port:
        result.append(f"--db_port={args.db_port}")
    if args.db_password:
        result.append(f"--db_password={args.db_password}")
    return result


def setup_odoo(args, log_level="warn"):
    """Parse Odoo's configuration and return the registry of ``args.db``."""
    from odoo.tools import config

    config.parse_config(odoo_args(args, log_level), setup_logging=True)
    from odoo.modules.registry import Registry

    return Registry(args.db)


def new_parser(doc):
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return add_odoo_arguments(parser)


@contextmanager
def timed(label, timings, verbose=True):
    """Time a block, store the seconds in ``timings[label]`` and print them."""
    start = time.perf_counter()
    yield
    timings[label] = time.perf_counter() - start
    if verbose:
        print(f"  {label:<44} {timings[label]:8.2f} s", flush=True)  # pylint: disable=print-used


def vacuum(db, tables=(), dead_only=True):
    """``VACUUM (ANALYZE)`` outside any transaction (autocommit connection):
    ``tables`` plus, with ``dead_only``, every table holding dead rows.

    The server here runs without autovacuum, and rolled-back runs leave dead
    rows behind; without this, each run would be slower than the one before.
    """
    import psycopg2

    from odoo.sql_db import connection_info_for

    _name, info = connection_info_for(db)
    cnx = psycopg2.connect(**info)
    try:
        cnx.autocommit = True
        with cnx.cursor() as cur:
            names = set(tables)
            if dead_only:
                cur.execute(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE n_dead_tup > 0 AND schemaname = 'public'"
                )
                names.update(row[0] for row in cur.fetchall())
            for name in sorted(names):
                cur.execute(f'VACUUM (ANALYZE) public."{name}"')
        return sorted(names)
    finally:
        cnx.close()
