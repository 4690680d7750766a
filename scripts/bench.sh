#!/usr/bin/env bash
# Performance benchmarks (issue 5). One command: bash scripts/bench.sh
#
# Own throwaway PostgreSQL cluster ($STATE_DIR/pg-bench on 127.0.0.1:5435), own database
# (masterkey_bench, recreated each run), own Odoo (HTTP 8072, gevent 8073, --workers=2).
# All load goes to 127.0.0.1 only and every step is bounded in count and time.
# Results: bench/results/*.json (inputs beside outputs); the table is printed and written
# between the markers of docs/performance.md.
#
# Knobs (environment): BENCH_AUDIT_ROWS (1000000), BENCH_PAIRS (50), BENCH_THROUGHPUT_SECONDS (20),
# BENCH_THROUGHPUT_CLIENTS (6), BENCH_ONLY (space-separated subset of: setup login_cpu core qr
# throughput idle audit), BENCH_KEEP_DB=1 (reuse masterkey_bench if it exists).
source "$(dirname "$0")/lib.sh"

ODOO_ROOT="$(find_odoo_src)" || die "no Odoo 18 source found: set ODOO_SRC and run scripts/install.sh"
[ -x "$PY" ] || die "no virtual environment: run scripts/install.sh first"
PG_DIR="$STATE_DIR/pg-bench"
PG_PORT=5435
HTTP_PORT=8072
GEVENT_PORT=8073
DB=masterkey_bench
BENCH_DIR="$ADDON_DIR/bench"
WORK="$STATE_DIR/bench"
export BENCH_RESULTS="$BENCH_DIR/results"
export BENCH_WORK="$WORK"
export BENCH_DB="$DB"
export BENCH_PG_DIR="$PG_DIR"
export BENCH_HTTP="http://127.0.0.1:$HTTP_PORT"
export BENCH_ORIGIN="http://localhost:$HTTP_PORT"
export BENCH_ODOO_ROOT="$ODOO_ROOT"
ONLY="${BENCH_ONLY:-setup login_cpu core qr throughput idle audit}"
want() { case " $ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }

for port in $PG_PORT $HTTP_PORT $GEVENT_PORT; do
  if ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN && ! { [ "$port" = $PG_PORT ] && [ -f "$PG_DIR/postmaster.pid" ]; }; then
    die "port $port is already in use (the bench needs 5435, 8072 and 8073)"
  fi
done
mkdir -p "$STATE_DIR" "$WORK" "$BENCH_RESULTS"
T0=$(date +%s)

ODOO_PID=""
stop_odoo() {
  if [ -n "$ODOO_PID" ] && kill -0 "$ODOO_PID" 2>/dev/null; then
    kill -TERM "$ODOO_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$ODOO_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$ODOO_PID" 2>/dev/null || true
  fi
  ODOO_PID=""
}
cleanup() { set +e; stop_odoo; wait 2>/dev/null; pg_stop "$PG_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$PG_DIR" "$PG_PORT"
export BENCH_CONF="$STATE_DIR/odoo-bench.conf"
odoo_conf "$BENCH_CONF" "$PG_PORT" "$HTTP_PORT" "$ODOO_ROOT" "dbfilter = ^$DB\$
gevent_port = $GEVENT_PORT
db_name = $DB
limit_time_cpu = 600
limit_time_real = 1200
max_cron_threads = 0
log_level = warn" >/dev/null

psql_b() { psql -h 127.0.0.1 -p "$PG_PORT" -U odoo "$@"; }
exists="$(psql_b -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname='$DB'")"
if [ "${BENCH_KEEP_DB:-0}" = 1 ] && [ "$exists" = 1 ]; then
  log "reusing database $DB (BENCH_KEEP_DB=1); updating auth_masterkey"
  "$PY" "$ODOO_ROOT/odoo-bin" -c "$BENCH_CONF" -d "$DB" -u auth_masterkey --stop-after-init --log-level=warn
else
  psql_b -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
  log "creating database $DB with auth_masterkey (no demo data; about a minute)"
  "$PY" "$ODOO_ROOT/odoo-bin" -c "$BENCH_CONF" -d "$DB" -i auth_masterkey --without-demo=all \
      --stop-after-init --log-level=warn
fi

run_py() { log "bench: $1"; "$PY" "$BENCH_DIR/$1" || die "bench/$1 failed"; }

# In-process steps (no HTTP server running: nothing else competes in this cluster).
want setup && run_py setup_bench.py
want login_cpu && run_py login_cpu.py
want core && run_py core_vs_primitives.py

# HTTP steps: Odoo with 2 workers on 127.0.0.1:8072.
if want qr || want throughput; then
  log "starting Odoo --workers=2 on 127.0.0.1:$HTTP_PORT"
  "$PY" "$BENCH_DIR/odoo_server.py" -c "$BENCH_CONF" -d "$DB" --workers=2 --log-level=warn \
      > "$WORK/odoo-http.log" 2>&1 &
  ODOO_PID=$!
  export BENCH_ODOO_PID=$ODOO_PID
  up=0
  for _ in $(seq 1 60); do
    if curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/web/login"; then up=1; break; fi
    sleep 1
  done
  [ $up = 1 ] || die "Odoo did not start: see $WORK/odoo-http.log"
  want qr && run_py qr_latency.py
  want throughput && run_py throughput.py
  stop_odoo
fi

want idle && run_py idle_cron.py
want audit && run_py audit_scale.py

"$PY" "$BENCH_DIR/report.py" --doc "$ADDON_DIR/docs/performance.md"
log "bench finished in $(( $(date +%s) - T0 )) s"
