"""Bench 1: server cost of one login, in process, same process and same run:
Odoo's password login (pbkdf2-sha512 at Odoo 18's default rounds) vs a MasterKey QR login at
1, 2 and 3 required factors.

Password login: res.users.authenticate(db, {'type': 'password', ...}, {'interactive': False}).
MasterKey login: the model calls each controller makes, one committed transaction per HTTP
request, as the controllers do:
  login/new      ratelimit check, request._new, audit 'qr_created', QR SVG rendering
  options        ratelimit check, enrolment lookup, _locked, _phone_options, requester
                 description, match choices, audit 'qr_scanned'
  answer         _locked, ratelimit check, _phone_answer, audit 'qr_approved'
  status         one status poll (lookup + browser check)
  session        res.users.authenticate with the 'masterkey' credential
The phone's side (signing, sealing the envelope, opening the rotation reply) runs between
the timed blocks and is not counted. CPU = time.process_time() of this (Odoo) process;
PostgreSQL CPU is read from /proc for the bench cluster's processes, outside the timed CPU.
Kinds are interleaved round by round (order rotated) so machine noise hits all of them.
"""

import os
import statistics

from common import DB, ORIGIN, PHONES_FILE, Timer, odoo_env, odoo_registry, show, summary, write_result
from setup_bench import PASSWORD
from softphone import load_phones, save_phones

ROUNDS = int(os.environ.get("BENCH_LOGIN_ROUNDS", "6"))
PER_ROUND = int(os.environ.get("BENCH_LOGIN_PER_ROUND", "3"))
WARMUP = 2
IP, AGENT = "127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) bench"
KINDS = ("password", "masterkey_1", "masterkey_2", "masterkey_3")
STEPS = ("new", "options", "answer", "status", "session")


def set_factors(n):
    with odoo_env() as env:
        env["ir.config_parameter"].sudo().set_param("auth_masterkey.required_factors", str(n))


def password_login(login):
    Users = odoo_registry()["res.users"]
    with Timer(pg=True) as t:
        info = Users.authenticate(DB, {"type": "password", "login": login, "password": PASSWORD},
                                  {"interactive": False})
    assert info["uid"], info
    return {"total": t}


def masterkey_login(phone, browser_secret):
    from odoo.addons.auth_masterkey.controllers.main import describe_requester, qr_svg
    timers = {}
    with Timer(pg=True) as timers["new"], odoo_env() as env:
        env["auth.masterkey.ratelimit"]._check(IP)
        rec = env["auth.masterkey.request"]._new("login", browser_secret, 120, ip=IP, agent=AGENT)
        env["auth.masterkey.audit"]._record("qr_created", method="masterkey", req=rec)
        rid, match_code = rec.public_id, rec.match_code
        qr_svg(f"{ORIGIN}/auth_masterkey/phone/approve#rid={rid}")
    with Timer(pg=True) as timers["options"], odoo_env() as env:
        env["auth.masterkey.ratelimit"]._check(IP)
        enrolment = env["auth.masterkey.enrolment"]._find_active(phone.enrolment_id)
        rec = env["auth.masterkey.request"]._locked(rid, "login")
        options = rec._phone_options(enrolment, ORIGIN)
        same = rec._belongs_to_browser("phone-has-another-cookie")
        options.update(requester=describe_requester(rec), same_browser=same)
        options["match_choices"] = rec.match_choices.split(",")
        env["auth.masterkey.audit"]._record("qr_scanned", user=enrolment.user_id, method="masterkey",
                                            req=rec, enrolment=enrolment)
    payload = phone.answer_payload(options, match_code=match_code)  # phone side: not timed
    with Timer(pg=True) as timers["answer"], odoo_env() as env:
        rec = env["auth.masterkey.request"]._locked(rid, "login")
        env["auth.masterkey.ratelimit"]._check(IP, rec.user_id.login)
        reply, recovered = rec._phone_answer(payload, ORIGIN, approve=True, same_browser=False)
        env["auth.masterkey.audit"]._record("qr_approved", user=rec.user_id, method="masterkey", result="success",
                                            factors_required=rec.required_factors,
                                            factors_passed=rec.passed_factors, req=rec, enrolment=rec.enrolment_id)
        passed = rec.passed_factors
    phone.apply_rotation(reply, rid)  # phone side: not timed
    with Timer(pg=True) as timers["status"], odoo_env() as env:
        rec = env["auth.masterkey.request"].sudo().search([("public_id", "=", rid), ("purpose", "=", "login")],
                                                          limit=1)
        assert rec._status_for_browser(browser_secret) == "approved"
    Users = odoo_registry()["res.users"]
    with Timer(pg=True) as timers["session"]:
        info = Users.authenticate(DB, {"type": "masterkey", "login": "", "masterkey_request": rid,
                                       "masterkey_browser_secret": browser_secret}, {"interactive": False})
    assert info["uid"] and info.get("masterkey_factors") == passed, info
    return timers, passed


def main():
    phones = load_phones(PHONES_FILE)
    mk_phones = {"masterkey_1": phones[-1], "masterkey_2": phones[-2], "masterkey_3": phones[-3]}
    with odoo_env() as env:
        ctx = env["res.users"]._crypt_context()
        rounds = ctx.__obj__.to_dict().get("pbkdf2_sha512__rounds")
        env.cr.execute("SELECT password FROM res_users WHERE login = 'bench_password'")
        stored = env.cr.fetchone()[0]
    stored_rounds = int(stored.split("$")[2])
    # profile of the password login: the KDF alone, same process
    kdf = []
    for _ in range(3):
        with Timer() as t:
            ok = ctx.verify(PASSWORD, stored)
        assert ok
        kdf.append(t.cpu)

    samples = {k: [] for k in KINDS}
    steps = {k: {s: [] for s in STEPS} for k in KINDS if k != "password"}
    passed_seen = {}
    for rnd in range(-1, ROUNDS):  # round -1: warm-up, discarded
        order = KINDS[rnd % len(KINDS):] + KINDS[:rnd % len(KINDS)]
        for kind in order:
            if kind != "password":
                set_factors(int(kind[-1]))
            for i in range(WARMUP if rnd < 0 else PER_ROUND):
                if kind == "password":
                    t = password_login("bench_password")["total"]
                    row = (t.cpu, t.wall, t.pg_cpu)
                else:
                    timers, passed = masterkey_login(mk_phones[kind], f"bench-browser-{kind}-{rnd}-{i}")
                    passed_seen[kind] = passed
                    row = tuple(sum(getattr(timers[s], a) for s in STEPS) for a in ("cpu", "wall", "pg_cpu"))
                    if rnd >= 0:
                        for s in STEPS:
                            steps[kind][s].append(timers[s].cpu)
                if rnd >= 0:
                    samples[kind].append(row)
    # profile: the QR code rendering of login/new alone, and a cProfile of 3-factor logins
    from odoo.addons.auth_masterkey.controllers.main import qr_svg
    qr = []
    for i in range(10):
        with Timer() as t:
            qr_svg(f"{ORIGIN}/auth_masterkey/phone/approve#rid=bench-profile-{i:032d}")
        qr.append(t.cpu)
    import cProfile
    import io
    import pstats
    prof = cProfile.Profile()
    prof.enable()
    for i in range(5):
        masterkey_login(mk_phones["masterkey_3"], f"bench-browser-profile-{i}")
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    profile_text = buf.getvalue()
    set_factors(3)
    save_phones(PHONES_FILE, phones)

    med = {k: {"cpu_ms": statistics.median(r[0] for r in v) * 1e3,
               "wall_ms": statistics.median(r[1] for r in v) * 1e3,
               "pg_cpu_ms": statistics.fmean(r[2] for r in v) * 1e3,  # /proc ticks are 10 ms: mean
               "cpu": summary([r[0] for r in v]), "wall": summary([r[1] for r in v])}
           for k, v in samples.items()}
    pw = med["password"]
    outputs = {"pbkdf2_kdf_alone_cpu_ms": statistics.median(kdf) * 1e3, "per_kind": med, "ratios": {},
               "qr_svg_alone_cpu_p50_ms": statistics.median(qr) * 1e3,
               "cprofile_masterkey_3_top15_tottime": profile_text.splitlines(),
               "masterkey_steps_cpu_p50_ms": {k: {s: statistics.median(v) * 1e3 for s, v in st.items()}
                                              for k, st in steps.items()},
               "factors_passed": passed_seen}
    print(f"\nBench 1 - server cost of one login (pbkdf2_sha512 rounds: {rounds}; stored hash: {stored_rounds})")
    show("password: pbkdf2 verify alone, CPU", outputs["pbkdf2_kdf_alone_cpu_ms"], "ms")
    for kind in KINDS:
        m = med[kind]
        ratio = m["cpu_ms"] / pw["cpu_ms"]
        ratio_all = (m["cpu_ms"] + m["pg_cpu_ms"]) / (pw["cpu_ms"] + pw["pg_cpu_ms"])
        outputs["ratios"][kind] = {"cpu_vs_password": ratio, "cpu_incl_postgres_vs_password": ratio_all,
                                   "wall_vs_password": m["wall_ms"] / pw["wall_ms"]}
        show(f"{kind}: CPU p50 / wall p50 / PostgreSQL CPU p50",
             f"{m['cpu_ms']:.2f} / {m['wall_ms']:.2f} / {m['pg_cpu_ms']:.2f}", "ms")
        show(f"{kind}: CPU vs password (Odoo process; incl. PostgreSQL)", f"{ratio:.2%}  ({ratio_all:.2%})")
    for kind, st in outputs["masterkey_steps_cpu_p50_ms"].items():
        show(f"{kind}: CPU p50 per step", "  ".join(f"{s} {v:.2f}" for s, v in st.items()), "ms")
    show("profile: QR SVG rendering alone (part of login/new), CPU p50", outputs["qr_svg_alone_cpu_p50_ms"], "ms")
    r3 = outputs["ratios"]["masterkey_3"]["cpu_vs_password"]
    r3_noqr = (med["masterkey_3"]["cpu_ms"] - outputs["qr_svg_alone_cpu_p50_ms"]) / pw["cpu_ms"]
    outputs["ratios"]["masterkey_3"]["cpu_vs_password_without_qr_svg"] = r3_noqr
    show("masterkey_3: CPU vs password, QR SVG rendering excluded", f"{r3_noqr:.2%}")
    print("\n  cProfile, 5 three-factor logins, top functions by own time:")
    print("\n".join("    " + line for line in profile_text.splitlines()[:40] if line.strip()))
    outputs["target"] = {"what": "3-factor MasterKey CPU <= 5% of password-login CPU", "value": r3, "met": r3 <= 0.05}
    write_result("login_cpu", {"pbkdf2_sha512_rounds_context": rounds, "pbkdf2_sha512_rounds_stored": stored_rounds,
                               "rounds": ROUNDS, "logins_per_round_per_kind": PER_ROUND, "warmup_per_kind": WARMUP,
                               "kinds": KINDS, "process": "single in-process Odoo registry, no HTTP",
                               "cpu_clock": "time.process_time (Odoo process); PostgreSQL CPU from /proc"},
                 outputs)


if __name__ == "__main__":
    main()
