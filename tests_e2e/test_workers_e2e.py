"""Against Odoo with workers=2: state lives in PostgreSQL, not in a process."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import ODOO_URL, password_login, rpc


def bad_password_attempt(login):
    with requests.Session() as http:
        page = http.get(f"{ODOO_URL}/web/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = http.post(f"{ODOO_URL}/web/login", data={"login": login, "password": "wrong-password",
                                                          "csrf_token": token}, timeout=30)
        return answer.text


def test_lockout_holds_across_worker_processes(db, policy):
    with db.cursor() as cr:
        cr.execute("DELETE FROM auth_masterkey_ratelimit")
    policy(lockout_failures=4, lockout_base=120)
    with ThreadPoolExecutor(max_workers=6) as pool:  # both workers serve these at once
        list(pool.map(bad_password_attempt, ["demo"] * 6))
    with db.cursor() as cr:
        cr.execute("SELECT lockouts, locked_until > now() at time zone 'UTC' FROM auth_masterkey_ratelimit "
                   "WHERE key = 'login:demo'")
        lockouts, locked = cr.fetchone()
    assert lockouts >= 1 and locked
    # the right password is refused now, with a message that reveals nothing about the account
    with requests.Session() as http:
        page = http.get(f"{ODOO_URL}/web/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = http.post(f"{ODOO_URL}/web/login", data={"login": "demo", "password": "demo", "csrf_token": token},
                           timeout=30)
    assert "Too many failed attempts" in answer.text
    assert "/odoo" not in answer.url
    with db.cursor() as cr:
        cr.execute("DELETE FROM auth_masterkey_ratelimit")
        cr.execute("SELECT count(*) FROM auth_masterkey_audit WHERE event = 'lockout'")
        assert cr.fetchone()[0] >= 1


def test_audit_chain_stays_intact_under_concurrent_writers(new_workstation):
    def create_request(_):
        return requests.post(f"{ODOO_URL}/auth_masterkey/login/new", data=json.dumps({"qr": False}),
                             headers={"Content-Type": "application/json"}, timeout=30).status_code
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create_request, range(40)))
    assert statuses.count(200) == 40
    admin = new_workstation()
    password_login(admin, "admin", "admin")
    result = rpc(admin, "auth.masterkey.audit", "action_verify_integrity", [[]])
    assert result["params"]["type"] == "success", result["params"]["message"]
