#!/usr/bin/env bash
# The main job: a throwaway PostgreSQL cluster under .state/, a database with auth_masterkey
# and Odoo's demo users, and Odoo on http://localhost:8069. Ctrl-C stops Odoo and PostgreSQL.
source "$(dirname "$0")/lib.sh"

ODOO_ROOT="$(find_odoo_src)" || die "no Odoo 18 source found: set ODOO_SRC and run scripts/install.sh"
[ -x "$PY" ] || die "no virtual environment: run scripts/install.sh first"
PG_PORT="${MASTERKEY_PG_PORT:-5433}"
HTTP_PORT="${MASTERKEY_HTTP_PORT:-8069}"
DB="${MASTERKEY_DB:-masterkey_demo}"
mkdir -p "$STATE_DIR"
pg_start "$STATE_DIR/pg" "$PG_PORT"
trap 'pg_stop "$STATE_DIR/pg"' EXIT
CONF="$(odoo_conf "$STATE_DIR/odoo.conf" "$PG_PORT" "$HTTP_PORT" "$ODOO_ROOT" "dbfilter = ^$DB\$")"

if ! psql -h 127.0.0.1 -p "$PG_PORT" -U odoo -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
  log "creating database $DB with auth_masterkey and demo data (a few minutes)"
  "$PY" "$ODOO_ROOT/odoo-bin" -c "$CONF" -d "$DB" -i auth_masterkey --stop-after-init --log-level=warn
  # WebAuthn needs a host name, not an IP: the demo lives on http://localhost.
  "$PY" "$ODOO_ROOT/odoo-bin" shell -c "$CONF" -d "$DB" --log-level=warn <<PYEOF
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:$HTTP_PORT")
env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
env.cr.commit()
PYEOF
fi

cat <<GUIDE

  auth_masterkey demo — Odoo 18 on http://localhost:$HTTP_PORT  (database $DB)
  ------------------------------------------------------------------------------
  Log in as admin / admin (or demo / demo).
  1. Enrol: avatar menu > My Preferences > Account Security > "Add a phone" (confirm your
     password). Scan the QR code with the phone, or click "Or enrol this device" to use
     this browser as the phone (WebAuthn works on http://localhost only, or over HTTPS).
  2. Log out. On /web/login:
     - "Log in with this phone" on the enrolled browser logs in directly;
     - "Log in with your phone" on another browser shows a QR code and a two-digit code;
       open its link on the phone, tap the same number, approve.
  3. Settings > General Settings > MasterKey: required factors (1/2/3), password policy,
     QR lifetime, RP ID and origins. MasterKey menu: phones and the login log.
  A real phone needs HTTPS: see docs/user_guide.md. Ctrl-C stops Odoo and PostgreSQL.

GUIDE
# -u: a database made by an older checkout gets this version of the addon
"$PY" "$ODOO_ROOT/odoo-bin" -c "$CONF" -d "$DB" -u auth_masterkey
