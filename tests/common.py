"""Common set-up of the Odoo tests."""

from odoo.tests.common import TransactionCase

from .softphone import ORIGIN, SoftPhone  # noqa: F401 - re-exported for the test modules


class MasterKeyCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        icp = cls.env["ir.config_parameter"].sudo()
        icp.set_param("web.base.url", ORIGIN)
        icp.set_param("auth_masterkey.required_factors", "2")
        cls.user = cls.env["res.users"].create({"name": "Phone User", "login": "phone_user", "password": "phone_user_pw1",
                                                "groups_id": [(6, 0, [cls.env.ref("base.group_user").id])]})
        cls.Request = cls.env["auth.masterkey.request"]

    def enrol(self, phone=None, user=None, biometric=True):
        phone = phone or SoftPhone()
        rec, token = self.Request._enrol_start(user or self.user, "workstation-secret")
        options = rec._enrol_options(token)
        enrolment = rec._enrol_finish(token, phone.enrol_payload(options, biometric), ORIGIN)
        rec._enrol_confirm(True)
        return phone, enrolment

    def login(self, phone, enrolment, browser="ws-secret", approve=True, same_browser=False, uv=True):
        rec = self.Request._new("login", browser, 120)
        options = rec._phone_options(enrolment, ORIGIN)
        payload = phone.answer_payload(options, approve=approve, match_code=rec.match_code, uv=uv)
        reply, recovered = rec._phone_answer(payload, ORIGIN, approve=approve, same_browser=same_browser)
        if reply:
            phone.apply_rotation(reply, rec.public_id)
        return rec, recovered
