import json
import re
import time

import odoo.http

from odoo.tests import HttpCase, tagged

from .common import SoftPhone


@tagged("post_install", "-at_install")
class TestEndpoints(HttpCase):

    def setUp(self):
        super().setUp()
        # many refused requests from one address in these tests: lockout is tested on its own
        self.env["ir.config_parameter"].sudo().set_param("auth_masterkey.lockout_failures", "1000")

    def post(self, path, body=None, raw=None, content_type="application/json", headers=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.url_open(path, data=data, headers={"Content-Type": content_type, **(headers or {})},
                             allow_redirects=False)

    def assert_error(self, response, status, code=None):
        self.assertEqual(response.status_code, status, response.text[:300])
        payload = response.json()
        self.assertIn("message", payload)
        self.assertNotIn("Traceback", response.text)
        if code:
            self.assertEqual(payload["error"], code)

    def test_login_new_and_status(self):
        response = self.post("/auth_masterkey/login/new")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertIn("<svg", data["qr_svg"])
        self.assertEqual(len(data["match_code"]), 2)
        status = self.post("/auth_masterkey/login/status", {"rid": data["rid"]})
        self.assertEqual(status.json(), {"state": "pending"})

    def test_bad_input_is_4xx_json(self):
        self.assert_error(self.post("/auth_masterkey/login/new", raw="{}", content_type="text/plain"), 400)
        self.assert_error(self.post("/auth_masterkey/login/status", raw="not json"), 400, "malformed_input")
        self.assert_error(self.post("/auth_masterkey/login/status", raw="[1]"), 400)
        self.assert_error(self.post("/auth_masterkey/login/status", {"rid": "x" * 500}), 400)
        self.assert_error(self.post("/auth_masterkey/login/status", {"rid": "nonexistent-request"}), 400)
        self.assert_error(self.post("/auth_masterkey/phone/login/options", {"rid": 5, "enrolment": None}), 403)
        self.assert_error(self.post("/auth_masterkey/phone/login/answer", {"rid": "nonexistent-request"}), 400)
        self.assert_error(self.post("/auth_masterkey/phone/enrol/options", {"rid": "nonexistent-request", "token": 1}), 400)
        self.assert_error(self.post("/auth_masterkey/login/status", raw="{" + " " * 70000 + "}"), 400)
        self.assert_error(self.post("/auth_masterkey/login/status", raw="[" * 5000), 400, "malformed_input")
        self.assert_error(self.post("/auth_masterkey/login/status", {"rid": "abc\u0000defghijk"}), 400)
        self.assert_error(self.post("/auth_masterkey/phone/login/answer", {"rid": "abc\u0000defghijk"}), 400)
        self.assert_error(self.post("/auth_masterkey/phone/login/options", {"rid": "a\u0000bcdefgh", "enrolment": "\u0000"}),
                          403)

    def test_foreign_pages_cannot_lock_an_address_out(self):
        """A cross-site page can make its visitor's browser send junk; junk naming no request
        is refused without counting toward the address's lockout."""
        self.env["ir.config_parameter"].sudo().set_param("auth_masterkey.lockout_failures", "3")
        for _ in range(6):
            self.assert_error(self.post("/auth_masterkey/login/new", raw="x", content_type="text/plain"), 400)
        self.assertEqual(self.post("/auth_masterkey/login/new").status_code, 200)

    def test_status_of_another_browsers_request(self):
        rid = self.post("/auth_masterkey/login/new").json()["rid"]
        self.opener.cookies.clear()
        self.assert_error(self.post("/auth_masterkey/login/status", {"rid": rid}), 400)

    def test_session_with_unknown_request_goes_back_to_login(self):
        response = self.url_open("/auth_masterkey/login/session", data={"rid": "nonexistent"}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login?masterkey_error=1", response.headers["Location"])

    def test_enrol_page_needs_identity_check(self):
        self.authenticate("admin", "admin")
        response = self.url_open("/auth_masterkey/enrol", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertNotIn("/auth_masterkey/enrol", response.headers["Location"])

    def test_login_page_offers_phone_login(self):
        page = self.url_open("/web/login").text
        self.assertIn("masterkey_qr_login", page)
        self.assertIn("/auth_masterkey/static/src/pages/login_page.js", page)

    def test_lockout_answers_429(self):
        self.env["ir.config_parameter"].sudo().set_param("auth_masterkey.lockout_failures", "3")
        for _ in range(3):
            self.assert_error(self.post("/auth_masterkey/phone/login/options", {"rid": "nope-nope", "enrolment": "x"}),
                              403)
        self.assert_error(self.post("/auth_masterkey/login/new"), 429, "rate_limited")
        # password login from the same address is refused too, without revealing anything
        page = self.url_open("/web/login", data={"login": "admin", "password": "admin", "csrf_token": "x"})
        self.assertNotIn("/odoo/action", page.url)

    def enrol_admin(self, origin):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("web.base.url", origin)
        icp.set_param("auth_masterkey.rp_id", "127.0.0.1")
        phone = SoftPhone(origin=origin, rp_id="127.0.0.1")
        rec, token = self.env["auth.masterkey.request"]._enrol_start(self.env.ref("base.user_admin"), "ws")
        options = self.post("/auth_masterkey/phone/enrol/options", {"rid": rec.public_id, "token": token},
                            headers={"Origin": origin}).json()
        finish = self.post("/auth_masterkey/phone/enrol/finish",
                           {"rid": rec.public_id, "token": token, **phone.enrol_payload(options)},
                           headers={"Origin": origin})
        self.assertEqual(finish.status_code, 200, finish.text)
        rec._enrol_confirm(True)
        return phone

    def test_failed_answer_burns_the_challenge(self):
        origin = self.base_url()
        phone = self.enrol_admin(origin)
        self.opener.cookies.clear()
        new = self.post("/auth_masterkey/login/new").json()
        self.opener.cookies.clear()  # the phone is another browser: number matching applies
        opts = self.post("/auth_masterkey/phone/login/options", {"rid": new["rid"], "enrolment": phone.enrolment_id},
                         headers={"Origin": origin}).json()
        self.assertFalse(opts["same_browser"])
        self.assertIn(new["match_code"], opts["match_choices"])
        wrong = next(c for c in opts["match_choices"] if c != new["match_code"])
        answer = self.post("/auth_masterkey/phone/login/answer",
                           {"rid": new["rid"], **phone.answer_payload(opts, match_code=wrong)}, headers={"Origin": origin})
        self.assert_error(answer, 403, "wrong_match_code")
        again = self.post("/auth_masterkey/phone/login/answer",
                          {"rid": new["rid"], **phone.answer_payload(opts, match_code=new["match_code"])},
                          headers={"Origin": origin})
        self.assert_error(again, 409, "replayed")  # one pick only: the request is now denied
        self.assertEqual(self.env["auth.masterkey.request"].search([("public_id", "=", new["rid"])]).state, "denied")
        failures = self.env["auth.masterkey.audit"].search([("request_ref", "=", new["rid"]), ("result", "=", "failure")])
        self.assertTrue(failures)

    def answer(self, origin, phone, expect=200):
        new = self.post("/auth_masterkey/login/new").json()
        opts = self.post("/auth_masterkey/phone/login/options", {"rid": new["rid"], "enrolment": phone.enrolment_id},
                         headers={"Origin": origin}).json()
        response = self.post("/auth_masterkey/phone/login/answer", {"rid": new["rid"], **phone.answer_payload(opts)},
                             headers={"Origin": origin})
        self.assertEqual(response.status_code, expect, response.text)
        if expect == 200:
            phone.apply_rotation(response.json()["rotation"], new["rid"])
        return response

    def test_cloned_phone_is_refused_and_the_enrolment_revoked(self):
        origin = self.base_url()
        phone = self.enrol_admin(origin)
        clone = SoftPhone(origin=origin, rp_id="127.0.0.1")
        clone.__dict__.update({k: v for k, v in phone.__dict__.items() if k != "_pending"})
        self.answer(origin, phone)
        self.answer(origin, phone)  # the real phone moved on: the copy's share is superseded
        refused = self.answer(origin, clone, expect=403)
        self.assertEqual(refused.json()["error"], "cloned_share")
        enrolment = self.env["auth.masterkey.enrolment"].sudo().search([("public_id", "=", phone.enrolment_id)])
        self.assertEqual(enrolment.state, "revoked")
        self.assertTrue(self.env["auth.masterkey.audit"].search([("event", "=", "clone_suspected"),
                                                                  ("enrolment_ref", "=", phone.enrolment_id)]))

    def test_coexists_with_odoo_totp(self):
        """Two factors replace Odoo's TOTP step; one factor leaves it in force."""
        if "totp_secret" not in self.env["res.users"]._fields:
            self.skipTest("auth_totp is not installed in this database")
        origin = self.base_url()
        phone = self.enrol_admin(origin)
        self.env.ref("base.user_admin").sudo().totp_secret = "JBSWY3DPEHPK3PXP"
        icp = self.env["ir.config_parameter"].sudo()
        for factors, expected in (("1", "/web/login/totp"), ("2", "/odoo")):
            icp.set_param("auth_masterkey.required_factors", factors)
            self.opener.cookies.clear()
            new = self.post("/auth_masterkey/login/new").json()
            opts = self.post("/auth_masterkey/phone/login/options",
                             {"rid": new["rid"], "enrolment": phone.enrolment_id}, headers={"Origin": origin}).json()
            answer = self.post("/auth_masterkey/phone/login/answer", {"rid": new["rid"], **phone.answer_payload(opts)},
                               headers={"Origin": origin})
            self.assertEqual(answer.status_code, 200, answer.text)
            phone.apply_rotation(answer.json()["rotation"], new["rid"])
            session = self.url_open("/auth_masterkey/login/session", data={"rid": new["rid"]}, allow_redirects=False)
            self.assertIn(expected, session.headers["Location"], factors)

    def test_enrolment_waits_for_the_computer_that_showed_the_code(self):
        origin = self.base_url()
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("web.base.url", origin)
        icp.set_param("auth_masterkey.rp_id", "127.0.0.1")
        session = self.authenticate("admin", "admin")
        session["identity-check-last"] = time.time()
        odoo.http.root.session_store.save(session)
        page = self.url_open("/auth_masterkey/enrol").text
        rid = re.search(r'data-rid="([^"]+)"', page).group(1)
        token = re.search(r"[&;]t=([A-Za-z0-9_-]{20,})", page).group(1)
        phone = SoftPhone(origin=origin, rp_id="127.0.0.1")
        options = self.post("/auth_masterkey/phone/enrol/options", {"rid": rid, "token": token},
                            headers={"Origin": origin}).json()
        finish = self.post("/auth_masterkey/phone/enrol/finish", {"rid": rid, "token": token,
                                                                  **phone.enrol_payload(options)}, headers={"Origin": origin})
        code = finish.json()["confirm_code"]
        status = self.post("/auth_masterkey/enrol/status", {"rid": rid}).json()
        self.assertEqual((status["state"], status["code"], status["phone"]), ("confirm", code, "Test phone"))
        # not a login method until the computer confirms
        new = self.post("/auth_masterkey/login/new").json()
        self.assert_error(self.post("/auth_masterkey/phone/login/options",
                                    {"rid": new["rid"], "enrolment": phone.enrolment_id}, headers={"Origin": origin}), 403)
        self.assertEqual(self.post("/auth_masterkey/enrol/confirm", {"rid": rid, "accept": True}).status_code, 200)
        self.assertEqual(self.post("/auth_masterkey/enrol/status", {"rid": rid}).json()["state"], "done")
        self.assert_error(self.post("/auth_masterkey/enrol/confirm", {"rid": rid, "accept": True}), 409)
        enrolment = self.env["auth.masterkey.enrolment"].sudo().search([("public_id", "=", phone.enrolment_id)])
        self.assertEqual(enrolment.state, "active")

    def test_totp_attempts_are_audited(self):
        if "totp_secret" not in self.env["res.users"]._fields:
            self.skipTest("auth_totp is not installed in this database")
        from odoo.addons.auth_totp.models.totp import hotp
        secret = "JBSWY3DPEHPK3PXP"
        self.env.ref("base.user_admin").sudo().totp_secret = secret

        def post_form(path, **fields):
            page = self.url_open(path).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            return self.url_open(path, data={"csrf_token": token, **fields})

        self.assertIn("/web/login/totp", post_form("/web/login", login="admin", password="admin").url)
        post_form("/web/login/totp", totp_token="000000")
        import base64
        code = hotp(base64.b32decode(secret), int(time.time() // 30))
        self.assertIn("/odoo", post_form("/web/login/totp", totp_token=f"{code:06d}").url)
        events = self.env["auth.masterkey.audit"].search([("method", "=", "totp")], order="id")
        self.assertEqual(events.mapped("result"), ["failure", "success"])

    def test_full_login_over_http(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("web.base.url", self.base_url())
        origin = self.base_url()
        user = self.env.ref("base.user_admin")
        phone = self.enrol_admin(origin)
        new = self.post("/auth_masterkey/login/new").json()
        opts = self.post("/auth_masterkey/phone/login/options", {"rid": new["rid"], "enrolment": phone.enrolment_id},
                         headers={"Origin": origin}).json()
        self.assertTrue(opts["same_browser"])
        answer = self.post("/auth_masterkey/phone/login/answer", {"rid": new["rid"], **phone.answer_payload(opts)},
                           headers={"Origin": origin})
        self.assertEqual(answer.status_code, 200, answer.text)
        phone.apply_rotation(answer.json()["rotation"], new["rid"])
        # replaying the same answer is refused
        replay = self.post("/auth_masterkey/phone/login/answer", {"rid": new["rid"], **phone.answer_payload(opts)},
                           headers={"Origin": origin})
        self.assert_error(replay, 409, "replayed")
        session = self.url_open("/auth_masterkey/login/session", data={"rid": new["rid"]}, allow_redirects=False)
        self.assertEqual(session.status_code, 303)
        self.assertIn("/odoo", session.headers["Location"])
        info = self.url_open("/web/session/get_session_info", data=json.dumps({"jsonrpc": "2.0", "params": {}}),
                             headers={"Content-Type": "application/json"}).json()["result"]
        self.assertEqual(info["uid"], user.id)
