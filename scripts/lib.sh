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
addons_link_dir() {
  local d="$STATE_DIR/addons"
  mkdir -p "$d"
  ln -sfn "$ADDON_DIR" "$d/$ADDON_NAME"
  printf '%s\n' "$d"
}
