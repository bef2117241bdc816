#!/usr/bin/env bash
# Take the README's screenshots: the manager's review tour
# (tests/test_manager_tour.py) in English and in Chinese, on a fresh
# database with customer_tier and its demo data.
#
#   tools/screenshots.sh [OUTPUT_DIR] [extra pytest arguments]
#
# OUTPUT_DIR (default static/description/screenshots) receives one folder
# per language (en_US, zh_CN) with a PNG of each key screen, 1366 pixels
# wide: partner_tier, program, preview, history, dashboard, quotation. The
# tour checks its figures as in the test suite: the screenshots replace
# those of OUTPUT_DIR only when both tours pass. The database is dropped at
# the end (keep it with KEEP_DB=1). CT_HTTP_PORT: port of the test server
# (default 8069).
source "$(dirname "$0")/_common.sh"

check_odoo
check_postgres
"$PYTHON" -c 'import pytest_odoo, websocket' 2>/dev/null || die "pytest-odoo or websocket-client is missing: run '$PYTHON -m pip install -r $REPO_ROOT/requirements.txt'."
ensure_system_tools
make_addons_dir

OUT="$(mkdir -p "${1:-$REPO_ROOT/static/description/screenshots}" && cd "${1:-$REPO_ROOT/static/description/screenshots}" && pwd)"
[ $# -gt 0 ] && shift
DB="${CT_SCREENSHOTS_DB:-customer_tier_shots_$$}"
LOG_DIR="${CT_LOG_DIR:-$REPO_ROOT/.test-output}"
mkdir -p "$LOG_DIR"
: > "$LOG_DIR/install-screenshots.log"
SHOTS_TMP="$(mktemp -d "${TMPDIR:-/tmp}/customer_tier_shots.XXXXXX")"
cleanup() {
    [ -n "${KEEP_DB:-}" ] || drop_db "$DB" || true
    rm -rf "$ADDONS_TMP" "$SHOTS_TMP"
}
trap cleanup EXIT

drop_db "$DB"
echo "== Installing customer_tier with demo data into $DB"
start=$(date +%s)
odoo_cmd -d "$DB" -i customer_tier --stop-after-init --log-level=warn \
    --logfile="$LOG_DIR/install-screenshots.log" || { cat "$LOG_DIR/install-screenshots.log" >&2; die "installation failed"; }
echo "   installed in $(( $(date +%s) - start )) s"

echo "== Running the manager's review tour, screenshots into $OUT"
cd "$ADDONS_TMP"
CT_SCREENSHOTS="$SHOTS_TMP" "$PYTHON" -m pytest "$ADDONS_TMP/customer_tier/tests/test_manager_tour.py" \
    --odoo-database="$DB" \
    --odoo-addons-path="$ADDONS_PATH" \
    --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" --odoo-extra="db_user=$DB_USER" \
    --odoo-log-level=warn --odoo-http --odoo-extra="screenshots=$LOG_DIR" \
    --odoo-extra="http-port=${CT_HTTP_PORT:-8069}" \
    -p no:cacheprovider -q "$@"
for lang in en_US zh_CN; do
    rm -rf "${OUT:?}/$lang"
    mv "$SHOTS_TMP/$lang" "$OUT/$lang"
done
ls -l "$OUT"/*/*.png
