# Shared helpers of tools/test.sh and tools/demo.sh (sourced, not run).
# They use an Odoo 18.0 that is already importable by $PYTHON and a running
# PostgreSQL; they never install either.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
# Odoo refuses to connect as "postgres": use a role of our own.
DB_USER="${CT_DB_USER:-odoo}"
export PGHOST PGPORT

die() {
    echo "ERROR: $*" >&2
    exit 2
}

check_odoo() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found: install Python 3.10+ (or set PYTHON=/path/to/python3)."
    local version
    if ! version="$("$PYTHON" -c 'import odoo.release as r; print(r.serie)' 2>/dev/null)"; then
        die "Odoo is not importable by '$PYTHON'. Install Odoo 18.0 so that 'python3 -c \"import odoo\"' works (or set PYTHON to the interpreter that has it)."
    fi
    [ "$version" = "18.0" ] || die "Odoo $version found, Odoo 18.0 is required."
    ODOO_ROOT="$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))')"
    ODOO_ADDONS="$ODOO_ROOT/addons"
    if [ ! -d "$ODOO_ADDONS/sale_margin" ]; then
        die "Odoo's addons (sale_margin) were not found next to the odoo package ($ODOO_ADDONS). Set ODOO_ADDONS_PATH to the folder holding Odoo's addons."
    fi
    ODOO_ADDONS="${ODOO_ADDONS_PATH:-$ODOO_ADDONS}"
    "$PYTHON" -c 'import xlsxwriter, openpyxl, numpy, scipy' 2>/dev/null || die "Python packages missing: run '$PYTHON -m pip install -r $REPO_ROOT/requirements.txt'."
}

check_postgres() {
    "$PYTHON" - "$PGHOST" "$PGPORT" <<'PY' || die "PostgreSQL is not reachable at $PGHOST:$PGPORT (start it, or set PGHOST/PGPORT)."
import sys, psycopg2
try:
    psycopg2.connect(host=sys.argv[1], port=sys.argv[2], user="postgres", dbname="postgres", connect_timeout=5).close()
except psycopg2.OperationalError as exc:
    if "does not exist" in str(exc) or "authentication" in str(exc):
        sys.exit(0)  # server is up; role handled below
    print(exc, file=sys.stderr)
    sys.exit(1)
PY
    # Make sure our own role exists (needs a superuser connection once).
    "$PYTHON" - "$PGHOST" "$PGPORT" "$DB_USER" <<'PY' || die "PostgreSQL role '$DB_USER' is missing and could not be created: create it with CREATEDB (or set CT_DB_USER)."
import sys, psycopg2
host, port, role = sys.argv[1:4]
try:
    psycopg2.connect(host=host, port=port, user=role, dbname="postgres", connect_timeout=5).close()
    sys.exit(0)
except psycopg2.OperationalError:
    pass
conn = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=5)
conn.autocommit = True
conn.cursor().execute('CREATE ROLE "%s" LOGIN CREATEDB' % role.replace('"', ''))
print(f"Created PostgreSQL role {role}.")
PY
}

# A throw-away addons folder in which the repository appears as "customer_tier",
# whatever the checkout folder is called.
make_addons_dir() {
    ADDONS_TMP="$(mktemp -d "${TMPDIR:-/tmp}/customer_tier_addons.XXXXXX")"
    ln -s "$REPO_ROOT" "$ADDONS_TMP/customer_tier"
    ADDONS_PATH="$ODOO_ADDONS,$ADDONS_TMP"
}

odoo_cmd() {
    "$PYTHON" -m odoo --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$DB_USER" \
        --addons-path="$ADDONS_PATH" "$@"
}

drop_db() {
    "$PYTHON" - "$PGHOST" "$PGPORT" "$DB_USER" "$1" <<'PY'
import sys, psycopg2
host, port, user, db = sys.argv[1:5]
conn = psycopg2.connect(host=host, port=port, user=user, dbname="postgres")
conn.autocommit = True
cr = conn.cursor()
cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (db,))
cr.execute('DROP DATABASE IF EXISTS "%s"' % db.replace('"', ''))
PY
}

# Fail on any WARNING/ERROR/CRITICAL line of an Odoo log file.
# pytest-odoo imports the test modules before it switches Odoo into test
# mode, which makes Odoo log "Importing test framework" as an error once per
# test file: that one line is not a problem of the module and is ignored.
LOG_LINE='^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) '
IGNORED='odoo.tests.common: Importing test framework, avoid importing from business modules'
check_log() {
    local log="$1" what="$2"
    if grep -E "$LOG_LINE" "$log" | grep -v -F "$IGNORED" >/dev/null; then
        echo "ERROR: $what logged warnings or errors:" >&2
        grep -E "$LOG_LINE" "$log" | grep -v -F "$IGNORED" >&2
        exit 1
    fi
}

# System tools some tests need: wkhtmltopdf (PDF reports) and Chromium (the
# browser tour), from Debian's packages, installed when missing and possible.
ensure_system_tools() {
    local missing=()
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    # (no "grep -q" here: under pipefail its early exit fails fc-list)
    [ -n "$(fc-list 2>/dev/null | grep -i "Noto Sans CJK")" ] || missing+=(fonts-noto-cjk)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "== Installing ${missing[*]} (Debian packages)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "could not install ${missing[*]} with apt-get"
    else
        die "missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]})."
    fi
}
