#!/usr/bin/env bash
# Start a demo: a fresh database with customer_tier and its demo data, tiers
# computed, Odoo served on http://127.0.0.1:8069 (stop it with Ctrl+C).
#
#   tools/demo.sh            # database "customer_tier_demo" (recreated)
#   CT_DEMO_DB=name tools/demo.sh
source "$(dirname "$0")/_common.sh"

check_odoo
check_postgres
make_addons_dir
trap 'rm -rf "$ADDONS_TMP"' EXIT

DB="${CT_DEMO_DB:-customer_tier_demo}"
PORT="${CT_DEMO_PORT:-8069}"
drop_db "$DB"
echo "== Creating $DB with customer_tier and its demo data (about two minutes)"
odoo_cmd -d "$DB" -i customer_tier --stop-after-init --log-level=warn
cat <<MSG

== Customer tiers are computed. Odoo is starting on http://127.0.0.1:$PORT
   Log in as admin / admin (sales manager), or as a salesperson:
   lin.wei / lin.wei (own documents only).
   Sales > Customer Tiers shows the profiles; Sales > Customers shows the tier
   badges; Sales > Configuration > Customer Tiers holds the program.

MSG
exec "$PYTHON" -m odoo --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$DB_USER" \
    --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$PORT" --log-level=info
