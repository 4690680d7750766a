"""Real Odoo, real PostgreSQL, real Chromium: enrolment, QR login, phone login, denial,
expiry, a foreign browser, and the 1- and 3-factor policies."""

import re

import pytest

from conftest import ODOO_URL, session_info, shot
from flows import enrol_phone, phone_answer, start_qr_login, wait_logged_in


def reset_phones(db, login="admin"):
    with db.cursor() as cr:
        cr.execute("""UPDATE auth_masterkey_enrolment SET state = 'revoked'
                       WHERE user_id = (SELECT id FROM res_users WHERE login = %s)""", (login,))


@pytest.fixture()
def enrolled_phone(db, policy, new_phone, new_workstation):
    """A phone enrolled for admin (2 factors, no biometric), the admin's older phones revoked."""
    def make():
        reset_phones(db)
        policy(required_factors=2)
        phone = new_phone()
        enrol_phone(new_workstation(), phone, biometric=False)
        return phone
    return make


def test_enrol_then_qr_login_with_three_factors(db, policy, new_phone, new_workstation):
    reset_phones(db)
    policy(required_factors=3)
    phone = new_phone()
    enrol_phone(new_workstation(), phone, screenshots=True)
    assert len(phone.credentials()) == 1  # the biometric credential lives in the authenticator
    workstation = new_workstation()
    url, code = start_qr_login(workstation)
    shot(workstation, "qr_login_workstation")
    status, error = phone_answer(phone, url, code, screenshots=True)
    assert status.startswith("Approved"), error
    wait_logged_in(workstation)
    assert session_info(workstation)["username"] == "admin"
    shot(workstation, "qr_login_done")
    with db.cursor() as cr:
        cr.execute("SELECT passed_factors FROM auth_masterkey_request WHERE state = 'consumed' ORDER BY id DESC LIMIT 1")
        assert cr.fetchone()[0] == 3


def test_phone_logs_itself_in_and_rotates_its_share(db, enrolled_phone):
    phone = enrolled_phone()
    for _round in range(2):  # twice: the second login uses the rotated share
        phone.page.goto(f"{ODOO_URL}/web/logout")
        phone.page.goto(f"{ODOO_URL}/web/login")
        phone.page.click("#masterkey_phone_login")
        wait_logged_in(phone.page)
        assert session_info(phone.page)["username"] == "admin"
    with db.cursor() as cr:
        cr.execute("""SELECT current_gen, pending_gen FROM auth_masterkey_enrolment
                       WHERE state = 'active' ORDER BY id DESC LIMIT 1""")
        assert cr.fetchone() == (1, 2)


def test_denied_login_leaves_workstation_logged_out(enrolled_phone, new_workstation):
    phone = enrolled_phone()
    workstation = new_workstation()
    url, code = start_qr_login(workstation)
    status, _error = phone_answer(phone, url, code, approve=False)
    assert status.startswith("Denied")
    workstation.wait_for_function("document.querySelector('#masterkey_qr_status').textContent.includes('denied')")
    assert not (session_info(workstation) or {}).get("uid")


def test_expired_request_cannot_be_approved(db, enrolled_phone, new_workstation):
    phone = enrolled_phone()
    workstation = new_workstation()
    url, code = start_qr_login(workstation)
    rid = url.split("rid=")[1]
    with db.cursor() as cr:  # time travel: the request is now past its lifetime
        cr.execute("UPDATE auth_masterkey_request SET expires_at = now() at time zone 'UTC' - interval '1 second'"
                   " WHERE public_id = %s", (rid,))
    phone.page.goto(url)
    phone.page.wait_for_function("!document.querySelector('#mk_error').hidden")
    assert "expired" in phone.page.inner_text("#mk_error")
    # and the workstation shows a fresh code by itself
    workstation.wait_for_function(f"!document.querySelector('#masterkey_qr').dataset.url.includes('{rid}')")


def test_other_browser_cannot_consume_an_approval(enrolled_phone, new_workstation):
    phone = enrolled_phone()
    attacker = new_workstation()
    workstation = new_workstation()
    url, code = start_qr_login(workstation)
    rid = url.split("rid=")[1]
    attacker.goto(f"{ODOO_URL}/web/login")
    # the attacker races for the approval with the request id but without the browser cookie
    status, error = phone_answer(phone, url, code)
    assert status.startswith("Approved"), error
    attacker.evaluate("""async (rid) => {
        const { submitSession } = await import('/auth_masterkey/static/src/pages/login_page.js');
        submitSession(rid); }""", rid)
    attacker.wait_for_url(re.compile(r".*masterkey_error=1.*"))
    assert not (session_info(attacker) or {}).get("uid")
    wait_logged_in(workstation)  # the rightful browser still gets in
    assert session_info(workstation)["username"] == "admin"


def test_one_factor_policy_needs_no_biometric(db, policy, enrolled_phone, new_workstation):
    phone = enrolled_phone()
    policy(required_factors=1)
    workstation = new_workstation()
    url, code = start_qr_login(workstation)
    status, error = phone_answer(phone, url, code)
    assert status.startswith("Approved"), error
    wait_logged_in(workstation)
    with db.cursor() as cr:
        cr.execute("SELECT passed_factors FROM auth_masterkey_request WHERE state = 'consumed' ORDER BY id DESC LIMIT 1")
        assert cr.fetchone()[0] == 1  # policy 1: the split credential alone


def test_three_factor_policy_refuses_a_phone_without_biometric(policy, enrolled_phone, new_workstation):
    phone = enrolled_phone()
    policy(required_factors=3)
    workstation = new_workstation()
    url, _code = start_qr_login(workstation)
    phone.page.goto(url)
    phone.page.wait_for_function("!document.querySelector('#mk_error').hidden")
    assert "biometric" in phone.page.inner_text("#mk_error")
