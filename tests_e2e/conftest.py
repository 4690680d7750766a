"""End-to-end fixtures: a running Odoo with auth_masterkey (URL and database given by
scripts/test.sh), Debian's Chromium driven by Playwright, a virtual WebAuthn authenticator."""

import json
import os
import re

import psycopg2
import pytest

ODOO_URL = os.environ.get("MASTERKEY_E2E_URL")
DB_DSN = os.environ.get("MASTERKEY_E2E_DSN")
CHROMIUM = os.environ.get("MASTERKEY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    reason = None
    if not ODOO_URL or not DB_DSN:
        reason = "no running Odoo: scripts/test.sh sets MASTERKEY_E2E_URL and MASTERKEY_E2E_DSN"
    elif not os.path.exists(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def db():
    conn = psycopg2.connect(DB_DSN)
    conn.autocommit = True
    yield conn
    conn.close()


def set_param(db, key, value):
    with db.cursor() as cr:
        cr.execute("""INSERT INTO ir_config_parameter (key, value, create_date, write_date)
                      VALUES (%s, %s, now(), now())
                      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""", (key, value))


@pytest.fixture()
def policy(db):
    """Sets MasterKey settings for one test; Odoo reads ir_config_parameter through a cache,
    so the server is told to drop it (a real settings change does the same)."""
    changed = []

    def apply(**values):
        for key, value in values.items():
            set_param(db, f"auth_masterkey.{key}", str(value))
            changed.append(key)
        with db.cursor() as cr:  # invalidate Odoo's registry caches in every worker
            cr.execute("SELECT nextval('base_cache_signaling_default')")
    yield apply
    for key in changed:
        with db.cursor() as cr:
            cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (f"auth_masterkey.{key}",))
            cr.execute("SELECT nextval('base_cache_signaling_default')")


class Phone:
    """A phone: its own browser context and page, with a virtual platform authenticator
    (user verification on) attached through Chromium's DevTools WebAuthn domain."""

    def __init__(self, browser, uv=True):
        self.context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")
        self.authenticator = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": uv, "automaticPresenceSimulation": True}})["authenticatorId"]

    def credentials(self):
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})["credentials"]

    def close(self):
        self.context.close()


@pytest.fixture()
def new_phone(browser):
    phones = []

    def make(**kwargs):
        phones.append(Phone(browser, **kwargs))
        return phones[-1]
    yield make
    for phone in phones:
        phone.close()


@pytest.fixture()
def new_workstation(browser):
    contexts = []

    def make():
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 900}))
        return contexts[-1].new_page()
    yield make
    for context in contexts:
        context.close()


def shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"))


def password_login(page, login, password):
    page.goto(f"{ODOO_URL}/web/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("div.oe_login_buttons button[type=submit]")
    page.wait_for_url(re.compile(r".*/odoo.*"))


def rpc(page, model, method, args, kwargs=None, route="/web/dataset/call_kw"):
    payload = {"jsonrpc": "2.0", "method": "call",
               "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
    result = page.evaluate("""async ([route, payload]) => {
        const r = await fetch(route, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                      body: JSON.stringify(payload)});
        return await r.json(); }""", [route, payload])
    if "error" in result:
        raise AssertionError(json.dumps(result["error"])[:2000])
    return result["result"]


def session_info(page):
    return page.evaluate("""async () => {
        const r = await fetch('/web/session/get_session_info', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({jsonrpc: '2.0', params: {}})});
        return (await r.json()).result; }""")
