"""Short-lived MasterKey requests: a QR/phone login or a phone enrolment.

Everything a login needs between HTTP calls lives in this table (not in process memory), so
any worker of any server can answer any step. State changes take a row lock, so an approval
is consumed once, by the browser that created the request.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied

from ..masterkey_core import challenge, device, envelope, errors, p256, policy, shares, webauthn
from ..masterkey_core.codec import b64url_decode, b64url_encode, require_dict, require_int, require_str
from . import masterkey_settings as settings

_logger = logging.getLogger(__name__)
CHALLENGE_TTL = 120


def secret_hash(value):
    return hashlib.sha256((value or "").encode("utf-8")).hexdigest()


class MasterKeyRequest(models.Model):
    _name = "auth.masterkey.request"
    _description = "MasterKey login or enrolment request"
    _order = "id desc"

    public_id = fields.Char(required=True, index=True, default=lambda self: challenge.new_request_id())
    purpose = fields.Selection([("login", "Login"), ("enrol", "Enrolment")], required=True)
    state = fields.Selection([
        ("pending", "Waiting for the phone"), ("scanned", "Phone is answering"), ("approved", "Approved"),
        ("denied", "Denied"), ("consumed", "Used"), ("confirm", "Waiting for the computer's confirmation"),
        ("done", "Enrolled")], default="pending", required=True)
    user_id = fields.Many2one("res.users", ondelete="cascade", index=True)
    enrolment_id = fields.Many2one("auth.masterkey.enrolment", ondelete="cascade")
    browser_secret_hash = fields.Char(required=True)
    token_hash = fields.Char()  # enrolment QR token
    match_code = fields.Char()
    match_choices = fields.Char()  # fixed per request: reloading the page shows the same three
    expires_at = fields.Datetime(required=True, index=True)
    challenge = fields.Char()
    challenge_expires_at = fields.Datetime()
    server_key = fields.Char()  # encrypted P-256 scalar of this request
    required_factors = fields.Integer()
    passed_factors = fields.Integer()
    requester_ip = fields.Char()
    requester_agent = fields.Char()
    approved_at = fields.Datetime()
    consumed_at = fields.Datetime()

    _sql_constraints = [("public_id_unique", "UNIQUE(public_id)", "Request ids are unique.")]

    # -- lifecycle --------------------------------------------------------------------------
    @api.model
    def _new(self, purpose, browser_secret, ttl, ip=None, agent=None, user=None, token=None):
        code = f"{secrets.randbelow(90) + 10}"
        return self.sudo().create({
            "purpose": purpose, "browser_secret_hash": secret_hash(browser_secret),
            "expires_at": fields.Datetime.now() + timedelta(seconds=ttl),
            "match_code": code, "match_choices": ",".join(_shuffled_choices(code)), "requester_ip": (ip or "")[:64],
            "requester_agent": (agent or "")[:512], "user_id": user.id if user else False,
            "token_hash": secret_hash(token) if token else False,
        })

    @api.model
    def _locked(self, public_id, purpose):
        """The live request with a row lock, or MalformedInput/Expired as typed errors."""
        if not isinstance(public_id, str) or not 8 <= len(public_id) <= 64 or "\x00" in public_id:
            raise errors.MalformedInput("Unknown or expired request.")
        self.env.cr.execute("SELECT id FROM auth_masterkey_request WHERE public_id = %s AND purpose = %s FOR UPDATE",
                            (public_id, purpose))
        row = self.env.cr.fetchone()
        if not row:
            raise errors.MalformedInput("Unknown or expired request.")
        rec = self.sudo().browse(row[0])
        rec.invalidate_recordset()
        if rec.expires_at < fields.Datetime.now():
            raise errors.Expired()
        return rec

    def _belongs_to_browser(self, browser_secret):
        return hmac.compare_digest(self.browser_secret_hash, secret_hash(browser_secret))

    def _issue_challenge(self, ring):
        key = p256.new_private_key()
        value = challenge.new_challenge(self.purpose, CHALLENGE_TTL)
        self.write({"challenge": value.b64, "server_key": ring.seal(p256.private_scalar(key), self._key_context()),
                    "challenge_expires_at": fields.Datetime.now() + timedelta(seconds=CHALLENGE_TTL)})
        return key, value

    def _key_context(self):
        return f"request:{self.public_id}:server_key"

    def _take_challenge(self, ring):
        """The request's challenge and server key, once: cleared as they are read."""
        if not self.challenge or not self.server_key:
            raise errors.Replayed()
        if self.challenge_expires_at < fields.Datetime.now():
            raise errors.Expired()
        key = p256.private_from_scalar(ring.open(self.server_key, self._key_context()))
        value = self.challenge
        self.write({"challenge": False, "server_key": False})
        return key, value

    # -- login: phone side -------------------------------------------------------------------
    def _phone_options(self, enrolment, origin):
        """Bind this login request to a phone's enrolment and hand it a fresh challenge."""
        if self.state not in ("pending", "scanned") or (self.enrolment_id and self.enrolment_id != enrolment):
            raise errors.Replayed()
        ring = settings.keyring(self.env)
        user = enrolment.user_id
        required = settings.required_factors(self.env, user)
        key, value = self._issue_challenge(ring)
        self.write({"state": "scanned", "enrolment_id": enrolment.id, "user_id": user.id,
                    "required_factors": required})
        result = {"rid": self.public_id, "enrolment": enrolment.public_id, "challenge": value.b64,
                  "server_key": b64url_encode(p256.public_bytes(key)), "required_factors": required}
        if required >= policy.BIOMETRIC:
            cred = enrolment._webauthn_credential()
            if not cred:
                raise errors.PolicyError("Three factors are required but this phone has no biometric credential; "
                                         "enrol it again.")
            result["webauthn"] = webauthn.authentication_options(
                settings.relying_party(self.env), challenge=b64url_decode(value.b64, "challenge"),
                allow_ids=[cred.credential_id])
        return result

    def _open_answer(self, payload, origin, field):
        """Start of any phone answer: a JSON object, a request waiting for it, an allowed
        origin; returns (payload, keyring, relying party, request key, challenge), the
        challenge and key taken for good (single use)."""
        payload = require_dict(payload, field)
        if self.state != "scanned":
            raise errors.Replayed()
        ring = settings.keyring(self.env)
        rp = settings.relying_party(self.env)
        if origin not in rp.origins:
            raise errors.OriginMismatch()
        key, challenge_b64 = self._take_challenge(ring)
        return payload, ring, rp, key, challenge_b64

    def _phone_answer(self, payload, origin, approve=True, same_browser=False):
        """Verify the factors the policy requires; approve (or deny) and rotate the shares."""
        payload, ring, rp, key, challenge_b64 = self._open_answer(payload, origin, "answer")
        enrolment = self.enrolment_id.sudo()
        if enrolment.state != "active":
            raise errors.VerificationFailed("This phone's enrolment was revoked.")
        results = []
        # A denial is always signed by the device key: nobody else may cancel the request.
        # An approval needs the signature when the policy asks for two factors or more.
        if not approve or self.required_factors >= policy.DEVICE_SIGNATURE:
            device.verify(b64url_decode(enrolment.device_public_key, "device key"),
                          b64url_decode(payload.get("signature"), "signature", length=64),
                          purpose="approve" if approve else "deny", request_id=self.public_id,
                          enrolment_id=enrolment.public_id, challenge_b64=challenge_b64, origin=origin,
                          timestamp_ms=require_int(payload, "timestamp", maximum=2**48))
            results.append(policy.FactorResult(policy.DEVICE_SIGNATURE, True))
        if not approve:
            self.write({"state": "denied"})
            return None, False
        if not same_browser:
            code = require_str(payload, "match_code", max_length=8)
            if not hmac.compare_digest(code, self.match_code or ""):
                raise errors.WrongMatchCode()
        share, gen, epk = envelope.open_from_phone(payload.get("envelope"), server_private_key=key,
                                                   purpose="login", request_id=self.public_id,
                                                   enrolment_id=enrolment.public_id)
        login = shares.login(enrolment._load_share_state(ring), share, gen)
        results.append(policy.FactorResult(policy.SPLIT_CREDENTIAL, True))
        values = {}
        if self.required_factors >= policy.BIOMETRIC:
            cred = enrolment._webauthn_credential()
            outcome = webauthn.verify_assertion(rp, payload.get("webauthn"), b64url_decode(challenge_b64, "c"), cred)
            values["webauthn_sign_count"] = outcome.sign_count
            results.append(policy.FactorResult(policy.BIOMETRIC, outcome.user_verified))
        decision = policy.evaluate(self.required_factors, results)
        if not decision.allowed:
            raise errors.VerificationFailed("; ".join(decision.reasons))
        values.update(enrolment._share_values(login.state, ring))
        values.update(last_login=fields.Datetime.now(), login_count=enrolment.login_count + 1)
        enrolment.write(values)
        self.write({"state": "approved", "approved_at": fields.Datetime.now(),
                    "passed_factors": decision.passed_count})
        return envelope.seal_for_phone(server_private_key=key, phone_pub=epk, request_id=self.public_id,
                                       enrolment_id=enrolment.public_id, gen=login.rotation_gen,
                                       plaintext=login.rotation_delta), login.recovered

    def _burn_challenge(self):
        """After a failed answer (whose transaction was rolled back): the challenge stays used."""
        self.sudo().write({"challenge": False, "server_key": False})

    # -- login: workstation side --------------------------------------------------------------
    def _status_for_browser(self, browser_secret):
        """What the workstation that created the request may know: its state."""
        if not self._belongs_to_browser(browser_secret):
            raise errors.MalformedInput("Unknown or expired request.")
        if self.state in ("pending", "scanned") and self.expires_at < fields.Datetime.now():
            return "expired"
        return self.state

    @api.model
    def _consume_for_login(self, public_id, browser_secret):
        """Called from res.users._check_credentials: approved -> consumed, once, same browser."""
        try:
            rec = self._locked(public_id, "login")
        except errors.MasterKeyError as exc:
            raise AccessDenied(exc.message) from None
        if rec.state != "approved" or not rec._belongs_to_browser(browser_secret):
            raise AccessDenied(_("This login request is not approved for this browser."))
        if rec.enrolment_id.state != "active":  # revoked between approval and use
            raise AccessDenied(_("This phone was revoked."))
        rec.write({"state": "consumed", "consumed_at": fields.Datetime.now()})
        return rec

    @api.model
    def _gc(self):
        """Drop requests an hour after they expired; the audit log keeps their history, with
        an 'expired' event for each one nobody finished."""
        old = self.sudo().search([("expires_at", "<", fields.Datetime.now() - timedelta(hours=1))])
        unfinished = old.filtered(lambda r: r.state in ("pending", "scanned", "confirm"))
        # a phone never confirmed on the computer never becomes a login method
        unfinished.enrolment_id.filtered(lambda e: e.state == "pending").sudo().action_revoke()
        if unfinished:
            self.env["auth.masterkey.audit"]._record_many([{
                "event": "qr_expired" if r.purpose == "login" else "enrolment_expired", "user_id": r.user_id.id,
                "method": "masterkey", "result": "info", "request_ref": r.public_id, "ip": r.requester_ip or "",
                "user_agent": r.requester_agent or "", "session_ref": ""} for r in unfinished])
        old.unlink()


def _shuffled_choices(code):
    """The right code among two decoys (number matching on the phone), fixed at creation."""
    choices = {code}
    while len(choices) < 3:
        choices.add(f"{secrets.randbelow(90) + 10}")
    return sorted(choices, key=lambda _c: secrets.randbelow(1 << 30))
