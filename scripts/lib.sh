# Shared helpers for the project's scripts: where things live and how Odoo is found.
# Sourced, not executed.
set -euo pipefail

ADDON_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON_NAME="auth_masterkey"
STATE_DIR="${MASTERKEY_STATE_DIR:-$ADDON_DIR/.state}"
VENV="${MASTERKEY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/auth_masterkey/venv-py311}"
PY="$VENV/bin/python"

log() { printf '[auth_masterkey] %s\n' "$*" >&2; }
die() { printf '[auth_masterkey] ERROR: %s\n' "$*" >&2; exit 1; }

# Prints the root of an Odoo 18 source tree (the folder holding odoo-bin), or nothing.
find_odoo_src() {
  local cand
  for cand in ${ODOO_SRC:+"$ODOO_SRC"} /opt/odoo18 /opt/odoo /opt/odoo-18.0 /opt/*/ \
              "$HOME/odoo18" "$HOME/odoo" "$HOME/src/odoo" /usr/lib/python3/dist-packages; do
    cand="${cand%/}"
    if [ -f "$cand/odoo/release.py" ] && grep -q "version_info = (18," "$cand/odoo/release.py" 2>/dev/null; then
      printf '%s\n' "$cand"; return 0
    fi
  done
  return 1
}

# Prints the addons path for Odoo + this addon: a folder holding a link named auth_masterkey.
addons_links_dir() {
  local d="$STATE_DIR/addons"
  mkdir -p "$d"
  ln -sfn "$ADDON_DIR" "$d/$ADDON_NAME"
  printf '%s\n' "$d"
}

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"

# Starts a throwaway PostgreSQL cluster in $1 (created if missing) on 127.0.0.1:$2.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the 'postgres' user.
pg_start() {
  local dir port="$2" as=()
  dir="$(realpath -m "$1")"
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql-15)"
  if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    "${as[@]}" "$PG_BIN/initdb" -D "$dir" -U odoo --auth=trust -E UTF8 --locale=C >/dev/null
  fi
  if ! "${as[@]}" "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    "${as[@]}" "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c max_connections=200" >/dev/null
  fi
  log "PostgreSQL running on 127.0.0.1:$port (data: $dir)"
}

pg_stop() {
  local dir="$1" as=()
  if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
  [ -f "$dir/PG_VERSION" ] && "${as[@]}" "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# Writes an Odoo configuration for the throwaway cluster; prints its path.
odoo_conf() {
  local conf="$1" port="$2" http_port="$3" odoo_root="$4" extra="${5:-}"
  local kek_file="$STATE_DIR/masterkey_kek"
  [ -f "$kek_file" ] || "$PY" -c "import sys; sys.path.insert(0, '$ADDON_DIR'); from masterkey_core import kek; print(kek.generate_config_value())" > "$kek_file"
  chmod 600 "$kek_file"
  cat > "$conf" <<CONF
[options]
db_host = 127.0.0.1
db_port = $port
db_user = odoo
db_password = False
addons_path = $odoo_root/odoo/addons,$odoo_root/addons,$(addons_links_dir)
data_dir = $STATE_DIR/data
http_interface = 127.0.0.1
http_port = $http_port
list_db = False
admin_passwd = $(head -c 18 /dev/urandom | base64 | tr -d '/+=')
masterkey_kek = $(cat "$kek_file")
$extra
CONF
  printf '%s\n' "$conf"
}
