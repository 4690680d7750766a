"""Bench 5: the audit log at size.

1. Insert cost per event through env['auth.masterkey.audit']._record (advisory lock, read of the
   last hash, hashing, INSERT; one committed transaction per event, as in a request), vs the
   reference beside it: a bare INSERT of the same row, one committed transaction per row (the
   reference rows are deleted at once, so the chain stays whole). Measured on the small log
   and again at full size.
2. Bulk load to BENCH_AUDIT_ROWS events (default 1,000,000) with COPY, with a valid hash chain
   computed in Python by the model's own _hash_payload and masterkey_core.audit_chain, event
   times spread over the last 180 days (inside the default retention).
3. Queries through the ORM, as the list, filter and pivot views issue them, each the median of
   5 runs, against the reference of one full sequential scan (SELECT count(*)) in the same run.
   Target <= 300 ms each. A query over target is EXPLAINed (ANALYZE, BUFFERS).
4. action_verify_integrity over the whole log: events/s, against the pure-Python chain check
   (masterkey_core.audit_chain.verify_chain) over the same number of events; peak memory.
"""

import io
import os
import random
import resource
import statistics
import time
from datetime import datetime, timedelta

from common import Timer, core, odoo_env, odoo_registry, show, write_result

core()
from masterkey_core.audit_chain import row_hash, verify_chain  # noqa: E402

ROWS = int(os.environ.get("BENCH_AUDIT_ROWS", "1000000"))
INSERTS = int(os.environ.get("BENCH_AUDIT_INSERTS", "50"))  # per block; 4 blocks of each kind
QUERY_RUNS = 5
TARGET_MS = 300
EVENTS = ["login"] * 5 + ["qr_created"] * 3 + ["qr_scanned"] * 2 + ["qr_approved"] * 2 + [
    "qr_denied", "idle_logout", "enrolment_created", "lockout", "qr_consume"]


def insert_cost(label):
    from odoo.addons.auth_masterkey.models.masterkey_audit import HASHED_FIELDS
    rec_t, ref_t = [], []
    cols = list(HASHED_FIELDS) + ["prev_hash", "row_hash", "create_uid", "write_uid", "create_date", "write_date"]
    sql = (f"INSERT INTO auth_masterkey_audit ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "  # noqa: S608
           "RETURNING id")
    for _block in range(4):
        for i in range(INSERTS):
            with Timer() as t, odoo_env() as env:
                env["auth.masterkey.audit"]._record("login", login=f"bench_insert_{i}", method="password",
                                                    result="success", reason="")
            rec_t.append(t)
        ref_ids = []
        for i in range(INSERTS):
            with Timer() as t, odoo_env() as env:
                now = datetime.utcnow().replace(microsecond=0)
                env.cr.execute(sql, ["login", now, None, f"bench_insert_{i}", "password", 0, 0, "success", "", "",
                                     "", "", "", "", "x" * 64, "y" * 64, 1, 1, now, now])
                ref_ids.append(env.cr.fetchone()[0])
            ref_t.append(t)
        with odoo_env() as env:
            env.cr.execute("DELETE FROM auth_masterkey_audit WHERE id = ANY(%s)", (ref_ids,))
    rec = statistics.median(x.wall for x in rec_t) * 1e3
    ref = statistics.median(x.wall for x in ref_t) * 1e3
    out = {"record_wall_ms_p50": rec, "bare_insert_wall_ms_p50": ref, "ratio": rec / ref,
           "record_cpu_ms_p50": statistics.median(x.cpu for x in rec_t) * 1e3,
           "bare_insert_cpu_ms_p50": statistics.median(x.cpu for x in ref_t) * 1e3, "events": len(rec_t)}
    show(f"insert ({label}): _record / bare INSERT, wall p50", f"{rec:.2f} / {ref:.2f} ms = x{rec / ref:.2f}")
    return out


def bulk_load(target):
    from odoo import fields
    from odoo.addons.auth_masterkey.models.masterkey_audit import CHAIN_LOCK, HASHED_FIELDS
    t0 = time.perf_counter()
    with odoo_env() as env:
        Audit = env["auth.masterkey.audit"]
        env.cr.execute("SELECT count(*) FROM auth_masterkey_audit")
        have = env.cr.fetchone()[0]
        todo = max(0, target - have)
        if not todo:
            return {"loaded": 0, "seconds": 0.0}
        env.cr.execute("SELECT id, login FROM res_users WHERE login LIKE 'bench_%%' OR login = 'admin'")
        users = env.cr.fetchall()
        env.cr.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        env.cr.execute("SELECT row_hash FROM auth_masterkey_audit ORDER BY id DESC LIMIT 1")
        row = env.cr.fetchone()
        prev = row[0] if row else Audit._checkpoint_hash()
        rnd = random.Random(5)
        start = datetime.utcnow().replace(microsecond=0) - timedelta(days=180)
        step = timedelta(days=179) / todo
        cols = list(HASHED_FIELDS) + ["prev_hash", "row_hash", "create_uid", "write_uid", "create_date",
                                      "write_date"]
        ips = [f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}" for _ in range(500)]
        hash_s = 0.0
        chunk = 100_000
        for base in range(0, todo, chunk):
            buf = io.StringIO()
            h0 = time.perf_counter()
            for k in range(base, min(todo, base + chunk)):
                uid, login = users[rnd.randrange(len(users))]
                event = EVENTS[rnd.randrange(len(EVENTS))]
                result = "failure" if rnd.random() < 0.08 else ("success" if event in ("login", "qr_approved")
                                                                 else "info")
                values = {
                    "event": event, "event_time": (start + step * k).replace(microsecond=0),
                    "user_id": uid if rnd.random() < 0.95 else False, "login": login,
                    "method": "masterkey" if rnd.random() < 0.7 else "password",
                    "factors_required": 3 if event == "qr_approved" else 0,
                    "factors_passed": 3 if event == "qr_approved" and result == "success" else 0,
                    "result": result, "reason": "bad_password" if result == "failure" else "",
                    "ip": ips[rnd.randrange(len(ips))], "user_agent": "Mozilla/5.0 (bench)",
                    "session_hash": f"{rnd.getrandbits(128):032x}", "request_ref": f"r{rnd.getrandbits(96):024x}",
                    "enrolment_ref": "",
                }
                before, prev = prev, row_hash(prev, Audit._hash_payload(values))
                stamp = fields.Datetime.to_string(values["event_time"])
                line = [values[c] for c in HASHED_FIELDS]
                line[1] = stamp
                line[2] = line[2] or "\\N"
                buf.write("\t".join(str(v) for v in line))
                buf.write(f"\t{before}\t{prev}\t1\t1\t{stamp}\t{stamp}\n")
            hash_s += time.perf_counter() - h0
            buf.seek(0)
            env.cr._obj.copy_expert(f"COPY auth_masterkey_audit ({', '.join(cols)}) FROM STDIN", buf)
        env.cr.execute("ANALYZE auth_masterkey_audit")
    return {"loaded": todo, "seconds": time.perf_counter() - t0, "python_hashing_and_encoding_s": hash_s}


def timed_queries(env, uid):
    """(label, callable) pairs, as the audit views call the ORM."""
    from odoo import fields
    Audit = env["auth.masterkey.audit"]
    week = fields.Datetime.now() - timedelta(days=7)
    month = fields.Datetime.now() - timedelta(days=30)
    list_fields = ["event_time", "event", "user_id", "login", "method", "factors_passed", "result", "ip", "reason"]
    return [
        ("list: newest 80 (search_read)", lambda: Audit.search_read([], list_fields, limit=80)),
        ("list pager: search_count all", lambda: Audit.search_count([])),
        ("filter: failures last 7 days, newest 80", lambda: Audit.search_read(
            [("result", "=", "failure"), ("event_time", ">=", week)], list_fields, limit=80)),
        ("filter: one user, newest 80", lambda: Audit.search_read([("user_id", "=", uid)], list_fields, limit=80)),
        ("search: login ilike, newest 80", lambda: Audit.search_read([("login", "ilike", "bench_user_01")],
                                                                    list_fields, limit=80)),
        ("search: IP =, newest 80", lambda: Audit.search_read([("ip", "=", "10.1.2.3")], list_fields, limit=80)),
        ("read_group: count by event", lambda: Audit.read_group([], ["__count"], ["event"])),
        ("pivot: month x result (read_group, lazy=False)", lambda: Audit.read_group(
            [], ["__count"], ["event_time:month", "result"], lazy=False)),
        ("pivot: last 30 days, user x method", lambda: Audit.read_group(
            [("event_time", ">=", month)], ["__count"], ["user_id", "method"], lazy=False)),
        ("pivot: failures by day x IP, last 7 days", lambda: Audit.read_group(
            [("result", "=", "failure"), ("event_time", ">=", week)], ["__count"], ["event_time:day", "ip"],
            lazy=False)),
    ]


class QueryLog:
    """Collects the SQL executed during a block (to EXPLAIN the slow ones)."""

    def __init__(self):
        self.queries = []

    def __enter__(self):
        from odoo import sql_db
        self._orig = sql_db.Cursor.execute
        log = self.queries

        def execute(cur, query, params=None, log_exceptions=True):
            t0 = time.perf_counter()
            try:
                return self._orig(cur, query, params, log_exceptions)
            finally:
                log.append((time.perf_counter() - t0, query, params))
        sql_db.Cursor.execute = execute
        return self

    def __exit__(self, *exc):
        from odoo import sql_db
        sql_db.Cursor.execute = self._orig
        return False


def run_queries(label):
    results = {}
    with odoo_env() as env:
        env.cr.execute("SELECT id FROM res_users WHERE login = 'bench_user_001'")
        uid = env.cr.fetchone()[0]
        ref = []
        for _ in range(QUERY_RUNS):
            with Timer() as t:
                env.cr.execute("SELECT count(*) FROM auth_masterkey_audit")
                n = env.cr.fetchone()[0]
            ref.append(t.wall)
        ref_ms = statistics.median(ref) * 1e3
        show(f"reference: SELECT count(*) full scan of {n} rows", ref_ms, "ms")
        for qlabel, fn in timed_queries(env, uid):
            fn()  # warm
            times = []
            for _ in range(QUERY_RUNS):
                env.invalidate_all()
                with Timer() as t:
                    fn()
                times.append(t.wall)
            ms = statistics.median(times) * 1e3
            entry = {"p50_ms": ms, "max_ms": max(times) * 1e3, "vs_full_scan": ms / ref_ms, "met": ms <= TARGET_MS}
            if ms > TARGET_MS:
                env.invalidate_all()
                with QueryLog() as qlog:
                    fn()
                slow_s, query, params = max(qlog.queries, key=lambda q: q[0])
                from odoo.tools import SQL
                if isinstance(query, SQL):
                    query, params = query.code, query.params
                env.cr.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params)  # noqa: S608 - the ORM's own query
                entry["slowest_sql"] = env.cr.mogrify(query, params).decode()[:1200]
                entry["slowest_sql_ms"] = slow_s * 1e3
                entry["explain"] = [r[0] for r in env.cr.fetchall()]
            results[qlabel] = entry
            show(f"{qlabel}", f"{ms:.1f} ms (x{ms / ref_ms:.2f} of a full scan) "
                 f"{'ok' if ms <= TARGET_MS else 'OVER TARGET'}")
    return {"rows": n, "full_scan_ref_ms": ref_ms, "queries": results}


def verify_integrity():
    from odoo.addons.auth_masterkey.models.masterkey_audit import HASHED_FIELDS
    with odoo_env() as env:
        Audit = env["auth.masterkey.audit"]
        env.cr.execute("SELECT count(*) FROM auth_masterkey_audit")
        n = env.cr.fetchone()[0]
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with Timer(pg=True) as t:
            res = Audit.action_verify_integrity()
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        intact = res["params"]["type"] == "success"
        # reference: the pure chain check over as many events (payloads prepared outside the clock)
        sample = min(n, 200_000)
        env.cr.execute(f"SELECT id, prev_hash, row_hash, {', '.join(HASHED_FIELDS)} FROM auth_masterkey_audit "  # noqa: S608
                       "ORDER BY id LIMIT %s", (sample,))
        rows = [{"id": r[0], "prev_hash": r[1], "row_hash": r[2],
                 "payload": Audit._hash_payload(dict(zip(HASHED_FIELDS, r[3:])))} for r in env.cr.fetchall()]
        with Timer() as tr:
            verify_chain(rows, start=Audit._checkpoint_hash())
        # where the chain is broken: rows whose prev_hash is not the row_hash of the row before
        env.cr.execute("""SELECT count(*), min(id), max(id), min(create_date), max(create_date)
                            FROM (SELECT id, create_date, prev_hash, lag(row_hash) OVER (ORDER BY id) AS before
                                    FROM auth_masterkey_audit) t
                           WHERE before IS NOT NULL AND prev_hash <> before""")
        b = env.cr.fetchone()
        env.cr.execute("""SELECT count(*) FROM (SELECT prev_hash FROM auth_masterkey_audit
                           GROUP BY prev_hash HAVING count(*) > 1) t""")
        forks = env.cr.fetchone()[0]
        broken = {"count": b[0], "first_id": b[1], "last_id": b[2], "first_created": b[3], "last_created": b[4],
                  "prev_hash_shared_by_several_rows": forks}
    eps, ref_eps = n / t.wall, sample / tr.wall
    out = {"events": n, "intact": intact, "message": res["params"]["message"][:300], "wall_s": t.wall,
           "cpu_s": t.cpu, "postgres_cpu_s": t.pg_cpu, "events_per_s": eps,
           "reference_verify_chain_events_per_s": ref_eps, "ratio_reference_over_action": ref_eps / eps,
           "peak_rss_growth_mb": max(0, rss1 - rss0) / 1024, "peak_rss_mb": rss1 / 1024, "broken_links": broken}
    show("verify integrity: events, intact", f"{n}, {intact}")
    if not intact:
        show("  broken links (prev_hash != row_hash of the row before)",
             f"{broken['count']} (ids {broken['first_id']}..{broken['last_id']}, "
             f"{broken['prev_hash_shared_by_several_rows']} forks)")
    show("verify integrity: events/s (action) vs verify_chain alone",
         f"{eps:,.0f} vs {ref_eps:,.0f} (x{ref_eps / eps:.1f})")
    show("verify integrity: wall / peak RSS growth", f"{t.wall:.1f} s / {out['peak_rss_growth_mb']:.0f} MB")
    return out


def main():
    odoo_registry()
    print(f"\nBench 5 - audit log at size ({ROWS:,} events)")
    small = insert_cost("small log")
    load = bulk_load(ROWS)
    show("bulk load (COPY, chain computed in Python)", f"{load['loaded']:,} rows in {load['seconds']:.1f} s")
    big = insert_cost(f"{ROWS:,} events")
    queries = run_queries("full")
    integrity = verify_integrity()
    worst = max(q["p50_ms"] for q in queries["queries"].values())
    outputs = {"insert_small": small, "bulk_load": load, "insert_at_size": big,
               "insert_growth_ratio": big["record_wall_ms_p50"] / small["record_wall_ms_p50"],
               "queries": queries, "integrity": integrity,
               "target": {"what": f"every query <= {TARGET_MS} ms at {queries['rows']:,} events",
                          "value": worst, "met": worst <= TARGET_MS and integrity["intact"]}}
    write_result("audit_scale", {"rows_target": ROWS, "rows_measured": queries["rows"],
                                 "insert_blocks": 4, "inserts_per_block": INSERTS, "query_runs": QUERY_RUNS,
                                 "target_ms": TARGET_MS, "event_time_span_days": 180}, outputs)


if __name__ == "__main__":
    main()
