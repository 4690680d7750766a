"""Prints the summary table of bench/results/*.json and, with --doc, writes it (with the
machine description) between the markers of docs/performance.md."""

import json
import os
import sys

from common import RESULTS

BEGIN, END = "<!-- bench:begin (written by scripts/bench.sh) -->", "<!-- bench:end -->"


def load(name):
    try:
        with open(os.path.join(RESULTS, f"{name}.json")) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def yes(flag):
    return "**met**" if flag else "**missed**"


def rows():
    out = []
    d = load("login_cpu")
    if d:
        o, pw = d["outputs"], d["outputs"]["per_kind"]["password"]
        for k in ("masterkey_1", "masterkey_2", "masterkey_3"):
            m, r = o["per_kind"][k], o["ratios"][k]
            target = "≤ 5 %" if k == "masterkey_3" else ""
            met = yes(r["cpu_vs_password"] <= 0.05) if k == "masterkey_3" else ""
            out.append((f"1. Server CPU of a QR login, {k[-1]} factor(s) (in process)",
                        f"password login, pbkdf2-sha512 {d['inputs']['pbkdf2_sha512_rounds_context']:,} rounds: "
                        f"{pw['cpu_ms']:.0f} ms", f"{m['cpu_ms']:.1f} ms", f"{r['cpu_vs_password']:.1%}", target, met))
        r3 = o["ratios"]["masterkey_3"].get("cpu_vs_password_without_qr_svg")
        if r3 is not None:
            out.append(("1. … 3 factors without the QR SVG rendering (profile)", "same",
                        f"{o['per_kind']['masterkey_3']['cpu_ms'] - o['qr_svg_alone_cpu_p50_ms']:.1f} ms",
                        f"{r3:.1%}", "≤ 5 %", yes(r3 <= 0.05)))
    d = load("core_vs_primitives")
    if d:
        for k in ("factor_1", "factor_2", "factor_3"):
            o = d["outputs"][k]
            out.append((f"2. Core, {k.replace('_', ' ')}: {o['what'].split(' vs ')[0]}",
                        f"{o['what'].split(' vs ')[1]}: {o['reference_us']:.0f} µs", f"{o['core_us']:.0f} µs",
                        f"×{o['ratio_p50']:.2f}", "≤ ×3", yes(o["met"])))
    d = load("qr_latency")
    if d:
        for name, p in d["outputs"]["passes"].items():
            lat, rtt, e = p["latency_approval_to_logged_in"], p["status_poll_rtt"], p["errors"]
            cap = p["max_inflight"]
            cap = f"≤ {cap} in flight" if isinstance(cap, int) else "direct"
            out.append((f"3. QR login, {d['inputs']['pairs']} pairs, poll {p.get('poll_interval_ms', 100):.0f} ms, {cap}: "
                        f"approval → logged in p50 / p95",
                        f"status poll round trip p50 / p95: {rtt.get('p50_ms', 0):.0f} / {rtt.get('p95_ms', 0):.0f} ms",
                        f"{lat.get('p50_ms', 0):.0f} / {lat.get('p95_ms', 0):.0f} ms; lost {e['lost']}, "
                        f"dup. {e['duplicated']}, cross-wired {e['cross_wired']}",
                        f"×{p['latency_p95_over_poll_rtt_p95']:.2f}" if p.get("latency_p95_over_poll_rtt_p95") else "–",
                        "p95 ≤ 1 s, 0 errors", yes(p["target"]["met"])))
    d = load("idle_cron")
    if d:
        o = d["outputs"]
        if not o.get("available"):
            out.append(("4. Idle-logout cron", "–", "not available yet", "–", "–", "–"))
        else:
            for n, r in o["per_size"].items():
                out.append((f"4. Idle-logout cron, {int(n):,} sessions ({r['ended']:,} ended)",
                            f"selection query alone: {r['selection_query_alone_ms']:.1f} ms",
                            f"{r['wall_s'] * 1e3:.0f} ms ({r['ms_per_ended_session']:.3f} ms/session)",
                            f"×{r['cron_over_selection_query']:.0f}", "", ""))
            out.append(("4. … per-session cost, largest vs smallest size", "1.0 = linear", "",
                        f"×{o['per_session_cost_growth']:.2f}", "", ""))
    d = load("audit_scale")
    if d:
        o = d["outputs"]
        for key, label in (("insert_small", "small log"), ("insert_at_size", f"{o['queries']['rows']:,} events")):
            i = o[key]
            out.append((f"5. Audit insert per event (_record), {label}",
                        f"bare INSERT, own transaction: {i['bare_insert_wall_ms_p50']:.2f} ms",
                        f"{i['record_wall_ms_p50']:.2f} ms", f"×{i['ratio']:.2f}", "", ""))
        ref = o["queries"]["full_scan_ref_ms"]
        for label, q in o["queries"]["queries"].items():
            out.append((f"5. Audit {label} ({o['queries']['rows']:,} events)",
                        f"full scan count(*): {ref:.0f} ms", f"{q['p50_ms']:.1f} ms", f"×{q['vs_full_scan']:.2f}",
                        "≤ 300 ms", yes(q["met"])))
        g = o["integrity"]
        broken = g.get("broken_links", {}).get("count")
        intact = "intact" if g["intact"] else f"NOT intact: {broken} broken links"
        out.append((f"5. Audit integrity check ({g['events']:,} events, {intact})",
                    f"verify_chain alone: {g['reference_verify_chain_events_per_s']:,.0f} events/s",
                    f"{g['events_per_s']:,.0f} events/s ({g['wall_s']:.1f} s)",
                    f"×{1 / g['ratio_reference_over_action']:.2f}", "", ""))
    d = load("throughput")
    if d:
        o = d["outputs"]
        pw, mk = o["password"], o["masterkey_3"]
        out.append((f"6. Sustained logins/s over HTTP, workers=2, {d['inputs']['client_threads']} clients, "
                    f"{d['inputs']['seconds_per_kind']:.0f} s each: MasterKey 3 factors",
                    f"password login: {pw['logins_per_s']:.1f}/s ({pw['errors']} errors)",
                    f"{mk['logins_per_s']:.1f}/s ({mk['errors']} errors)",
                    f"×{o['ratio_masterkey_over_password_logins_per_s']:.1f}", "", ""))
        if o.get("ratio_odoo_cpu_per_login_masterkey_over_password"):
            out.append(("6. … Odoo CPU per login over HTTP (all server processes)",
                        f"password: {pw['odoo_cpu_ms_per_login']:.0f} ms",
                        f"{mk['odoo_cpu_ms_per_login']:.1f} ms",
                        f"{o['ratio_odoo_cpu_per_login_masterkey_over_password']:.1%}", "", ""))
    return out


def table():
    lines = ["| Measure | Reference (same run) | Result | Ratio | Target | |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows()]
    return "\n".join(lines)


def machine_text():
    for name in ("login_cpu", "throughput", "audit_scale", "qr_latency", "core_vs_primitives", "idle_cron"):
        d = load(name)
        if d:
            m = d["machine"]
            return (f"Machine: {m.get('nproc')} CPUs ({m.get('cpu_model')}), {m.get('memory_gb')} GB RAM, "
                    f"Linux {m.get('kernel')}, load average at the time {m.get('loadavg_1_5_15')}; "
                    f"Python {m.get('python')}, Odoo {m.get('odoo')}, {m.get('postgresql')}, "
                    f"cryptography {m.get('cryptography')} ({m.get('openssl')}), fido2 {m.get('fido2')}, "
                    f"passlib {m.get('passlib')}, psycopg2 {m.get('psycopg2')}. Run: {d['when']}.")
    return "Machine: (no results yet)"


def main():
    text = f"{machine_text()}\n\n{table()}\n"
    print("\n" + text)
    if "--doc" in sys.argv:
        path = sys.argv[sys.argv.index("--doc") + 1]
        doc = open(path).read() if os.path.exists(path) else f"# Performance\n\n{BEGIN}\n{END}\n"
        if BEGIN not in doc:
            doc += f"\n{BEGIN}\n{END}\n"
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1] if END in rest else ""
        with open(path, "w") as fh:
            fh.write(f"{head}{BEGIN}\n{text}{END}{tail}")
        print(f"table written to {path}")


if __name__ == "__main__":
    main()
