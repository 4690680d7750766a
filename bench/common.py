"""Shared helpers of the benchmarks: Odoo bootstrap, timing, statistics, results files.

Every script records its inputs beside its outputs: printed, and written to
bench/results/<name>.json together with a description of the machine.
"""

import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ADDON_DIR = os.path.dirname(BENCH_DIR)
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(BENCH_DIR, "results"))
WORK = os.environ.get("BENCH_WORK", os.path.join(ADDON_DIR, ".state", "bench"))
DB = os.environ.get("BENCH_DB", "masterkey_bench")
CONF = os.environ.get("BENCH_CONF", os.path.join(ADDON_DIR, ".state", "odoo-bench.conf"))
HTTP = os.environ.get("BENCH_HTTP", "http://127.0.0.1:8072")
ORIGIN = os.environ.get("BENCH_ORIGIN", "http://localhost:8072")
PHONES_FILE = os.path.join(WORK, "phones.json")
N_USERS = int(os.environ.get("BENCH_PAIRS", "50"))


def core():
    """Import the framework-free core the way scripts/lib.sh does (no Odoo needed)."""
    if ADDON_DIR not in sys.path:
        sys.path.insert(0, ADDON_DIR)
    import masterkey_core
    return masterkey_core


# -- Odoo in-process ----------------------------------------------------------------------
_registry = None


def odoo_registry():
    global _registry
    if _registry is None:
        import odoo
        from odoo.tools import config
        config.parse_config(["-c", CONF, "-d", DB, "--log-level=warn", "--max-cron-threads=0"])
        import odoo.modules.registry
        _registry = odoo.modules.registry.Registry(DB)
    return _registry


@contextlib.contextmanager
def odoo_env(uid=1, context=None):
    """One transaction, committed on success (as one HTTP request's would be)."""
    from odoo import api
    registry = odoo_registry()
    with registry.cursor() as cr:
        yield api.Environment(cr, uid, context or {})


# -- measuring ----------------------------------------------------------------------------
class Timer:
    """CPU time of this process, wall time, and (optionally) CPU time of the bench
    PostgreSQL cluster, over a block."""

    def __init__(self, pg=False):
        self.pg = pg

    def __enter__(self):
        self.pg0 = pg_cpu_seconds() if self.pg else 0.0
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu0
        self.wall = time.perf_counter() - self.wall0
        self.pg_cpu = (pg_cpu_seconds() - self.pg0) if self.pg else 0.0
        return False


_CLK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid, children=False):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLK


def _children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    return out


def process_tree_cpu(pid):
    """CPU seconds of a process and its descendants (live ones, plus reaped ones)."""
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += _proc_cpu(p, children=True)
        stack += _children(p)
    return total


def pg_cpu_seconds():
    """CPU seconds used so far by the bench PostgreSQL cluster (postmaster + backends)."""
    pg_dir = os.environ.get("BENCH_PG_DIR", os.path.join(ADDON_DIR, ".state", "pg-bench"))
    try:
        with open(os.path.join(pg_dir, "postmaster.pid")) as fh:
            pid = int(fh.readline())
    except (OSError, ValueError):
        return 0.0
    return process_tree_cpu(pid)


def summary(values):
    """min/median/mean/p95/max of a list of numbers (seconds in, milliseconds out)."""
    values = sorted(values)
    if not values:
        return {}
    return {"n": len(values), "min_ms": values[0] * 1e3, "p50_ms": statistics.median(values) * 1e3,
            "mean_ms": statistics.fmean(values) * 1e3, "p95_ms": percentile(values, 95) * 1e3,
            "max_ms": values[-1] * 1e3}


def percentile(values, pct):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# -- machine and results --------------------------------------------------------------------
def machine():
    def cpu_model():
        try:
            with open("/proc/cpuinfo") as fh:
                for line in fh:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or "unknown"

    def mem_gb():
        try:
            with open("/proc/meminfo") as fh:
                return round(int(fh.readline().split()[1]) / 1024 / 1024, 1)
        except (OSError, ValueError):
            return None

    def version(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    info = {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "memory_gb": mem_gb(),
            "loadavg_1_5_15": list(os.getloadavg()), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        import cryptography
        info["cryptography"] = cryptography.__version__
        import ssl
        info["openssl"] = ssl.OPENSSL_VERSION
    except ImportError:
        pass
    try:
        from importlib.metadata import version as pkg_version
        info["fido2"] = pkg_version("fido2")
        info["passlib"] = pkg_version("passlib")
        import psycopg2
        info["psycopg2"] = psycopg2.__version__.split()[0]
    except Exception:  # noqa: BLE001 - informational only
        pass
    try:
        import odoo.release
        info["odoo"] = odoo.release.version
    except ImportError:
        pass
    pg_bin = os.environ.get("PG_BIN") or ""
    info["postgresql"] = version([os.path.join(pg_bin, "postgres") if pg_bin else "psql", "--version"])
    return info


def write_result(name, inputs, outputs, notes=None):
    os.makedirs(RESULTS, exist_ok=True)
    doc = {"bench": name, "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
           "machine": machine(), "inputs": inputs, "outputs": outputs, "notes": notes or []}
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=2, sort_keys=False, default=str)
    print(f"\n[{name}] inputs: {json.dumps(inputs, default=str)}")
    print(f"[{name}] results written to {os.path.relpath(path, ADDON_DIR)}")
    return doc


def show(label, value, unit=""):
    if isinstance(value, float):
        value = f"{value:.3f}"
    print(f"  {label:<58} {value} {unit}")
