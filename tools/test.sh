#!/usr/bin/env bash
# Run the whole customer_tier test suite on a fresh database.
#
#   tools/test.sh [extra pytest arguments]
#
# Creates a new database with customer_tier and its demo data (the install
# log must be free of warnings and errors: this checks the demo), then a
# second new database without demo data, in which tests/ runs with
# pytest-odoo (the tests build their own companies and records); drops both
# (keep them with KEEP_DB=1). The browser
# tours run headless in Chromium; the screenshots Odoo takes when one fails are
# gathered in $LOG_DIR/screenshots (default .test-output/screenshots).
source "$(dirname "$0")/_common.sh"

check_odoo
check_postgres
"$PYTHON" -c 'import pytest_odoo' 2>/dev/null || die "pytest-odoo is missing: run '$PYTHON -m pip install -r $REPO_ROOT/requirements.txt'."
# Without websocket-client Odoo skips the browser tours instead of running them.
"$PYTHON" -c 'import websocket' 2>/dev/null || die "websocket-client is missing: run '$PYTHON -m pip install -r $REPO_ROOT/requirements.txt'."
ensure_system_tools
make_addons_dir

DB="${CT_TEST_DB:-customer_tier_test_$$}"
LOG_DIR="${CT_LOG_DIR:-$REPO_ROOT/.test-output}"
mkdir -p "$LOG_DIR"
# Odoo appends to --logfile: start every run with empty logs.
: > "$LOG_DIR/install-demo.log"
: > "$LOG_DIR/install.log"
rm -rf "$LOG_DIR/screenshots"
DEMO_DB="${DB}_demo"
cleanup() {
    if [ -z "${KEEP_DB:-}" ]; then
        drop_db "$DB" || true
        drop_db "$DEMO_DB" || true
    fi
    rm -rf "$ADDONS_TMP"
}
trap cleanup EXIT

drop_db "$DEMO_DB"
echo "== Installing customer_tier with demo data into $DEMO_DB"
start=$(date +%s)
odoo_cmd -d "$DEMO_DB" -i customer_tier --stop-after-init --log-level=warn \
    --logfile="$LOG_DIR/install-demo.log" || { cat "$LOG_DIR/install-demo.log" >&2; die "installation with demo data failed"; }
check_log "$LOG_DIR/install-demo.log" "The installation with demo data"
echo "   installed in $(( $(date +%s) - start )) s, log clean"
[ -n "${KEEP_DB:-}" ] || drop_db "$DEMO_DB"

drop_db "$DB"
echo "== Installing customer_tier without demo data into $DB (for the tests)"
start=$(date +%s)
odoo_cmd -d "$DB" -i customer_tier --without-demo=all --stop-after-init --log-level=warn \
    --logfile="$LOG_DIR/install.log" || { cat "$LOG_DIR/install.log" >&2; die "installation failed"; }
check_log "$LOG_DIR/install.log" "The installation"
echo "   installed in $(( $(date +%s) - start )) s, log clean"

echo "== Running tests"
# Collect through the symlink (not from inside it) so that the package is
# imported as odoo.addons.customer_tier whatever the checkout is called.
cd "$ADDONS_TMP"
set +e
"$PYTHON" -m pytest "$ADDONS_TMP/customer_tier/tests" \
    --odoo-database="$DB" \
    --odoo-addons-path="$ADDONS_PATH" \
    --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" --odoo-extra="db_user=$DB_USER" \
    --odoo-log-level=warn \
    --odoo-http --odoo-extra="screenshots=$LOG_DIR" \
    -p no:cacheprovider -o junit_family=xunit2 --junitxml="$LOG_DIR/junit.xml" \
    "$@" 2>&1 | tee "$LOG_DIR/pytest.log"
rc=${PIPESTATUS[0]}
set -e
# Odoo writes its screenshots to <screenshots>/<database>/screenshots.
if [ -d "$LOG_DIR/$DB/screenshots" ]; then
    mkdir -p "$LOG_DIR/screenshots"
    mv "$LOG_DIR/$DB/screenshots/"* "$LOG_DIR/screenshots/" 2>/dev/null || true
    rm -rf "${LOG_DIR:?}/$DB"
    echo "Screenshots of failed browser tours: $LOG_DIR/screenshots"
fi
if [ "$rc" -eq 5 ]; then
    echo "ERROR: no test was collected." >&2
    exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
check_log "$LOG_DIR/pytest.log" "The test run"
