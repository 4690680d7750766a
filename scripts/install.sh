#!/usr/bin/env bash
# One-time set-up on a fresh machine: system packages (Debian), a Python virtual environment
# with the addon's, the tests' and (when an Odoo 18 source tree is found) Odoo's requirements.
# Re-running it is cheap: the venv is rebuilt only when a requirements file changed.
source "$(dirname "$0")/lib.sh"

APT_PACKAGES=(postgresql-15 chromium libldap2-dev libsasl2-dev libpq-dev nodejs)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    log "WARNING: missing Debian packages (install them as root): ${missing[*]}"
  fi
fi

ODOO_ROOT="$(find_odoo_src || true)"
if [ -z "$ODOO_ROOT" ] && [ -n "${ODOO_ARCHIVE_URL:-}" ]; then
  # Odoo is not on PyPI; an official source archive can be given when the network allows it.
  ODOO_ROOT="$STATE_DIR/odoo-src"
  log "downloading Odoo 18 source from \$ODOO_ARCHIVE_URL into $ODOO_ROOT"
  mkdir -p "$ODOO_ROOT"
  curl -fsSL --max-time 600 "$ODOO_ARCHIVE_URL" | tar -xz -C "$ODOO_ROOT" --strip-components=1 \
    || { rm -rf "$ODOO_ROOT"; ODOO_ROOT=""; log "WARNING: could not download Odoo"; }
fi

reqs=("$ADDON_DIR/requirements.txt" "$ADDON_DIR/requirements-test.txt")
[ -n "$ODOO_ROOT" ] && reqs+=("$ODOO_ROOT/requirements.txt")
stamp="$(cat "${reqs[@]}" | sha256sum | cut -c1-16)"
if [ -x "$PY" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "virtual environment up to date: $VENV"
else
  PYTHON_BIN="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  log "creating virtual environment $VENV with $($PYTHON_BIN --version)"
  rm -rf "$VENV"; "$PYTHON_BIN" -m venv "$VENV"
  "$PY" -m pip install -q --upgrade "pip<25" wheel
  # Odoo 18's pinned packages build only with an older setuptools.
  cons="$VENV/constraints.txt"; echo 'setuptools<81' > "$cons"
  export PIP_CONSTRAINT="$cons"
  "$PY" -m pip install -q "setuptools<81"
  if [ -n "$ODOO_ROOT" ]; then
    log "installing Odoo 18 requirements from $ODOO_ROOT/requirements.txt"
    "$PY" -m pip install -q -r "$ODOO_ROOT/requirements.txt"
  else
    # Without Odoo, still test the core against the cryptography Odoo 18 pins.
    "$PY" -m pip install -q "cryptography==3.4.8"
  fi
  "$PY" -m pip install -q -r "$ADDON_DIR/requirements.txt" -r "$ADDON_DIR/requirements-test.txt"
  echo "$stamp" > "$VENV/.stamp"
fi

# Odoo's gevent worker (workers > 0) needs a setuptools newer than the one venv ships.
"$PY" -m pip install -q --upgrade "setuptools>=70,<81"

if [ -n "$ODOO_ROOT" ]; then
  # A .pth file makes `import odoo` work in the venv without copying Odoo anywhere.
  site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$ODOO_ROOT" > "$site/odoo_src.pth"
  log "Odoo 18 source: $ODOO_ROOT"
else
  log "WARNING: no Odoo 18 source found (set ODOO_SRC=/path/to/odoo or ODOO_ARCHIVE_URL)."
  log "WARNING: only the framework-free core and browser-module tests can run on this machine."
fi
log "install done"
