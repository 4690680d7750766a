"""Setup step: settings of the bench database, users, and one enrolled (software) phone per
user, enrolled through the real model methods the enrolment controllers call.

Settings written (bench database only):
  web.base.url = http://localhost:8072 (frozen): the RP ID and origin the phones use;
  auth_masterkey.lockout_failures = 1000000: the per-IP rate limiter must not lock the single
    client IP (127.0.0.1) that every simulated pair shares; no bench step is meant to fail;
  base.login_cooldown_after = 0: Odoo's own per-IP cooldown, same reason (bench 3's replay
    checks are failed logins on purpose, all from 127.0.0.1);
  auth_masterkey.required_factors = 3 (the login steps change it as they go).
"""

import os
import time

from common import N_USERS, ORIGIN, PHONES_FILE, WORK, odoo_env, write_result
from softphone import SoftPhone, save_phones

PASSWORD = "bench-password-1"  # noqa: S105 - throwaway bench users on a throwaway database
N_PASSWORD_USERS = int(os.environ.get("BENCH_PASSWORD_USERS", "8"))


def enrol(env, user, biometric=True):
    Request = env["auth.masterkey.request"]
    phone = SoftPhone(ORIGIN)
    rec, token = Request._enrol_start(user, "bench-workstation-secret")
    options = rec._enrol_options(token)
    rec._enrol_finish(token, phone.enrol_payload(options, biometric), ORIGIN)
    rec._enrol_confirm(True)
    phone.login, phone.uid = user.login, user.id
    return phone


def main():
    t0 = time.perf_counter()
    os.makedirs(WORK, exist_ok=True)
    with odoo_env() as env:
        icp = env["ir.config_parameter"].sudo()
        for key, value in {"web.base.url": ORIGIN, "web.base.url.freeze": "True",
                           "auth_masterkey.lockout_failures": "1000000",
                           # Odoo's own per-process, per-IP login cooldown (10 failures): the
                           # replay checks of bench 3 fail on purpose, all from 127.0.0.1
                           "base.login_cooldown_after": "0",
                           "auth_masterkey.required_factors": "3",
                           "auth_masterkey.password_policy": "always"}.items():
            icp.set_param(key, value)
        group = env.ref("base.group_user")
        Users = env["res.users"].with_context(no_reset_password=True)
        users = Users.search([("login", "=like", "bench_user_%")], order="login")
        if len(users) < N_USERS:
            have = set(users.mapped("login"))
            Users.create([{"name": f"Bench User {i:03d}", "login": f"bench_user_{i:03d}",
                           "groups_id": [(6, 0, [group.id])]}
                          for i in range(N_USERS) if f"bench_user_{i:03d}" not in have])
            users = Users.search([("login", "=like", "bench_user_%")], order="login")
        users = users[:N_USERS]
        # passwords for the password-login references (600,000 pbkdf2 rounds each: only a few)
        for user in users[:N_PASSWORD_USERS]:
            user.password = PASSWORD
        pw_user = Users.search([("login", "=", "bench_password")])
        if not pw_user:
            pw_user = Users.create({"name": "Bench Password", "login": "bench_password", "password": PASSWORD,
                                    "groups_id": [(6, 0, [group.id])]})
        # fresh phones: revoke what an earlier run (BENCH_KEEP_DB=1) left
        env["auth.masterkey.enrolment"].sudo().search([("user_id", "in", users.ids), ("state", "=", "active")]) \
            .action_revoke()
    phones = []
    for user_id in users.ids:
        with odoo_env() as env:
            phones.append(enrol(env, env["res.users"].browse(user_id)))
    save_phones(PHONES_FILE, phones)
    elapsed = time.perf_counter() - t0
    write_result("setup", {"users_with_phone": len(phones), "users_with_password": N_PASSWORD_USERS + 1,
                           "origin": ORIGIN, "lockout_failures": 1000000,
                           "base.login_cooldown_after": 0, "biometric": True},
                 {"seconds": round(elapsed, 1)},
                 notes=["phones are software phones (bench/softphone.py) enrolled through "
                        "_enrol_start/_enrol_options/_enrol_finish; their state is kept in .state/bench/phones.json"])


if __name__ == "__main__":
    main()
