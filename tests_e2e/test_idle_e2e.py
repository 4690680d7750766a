"""The idle countdown in the browser: warning, dismissed by activity, logout at the timeout."""

import re

from conftest import ODOO_URL, password_login


def age_sessions(db, login, seconds):
    with db.cursor() as cr:  # time travel instead of sleeping
        cr.execute("""UPDATE auth_masterkey_session_activity SET last_activity =
                        (now() at time zone 'UTC') - make_interval(secs => %s)
                       WHERE user_id = (SELECT id FROM res_users WHERE login = %s) AND ended_at IS NULL""",
                   (seconds, login))


def wait_for(page, selector, state="visible", tries=20):
    """Nudges the idle service (a window focus makes it ask the server) until ``selector``."""
    for _ in range(tries):
        page.evaluate("() => window.dispatchEvent(new Event('focus'))")
        try:
            return page.wait_for_selector(selector, state=state, timeout=1000)
        except Exception:  # noqa: BLE001 - retried
            continue
    raise AssertionError(f"{selector} never became {state}")


def tracked(db, login):
    with db.cursor() as cr:
        cr.execute("""SELECT count(*) FROM auth_masterkey_session_activity
                       WHERE user_id = (SELECT id FROM res_users WHERE login = %s) AND ended_at IS NULL""", (login,))
        return cr.fetchone()[0]


def test_countdown_warns_then_logs_out(db, policy, new_workstation):
    policy(idle_timeout=2)
    page = new_workstation()
    password_login(page, "demo", "demo")
    page.wait_for_selector(".o_main_navbar")
    page.wait_for_function("() => true")
    for _ in range(50):  # the web client's first page load creates the activity row
        if tracked(db, "demo"):
            break
        page.wait_for_timeout(100)
    assert tracked(db, "demo")
    age_sessions(db, "demo", 2 * 60 - 30)  # 30 s left: inside the 60 s warning window
    warning = wait_for(page, ".o_masterkey_idle_warning")
    assert "logged out in" in warning.inner_text()
    page.mouse.move(200, 200)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_selector(".o_masterkey_idle_warning", state="detached", timeout=10000)
    with db.cursor() as cr:
        cr.execute("""SELECT extract(epoch FROM now() at time zone 'UTC' - last_activity) FROM auth_masterkey_session_activity
                       WHERE user_id = (SELECT id FROM res_users WHERE login = 'demo') AND ended_at IS NULL""")
        assert min(r[0] for r in cr.fetchall()) < 30  # the click was recorded as activity
    age_sessions(db, "demo", 2 * 60 - 3)
    wait_for(page, ".o_masterkey_idle_warning")
    page.wait_for_url(re.compile(r".*/web/login\?masterkey_idle=1.*"), timeout=20000)
    assert "logged out after a period of inactivity" in page.content()
    page.goto(f"{ODOO_URL}/odoo")  # the session is really gone on the server
    assert "/web/login" in page.url
