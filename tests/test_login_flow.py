from unittest.mock import patch

from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tests import tagged

from ..masterkey_core import errors
from ..models import masterkey_settings
from .common import ORIGIN, MasterKeyCase, SoftPhone


@tagged("post_install", "-at_install")
class TestLoginFlow(MasterKeyCase):

    def test_enrolment_stores_no_share_in_clear(self):
        phone, enrolment = self.enrol()
        row = enrolment.sudo().read(["verifier", "share_current", "device_public_key", "has_biometric"])[0]
        self.assertTrue(row["share_current"].startswith("mk1."))
        from ..masterkey_core.codec import b64url_encode
        self.cr.execute("SELECT row_to_json(e)::text FROM auth_masterkey_enrolment e WHERE id = %s", (enrolment.id,))
        dump = self.cr.fetchone()[0]
        self.assertNotIn(b64url_encode(phone.share), dump)
        self.assertNotIn(phone.share.hex(), dump)
        self.assertTrue(row["has_biometric"])

    def test_login_consumes_once_for_the_right_browser_only(self):
        phone, enrolment = self.enrol()
        rec, _recovered = self.login(phone, enrolment, browser="ws-secret")
        self.assertEqual(rec.state, "approved")
        self.assertEqual(rec.passed_factors, 2)
        with self.assertRaises(AccessDenied):
            self.Request._consume_for_login(rec.public_id, "other-browser")
        consumed = self.Request._consume_for_login(rec.public_id, "ws-secret")
        self.assertEqual(consumed.user_id, self.user)
        with self.assertRaises(AccessDenied):
            self.Request._consume_for_login(rec.public_id, "ws-secret")

    def test_check_credentials_masterkey(self):
        phone, enrolment = self.enrol()
        rec, _ = self.login(phone, enrolment)
        info = self.user.with_user(self.user)._check_credentials(
            {"type": "masterkey", "masterkey_request": rec.public_id, "masterkey_browser_secret": "ws-secret"},
            {"interactive": True})
        self.assertEqual(info["uid"], self.user.id)
        self.assertEqual(info["mfa"], "skip")
        other = self.env["res.users"].create({"name": "Other", "login": "other_mk"})
        rec2, _ = self.login(phone, enrolment)
        with self.assertRaises(AccessDenied):  # an approval for one user never logs in another
            other.with_user(other)._check_credentials(
                {"type": "masterkey", "masterkey_request": rec2.public_id, "masterkey_browser_secret": "ws-secret"},
                {"interactive": True})

    def test_one_factor_login_leaves_odoo_mfa_in_force(self):
        self.env["ir.config_parameter"].set_param("auth_masterkey.required_factors", "1")
        phone, enrolment = self.enrol(biometric=False)
        rec, _ = self.login(phone, enrolment)
        self.assertEqual(rec.passed_factors, 1)  # policy 1: the split credential alone
        info = self.user.with_user(self.user)._check_credentials(
            {"type": "masterkey", "masterkey_request": rec.public_id, "masterkey_browser_secret": "ws-secret"}, {})
        self.assertEqual(info["mfa"], "default")

    def test_shares_rotate_and_lost_reply_recovers(self):
        phone, enrolment = self.enrol()
        self.login(phone, enrolment)
        self.assertEqual(phone.gen, 1)
        # lose the next reply: the phone keeps gen 1
        rec = self.Request._new("login", "ws", 120)
        options = rec._phone_options(enrolment, ORIGIN)
        rec._phone_answer(phone.answer_payload(options, match_code=rec.match_code), ORIGIN)
        _rec, recovered = self.login(phone, enrolment)
        self.assertTrue(recovered)

    def test_cloned_share_is_detected(self):
        phone, enrolment = self.enrol()
        clone = SoftPhone()
        clone.__dict__.update({k: v for k, v in phone.__dict__.items() if k != "_pending"})
        self.login(phone, enrolment)
        self.login(phone, enrolment)  # phone moved on twice: the clone's gen 0 is superseded
        with self.assertRaises(errors.ClonedShareSuspected):
            self.login(clone, enrolment)

    def test_three_factors_need_user_verification(self):
        self.env["ir.config_parameter"].set_param("auth_masterkey.required_factors", "3")
        phone, enrolment = self.enrol()
        rec, _ = self.login(phone, enrolment)
        self.assertEqual(rec.passed_factors, 3)
        with self.assertRaises(errors.UserNotVerified):
            self.login(phone, enrolment, uv=False)

    def test_three_factors_refuse_phone_without_biometric(self):
        phone, enrolment = self.enrol(biometric=False)
        self.env["ir.config_parameter"].set_param("auth_masterkey.required_factors", "3")
        with self.assertRaises(errors.PolicyError):
            self.login(phone, enrolment)

    def test_stricter_group(self):
        icp = self.env["ir.config_parameter"]
        icp.set_param("auth_masterkey.required_factors", "1")
        icp.set_param("auth_masterkey.strict_group_id", str(self.env.ref("base.group_user").id))
        icp.set_param("auth_masterkey.strict_group_factors", "3")
        self.assertEqual(masterkey_settings.required_factors(self.env, self.user), 3)
        icp.set_param("auth_masterkey.strict_group_id", str(self.env.ref("base.group_system").id))
        self.assertEqual(masterkey_settings.required_factors(self.env, self.user), 1)

    def test_wrong_match_code_and_replay(self):
        phone, enrolment = self.enrol()
        rec = self.Request._new("login", "ws", 120)
        options = rec._phone_options(enrolment, ORIGIN)
        wrong = "00" if rec.match_code != "00" else "11"
        with self.assertRaises(errors.VerificationFailed):
            rec._phone_answer(phone.answer_payload(options, match_code=wrong), ORIGIN)
        rec._burn_challenge()  # what the controller does after rolling the failed answer back
        with self.assertRaises(errors.Replayed):  # the challenge was taken: no second try on it
            rec._phone_answer(phone.answer_payload(options, match_code=rec.match_code), ORIGIN)

    def test_deny(self):
        phone, enrolment = self.enrol()
        rec = self.Request._new("login", "ws", 120)
        options = rec._phone_options(enrolment, ORIGIN)
        rec._phone_answer(phone.answer_payload(options, approve=False), ORIGIN, approve=False)
        self.assertEqual(rec.state, "denied")
        with self.assertRaises(AccessDenied):
            self.Request._consume_for_login(rec.public_id, "ws")

    def test_wrong_origin(self):
        phone, enrolment = self.enrol()
        rec = self.Request._new("login", "ws", 120)
        options = rec._phone_options(enrolment, ORIGIN)
        with self.assertRaises(errors.OriginMismatch):
            rec._phone_answer(phone.answer_payload(options, match_code=rec.match_code), "https://phish.example")

    def test_revoke_wipes_secrets_and_blocks_login(self):
        phone, enrolment = self.enrol()
        epoch = self.user.sudo().masterkey_session_epoch
        enrolment.with_user(self.user).action_revoke()
        self.assertEqual(enrolment.state, "revoked")
        self.assertFalse(enrolment.sudo().share_current)
        self.assertGreater(self.user.sudo().masterkey_session_epoch, epoch)
        self.assertFalse(self.env["auth.masterkey.enrolment"]._find_active(enrolment.public_id))

    def test_users_manage_only_their_phones(self):
        _phone, enrolment = self.enrol()
        other = self.env["res.users"].create({"name": "Other", "login": "other_mk2",
                                              "groups_id": [(6, 0, [self.env.ref("base.group_user").id])]})
        self.assertFalse(self.env["auth.masterkey.enrolment"].with_user(other).search([]))
        with self.assertRaises(AccessError):
            enrolment.with_user(other).action_revoke()
        with self.assertRaises(AccessError):
            enrolment.with_user(self.user).write({"state": "active", "user_id": other.id})
        enrolment.with_user(self.user).write({"name": "Renamed"})
        self.assertEqual(enrolment.name, "Renamed")
        with self.assertRaises(UserError):
            enrolment.sudo().unlink()

    def test_admin_reset(self):
        self.enrol()
        self.enrol()
        self.assertEqual(len(self.user.masterkey_enrolment_ids), 2)
        self.user.with_user(self.env.ref("base.user_admin")).action_masterkey_reset()
        self.assertFalse(self.user.masterkey_enrolment_ids)
        with self.assertRaises(AccessDenied):
            self.user.with_user(self.user).action_masterkey_reset()

    def test_enrolment_token_and_replay(self):
        rec, token = self.Request._enrol_start(self.user, "ws")
        with self.assertRaises(errors.MalformedInput):
            rec._enrol_options("wrong-token")
        options = rec._enrol_options(token)
        with self.assertRaises(errors.Replayed):  # one scan: a second phone cannot take it over
            rec._enrol_options(token)
        phone = SoftPhone()
        rec._enrol_finish(token, phone.enrol_payload(options), ORIGIN, "10.1.2.3")
        self.assertEqual(rec.enrolment_id.enrolled_from_ip, "10.1.2.3")  # the phone's address
        self.assertFalse(self.env["auth.masterkey.enrolment"]._find_active(phone.enrolment_id))  # not confirmed
        rec._enrol_confirm(False)  # the computer rejects it
        self.assertEqual(rec.enrolment_id.state, "revoked")
        self.assertFalse(rec.enrolment_id.sudo().share_current)
        with self.assertRaises(errors.Replayed):
            rec._enrol_finish(token, phone.enrol_payload(options), ORIGIN)


@tagged("post_install", "-at_install")
class TestPasswordPolicy(MasterKeyCase):

    def check_password(self, login=True, interactive=True):
        credential = {"type": "password", "password": "phone_user_pw1"}
        if login:
            credential["masterkey_is_login"] = True  # set by res.users._login
        return self.user.with_user(self.user)._check_credentials(credential, {"interactive": interactive})

    def test_policies(self):
        icp = self.env["ir.config_parameter"]
        icp.set_param("auth_masterkey.password_policy", "without_phone")
        self.assertTrue(self.check_password())
        self.enrol()
        with self.assertRaises(AccessDenied):
            self.check_password()
        icp.set_param("auth_masterkey.password_policy", "never")
        with self.assertRaises(AccessDenied):
            self.check_password()
        with self.assertRaises(AccessDenied):  # password RPC (XML-RPC/JSON-RPC) follows the policy
            self.check_password(login=False, interactive=False)
        self.assertTrue(self.check_password(login=False))  # Odoo's identity check still works
        with patch.dict(masterkey_settings.config.options, {"masterkey_allow_password_login": "True"}):
            self.assertTrue(self.check_password())
        icp.set_param("auth_masterkey.password_policy", "always")
        self.assertTrue(self.check_password())

    def test_wrong_password_reveals_nothing_about_the_policy(self):
        self.env["ir.config_parameter"].set_param("auth_masterkey.password_policy", "never")
        with self.assertRaises(AccessDenied) as caught:
            self.user.with_user(self.user)._check_credentials({"type": "password", "password": "wrong"}, {})
        self.assertNotIn("phone", str(caught.exception))


@tagged("post_install", "-at_install")
class TestRequestCleanup(MasterKeyCase):

    def test_expired_requests_leave_an_audit_event(self):
        rec = self.Request._new("login", "ws", 120)
        rid = rec.public_id
        done = self.Request._new("login", "ws", 120)
        done.state = "consumed"
        self.cr.execute("UPDATE auth_masterkey_request SET expires_at = now() - interval '2 hours' WHERE id IN %s",
                        ((rec.id, done.id),))
        self.Request.invalidate_model()
        self.Request._gc()
        self.assertFalse(self.Request.search([("id", "in", [rec.id, done.id])]))
        events = self.env["auth.masterkey.audit"].search([("event", "=", "qr_expired")])
        self.assertEqual(events.mapped("request_ref"), [rid])
