"""Bench 4: the idle-logout cron at 1,000 / 10,000 / 100,000 tracked sessions.

Model auth.masterkey.session.activity, method _cron_end_idle_sessions(). For each size the
table is filled by SQL with that many live sessions of the bench users (42-character
identifiers, like Odoo's), half of them idle past the timeout (idle_timeout = 30 minutes,
last activity 2 hours ago) and half active; then one cron run is timed, and its transaction
is rolled back (so every size starts from the same state and the audit chain stays whole).
Reference beside it, same run: the same size's bare selection query (the idle rows) alone.
Headline: cost per ended session at 100,000 vs at 1,000 (1.0 = linear).
"""

import os
import statistics

from common import Timer, odoo_registry, show, write_result

SIZES = [int(x) for x in os.environ.get("BENCH_IDLE_SIZES", "1000 10000 100000").split()]
MODEL = "auth.masterkey.session.activity"


def fill(cr, n, users):
    cr.execute("DELETE FROM auth_masterkey_session_activity")
    cr.execute("""
        INSERT INTO auth_masterkey_session_activity (session_identifier, user_id, last_activity)
        SELECT substr(md5('bench-idle-' || g) || md5('x' || g), 1, 42),
               (%(users)s)[1 + g %% array_length(%(users)s, 1)],
               (now() at time zone 'UTC') - CASE WHEN g %% 2 = 0 THEN interval '2 hours' ELSE interval '1 minute' END
          FROM generate_series(1, %(n)s) g""", {"n": n, "users": users})
    cr.execute("ANALYZE auth_masterkey_session_activity")


def main():
    from odoo import api
    registry = odoo_registry()
    print("\nBench 4 - idle-logout cron scaling")
    if MODEL not in registry or not hasattr(registry[MODEL], "_cron_end_idle_sessions"):
        print(f"  {MODEL}._cron_end_idle_sessions: not available yet")
        write_result("idle_cron", {"sizes": SIZES}, {"available": False, "message": "not available yet"})
        return
    rows, profile_text = {}, []
    with registry.cursor() as cr:
        cr.execute("SELECT id FROM res_users WHERE login LIKE 'bench_user_%%'")
        users = [r[0] for r in cr.fetchall()]
    for n in SIZES:
        cr = registry.cursor()
        try:
            env = api.Environment(cr, 1, {})
            env["ir.config_parameter"].sudo().set_param("auth_masterkey.idle_timeout", "30")
            fill(cr, n, users)
            cr.commit()
            ref = []
            for _ in range(3):
                with Timer() as t:
                    cr.execute("""SELECT session_identifier, user_id FROM auth_masterkey_session_activity
                                   WHERE ended_at IS NULL
                                     AND last_activity < (now() at time zone 'UTC') - interval '30 minutes'""")
                    idle = len(cr.fetchall())
                ref.append(t.wall)
            with Timer(pg=True) as t:
                ended = env[MODEL]._cron_end_idle_sessions()
                env.flush_all()
            if n == SIZES[-1]:
                # profile: a second, untimed run of the same size under cProfile
                cr.rollback()
                import cProfile
                prof = cProfile.Profile()
                prof.enable()
                env[MODEL]._cron_end_idle_sessions()
                prof.disable()
                import io
                import pstats
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(12)
                profile_text = buf.getvalue().splitlines()
                print("\n".join("    " + line for line in profile_text if line.strip())[:4000])
            cr.rollback()
        finally:
            cr.rollback()
            cr.close()
        rows[n] = {"sessions": n, "idle": idle, "ended": ended, "wall_s": t.wall, "cpu_s": t.cpu,
                   "postgres_cpu_s": t.pg_cpu, "ms_per_ended_session": t.wall / max(ended, 1) * 1e3,
                   "selection_query_alone_ms": statistics.median(ref) * 1e3,
                   "cron_over_selection_query": t.wall / statistics.median(ref)}
        show(f"{n:>7,} sessions ({idle:,} idle): cron wall / CPU / PostgreSQL CPU",
             f"{t.wall:.2f} / {t.cpu:.2f} / {t.pg_cpu:.2f} s, {rows[n]['ms_per_ended_session']:.3f} ms per session")
    with registry.cursor() as cr:
        cr.execute("DELETE FROM auth_masterkey_session_activity")
    lo, hi = rows[SIZES[0]], rows[SIZES[-1]]
    growth = hi["ms_per_ended_session"] / lo["ms_per_ended_session"]
    show(f"per-session cost at {SIZES[-1]:,} vs {SIZES[0]:,} (1.0 = linear)", f"x{growth:.2f}")
    write_result("idle_cron", {"sizes": SIZES, "idle_fraction": 0.5, "idle_timeout_minutes": 30,
                               "transaction": "rolled back after each size", "session_files": "none on disk"},
                 {"available": True, "per_size": rows, "per_session_cost_growth": growth,
                  "cprofile_largest_size_cumulative": profile_text})


if __name__ == "__main__":
    main()
