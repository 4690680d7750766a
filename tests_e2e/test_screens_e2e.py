"""Auditor and administrator screens, as people see them (screenshots go to the user guide)."""

from conftest import ODOO_URL, password_login, shot


def test_auditor_screens_and_integrity_check(new_workstation):
    page = new_workstation()
    password_login(page, "admin", "admin")
    page.goto(f"{ODOO_URL}/odoo/action-auth_masterkey.action_audit")
    page.wait_for_selector(".o_list_view .o_data_row")
    shot(page, "audit_log")
    page.click("button:has-text('Verify integrity')")
    try:
        notification = page.wait_for_selector(".o_notification", timeout=15000)
    except Exception:
        shot(page, "audit_integrity_failed")
        raise
    assert "intact" in notification.inner_text()
    shot(page, "audit_integrity")
    page.click(".o_switch_view.o_pivot")
    page.wait_for_selector(".o_pivot table")
    shot(page, "audit_pivot")


def test_admin_settings_screen(new_workstation):
    page = new_workstation()
    password_login(page, "admin", "admin")
    page.goto(f"{ODOO_URL}/odoo/settings")
    block = page.wait_for_selector("#auth_masterkey_factors", timeout=20000)
    block.scroll_into_view_if_needed()
    assert "MasterKey" in block.inner_text()
    shot(page, "admin_settings")
