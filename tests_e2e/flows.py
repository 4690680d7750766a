"""Steps shared by the end-to-end tests, written as a person does them."""

import io
import re

from conftest import ODOO_URL, password_login, rpc, shot


def open_enrolment_page(page, login="admin", password="admin"):
    """Preferences > Add a phone, through Odoo's own identity check (password re-entry)."""
    password_login(page, login, password)
    uid = rpc(page, "res.users", "search", [[["login", "=", login]]])[0]
    action = rpc(page, "res.users", "action_masterkey_add_phone", [[uid]], route="/web/dataset/call_button")
    if action.get("res_model") == "res.users.identitycheck":  # Odoo asks for the password again
        wizard = action["res_id"]
        rpc(page, "res.users.identitycheck", "write", [[wizard], {"password": password}])
        action = rpc(page, "res.users.identitycheck", "run_check", [[wizard]], route="/web/dataset/call_button")
    assert action["type"] == "ir.actions.act_url", action
    page.goto(ODOO_URL + action["url"])
    page.wait_for_selector("#mk_enrol_qr svg")
    return page


def decode_qr(page, selector):
    """Reads the QR code from a screenshot of the element, as a phone camera would."""
    import zxingcpp
    from PIL import Image
    png = page.locator(selector).screenshot()
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR code found in the screenshot"
    return results[0].text


def enrol_phone(workstation, phone, *, biometric=True, label="Test phone", screenshots=False):
    open_enrolment_page(workstation)
    if screenshots:
        shot(workstation, "enrol_workstation")
    url = decode_qr(workstation, "#mk_enrol_qr")
    assert url.startswith(ODOO_URL + "/auth_masterkey/phone/enrol#rid=")
    phone.page.goto(url)
    phone.page.wait_for_selector("#mk_enrol_button:not([disabled])")
    phone.page.fill("#mk_label", label)
    if not biometric and not phone.page.is_disabled("#mk_biometric"):
        phone.page.uncheck("#mk_biometric")
    if screenshots:
        shot(phone.page, "enrol_phone")
    phone.page.click("#mk_enrol_button")
    phone.page.wait_for_function("document.querySelector('#mk_status').textContent.startsWith('Almost done')"
                                 " || !document.querySelector('#mk_error').hidden")
    assert phone.page.inner_text("#mk_status").startswith("Almost done"), phone.page.inner_text("#mk_error")
    code = re.search(r"shows (\d\d)", phone.page.inner_text("#mk_status")).group(1)
    # the workstation page follows by itself and asks: is this your phone?
    workstation.wait_for_selector("#mk_confirm_yes", state="visible", timeout=5000)
    assert code in workstation.inner_text("#mk_status") and label in workstation.inner_text("#mk_status")
    if screenshots:
        shot(workstation, "enrol_confirm")
    workstation.click("#mk_confirm_yes")
    workstation.wait_for_function("document.querySelector('#mk_status').textContent.includes('enrolled')",
                                  timeout=5000)


def start_qr_login(workstation):
    workstation.goto(f"{ODOO_URL}/web/login")
    workstation.click("#masterkey_qr_login")
    workstation.wait_for_selector("#masterkey_qr svg")
    return decode_qr(workstation, "#masterkey_qr"), workstation.inner_text("#masterkey_match_code").strip()


def phone_answer(phone, url, match_code, approve=True, screenshots=False):
    phone.page.goto(url)
    phone.page.wait_for_selector("#mk_deny:not([disabled])")
    if screenshots:
        shot(phone.page, "approve_phone")
    if approve:
        phone.page.click(f"#mk_match_choices button[data-code='{match_code}']")
        phone.page.click("#mk_approve")
    else:
        phone.page.click("#mk_deny")
    phone.page.wait_for_function("document.querySelector('#mk_status').textContent.length > 0"
                                 " || !document.querySelector('#mk_error').hidden")
    return phone.page.inner_text("#mk_status"), phone.page.inner_text("#mk_error")


def wait_logged_in(page):
    try:
        page.wait_for_url(re.compile(r".*/odoo.*"), timeout=10000)
    except Exception as exc:
        status = page.evaluate("() => document.querySelector('#masterkey_qr_status')?.textContent"
                               " + ' | ' + document.querySelector('#masterkey_error')?.textContent")
        raise AssertionError(f"not logged in: at {page.url}; page says: {status}") from exc
    page.wait_for_selector(".o_main_navbar", timeout=20000)
