#!/usr/bin/env bash
# Run the whole customer_tier test suite on a fresh database.
#
#   tools/test.sh [extra pytest arguments]
#
# Creates a new database, installs customer_tier with its demo data (the
# install log must be free of warnings and errors), runs tests/ with
# pytest-odoo, then drops the database (keep it with KEEP_DB=1).
source "$(dirname "$0")/_common.sh"

check_odoo
check_postgres
"$PYTHON" -c 'import pytest_odoo' 2>/dev/null || die "pytest-odoo is missing: run '$PYTHON -m pip install -r $REPO_ROOT/requirements.txt'."
make_addons_dir

DB="${CT_TEST_DB:-customer_tier_test_$$}"
LOG_DIR="${CT_LOG_DIR:-$REPO_ROOT/.test-output}"
mkdir -p "$LOG_DIR"
cleanup() {
    if [ -z "${KEEP_DB:-}" ]; then drop_db "$DB" || true; fi
    rm -rf "$ADDONS_TMP"
}
trap cleanup EXIT

drop_db "$DB"
echo "== Installing customer_tier with demo data into $DB"
start=$(date +%s)
odoo_cmd -d "$DB" -i customer_tier --stop-after-init --log-level=warn \
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
    -p no:cacheprovider -o junit_family=xunit2 --junitxml="$LOG_DIR/junit.xml" \
    "$@" 2>&1 | tee "$LOG_DIR/pytest.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 5 ]; then
    echo "ERROR: no test was collected." >&2
    exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
check_log "$LOG_DIR/pytest.log" "The test run"
