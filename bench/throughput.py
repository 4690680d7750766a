"""Bench 6: sustained login throughput over HTTP, Odoo --workers=2: MasterKey QR login at 3
factors (the whole flow: login/new, phone/login/options, phone/login/answer, one status poll,
login/session) vs Odoo's password login (/web/session/authenticate), same run.

C client threads loop for a fixed time; the two kinds alternate in halves (password, MasterKey,
password, MasterKey) so drift on a noisy machine hits both. Each MasterKey client thread owns
its own phones (a phone is never used by two logins at once). The client (with the phone-side
crypto) runs on the same machine and its CPU is reported.
"""

import os
import threading
import time

from common import DB, PHONES_FILE, Timer, pg_cpu_seconds, process_tree_cpu, show, write_result
from httpflow import masterkey_login, password_login
from setup_bench import N_PASSWORD_USERS, PASSWORD
from softphone import load_phones, save_phones

SECONDS = float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_THROUGHPUT_CLIENTS", "6"))
HALVES = 2


def run_phase(kind, seconds, phones_per_client, pw_logins):
    stop = time.perf_counter() + seconds
    counts = [0] * CLIENTS
    errors = [0] * CLIENTS
    samples = []

    def client(c):
        i = 0
        while time.perf_counter() < stop:
            try:
                if kind == "password":
                    password_login(pw_logins[(c + i) % len(pw_logins)], PASSWORD, DB)
                else:
                    mine = phones_per_client[c]
                    masterkey_login(mine[i % len(mine)])
                counts[c] += 1
            except Exception as exc:  # noqa: BLE001 - counted
                errors[c] += 1
                if len(samples) < 5:
                    samples.append(f"{type(exc).__name__}: {exc}"[:200])
            i += 1

    odoo_pid = int(os.environ.get("BENCH_ODOO_PID", "0"))
    srv0, pg0 = process_tree_cpu(odoo_pid) if odoo_pid else 0.0, pg_cpu_seconds()
    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(CLIENTS)]
    with Timer() as t:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=seconds + 60)
    return {"logins": sum(counts), "errors": sum(errors), "wall_s": t.wall, "client_cpu_s": t.cpu,
            "odoo_cpu_s": (process_tree_cpu(odoo_pid) - srv0) if odoo_pid else None,
            "postgres_cpu_s": pg_cpu_seconds() - pg0, "error_samples": samples}


def main():
    phones = load_phones(PHONES_FILE)
    per_client = [phones[c::CLIENTS] for c in range(CLIENTS)]
    pw_logins = ["bench_password"] + [p.login for p in phones[:N_PASSWORD_USERS]]
    # warm-up: both paths once per client, not counted
    run_phase("password", 2, per_client, pw_logins)
    run_phase("masterkey", 2, per_client, pw_logins)
    phases = {"password": [], "masterkey_3": []}
    for _ in range(HALVES):
        phases["password"].append(run_phase("password", SECONDS / HALVES, per_client, pw_logins))
        phases["masterkey_3"].append(run_phase("masterkey", SECONDS / HALVES, per_client, pw_logins))
    save_phones(PHONES_FILE, phones)
    outputs = {}
    for kind, runs in phases.items():
        logins = sum(r["logins"] for r in runs)
        wall = sum(r["wall_s"] for r in runs)
        srv = sum(r["odoo_cpu_s"] or 0 for r in runs)
        pg = sum(r["postgres_cpu_s"] for r in runs)
        outputs[kind] = {"logins": logins, "errors": sum(r["errors"] for r in runs), "wall_s": wall,
                         "logins_per_s": logins / wall if wall else 0.0,
                         "odoo_cpu_ms_per_login": srv / logins * 1e3 if logins else None,
                         "postgres_cpu_ms_per_login": pg / logins * 1e3 if logins else None,
                         "client_cpu_s": sum(r["client_cpu_s"] for r in runs),
                         "per_half_logins_per_s": [r["logins"] / r["wall_s"] for r in runs],
                         "error_samples": [s for r in runs for s in r["error_samples"]][:5]}
    pw, mk = outputs["password"], outputs["masterkey_3"]
    ratio = mk["logins_per_s"] / pw["logins_per_s"] if pw["logins_per_s"] else float("inf")
    cpu_ratio = (mk["odoo_cpu_ms_per_login"] / pw["odoo_cpu_ms_per_login"]
                 if mk["odoo_cpu_ms_per_login"] and pw["odoo_cpu_ms_per_login"] else None)
    outputs["ratio_masterkey_over_password_logins_per_s"] = ratio
    outputs["ratio_odoo_cpu_per_login_masterkey_over_password"] = cpu_ratio
    print(f"\nBench 6 - sustained logins over HTTP, Odoo --workers=2, {CLIENTS} client threads, "
          f"{SECONDS:.0f} s per kind")
    for kind in phases:
        o = outputs[kind]
        show(f"{kind}: logins/s (errors)", f"{o['logins_per_s']:.1f} ({o['errors']})")
        show(f"{kind}: Odoo CPU / PostgreSQL CPU per login",
             f"{o['odoo_cpu_ms_per_login'] or 0:.1f} / {o['postgres_cpu_ms_per_login'] or 0:.1f}", "ms")
    show("MasterKey 3 factors / password, logins per second", f"x{ratio:.1f}")
    if cpu_ratio:
        show("MasterKey 3 factors / password, Odoo CPU per login (HTTP)", f"{cpu_ratio:.2%}")
    for kind in phases:
        for sample in outputs[kind]["error_samples"]:
            print(f"  {kind} error: {sample}")
    write_result("throughput", {"seconds_per_kind": SECONDS, "halves_alternating": HALVES, "client_threads": CLIENTS,
                                "odoo_workers": 2, "required_factors": 3, "warmup_s_per_kind": 2,
                                "password_users": len(pw_logins), "masterkey_phones": len(phones),
                                "password_endpoint": "/web/session/authenticate (JSON-RPC)",
                                "masterkey_flow": "login/new, phone/login/options, phone/login/answer, "
                                                  "login/status x1, login/session"}, outputs)


if __name__ == "__main__":
    main()
