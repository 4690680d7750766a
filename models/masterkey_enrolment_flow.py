"""Enrolment of a phone: QR on the workstation, share + device key (+ WebAuthn) on the phone."""

import hmac
import secrets

from odoo import api, fields, models

from ..masterkey_core import challenge, device, envelope, errors, p256, policy, shares, webauthn
from ..masterkey_core.codec import b64url_decode, b64url_encode, require_int
from . import masterkey_settings as settings
from .masterkey_request import secret_hash

MAX_LABEL = 64


class MasterKeyEnrolmentFlow(models.Model):
    _inherit = "auth.masterkey.request"

    enrolment_ref = fields.Char()  # the enrolment id reserved for this enrolment request

    @api.model
    def _enrol_start(self, user, browser_secret, ip=None, agent=None):
        token = secrets.token_urlsafe(24)
        rec = self._new("enrol", browser_secret, settings.ENROL_TTL, ip=ip, agent=agent, user=user, token=token)
        rec.enrolment_ref = challenge.new_request_id()
        return rec, token

    def _check_token(self, token):
        if not isinstance(token, str) or not hmac.compare_digest(self.token_hash or "", secret_hash(token)):
            raise errors.MalformedInput("Unknown or expired request.")

    def _enrol_options(self, token):
        self._check_token(token)
        if self.state != "pending":  # one scan only: a second phone cannot take the enrolment over
            raise errors.Replayed()
        ring = settings.keyring(self.env)
        rp = settings.relying_party(self.env)
        key, value = self._issue_challenge(ring)
        self.state = "scanned"
        user = self.user_id
        required = settings.required_factors(self.env, user)
        return {
            "rid": self.public_id, "enrolment": self.enrolment_ref, "challenge": value.b64,
            "server_key": b64url_encode(p256.public_bytes(key)), "user": user.name, "login": user.login,
            "required_factors": required, "biometric_required": required >= policy.BIOMETRIC,
            "webauthn": webauthn.registration_options(
                rp, user_handle=f"odoo-uid-{user.id}".encode(), user_name=user.login, display_name=user.name,
                challenge=b64url_decode(value.b64, "challenge"),
                exclude_ids=[c for c in user.masterkey_enrolment_ids.sudo().mapped("webauthn_credential_id") if c],
                # an AAGUID allow-list needs the authenticator's attestation, which 'none' strips
                attestation="direct" if _aaguid_allowlist(self.env) else "none"),
        }

    def _enrol_finish(self, token, payload, origin, ip=None):
        self._check_token(token)
        payload, ring, rp, key, challenge_b64 = self._open_answer(payload, origin, "enrolment")
        device_key = device.normalize_public_key(b64url_decode(payload.get("device_key"), "device key", length=65))
        device.verify(device_key, b64url_decode(payload.get("signature"), "signature", length=64), purpose="enrol",
                      request_id=self.public_id, enrolment_id=self.enrolment_ref, challenge_b64=challenge_b64,
                      origin=origin, timestamp_ms=require_int(payload, "timestamp", maximum=2**48))
        share, gen, _epk = envelope.open_from_phone(payload.get("envelope"), server_private_key=key, purpose="enrol",
                                                    request_id=self.public_id, enrolment_id=self.enrolment_ref)
        if gen != 0:
            raise errors.MalformedInput("A new enrolment starts at generation 0.")
        credential = None
        if payload.get("webauthn") is not None:
            credential = webauthn.verify_registration(
                rp, payload["webauthn"], b64url_decode(challenge_b64, "challenge"),
                aaguid_allowlist=_aaguid_allowlist(self.env))
        elif settings.required_factors(self.env, self.user_id) >= policy.BIOMETRIC:
            raise errors.PolicyError("Your administrator requires a biometric credential on the phone.")
        label = payload.get("label") if isinstance(payload.get("label"), str) else ""
        label = "".join(ch for ch in label if ch.isprintable()).strip()[:MAX_LABEL] or "Phone"
        Enrolment = self.env["auth.masterkey.enrolment"].sudo()
        enrolment = Enrolment.new({"public_id": self.enrolment_ref})
        values = {"name": label, "user_id": self.user_id.id, "public_id": self.enrolment_ref,
                  "device_public_key": b64url_encode(device_key), "enrolled_from_ip": (ip or "")[:64],
                  **enrolment._share_values(shares.enrol(self.enrolment_ref, share), ring)}
        if credential:
            values.update(has_biometric=True, webauthn_credential_id=credential.credential_id,
                          webauthn_public_key=b64url_encode(credential.public_key),
                          webauthn_sign_count=credential.sign_count, webauthn_aaguid=credential.aaguid)
        # Not a login method yet: the computer that showed the QR code must confirm this phone
        # (its name and the code it shows), so whoever else scans the code first gains nothing.
        enrolment = Enrolment.create({**values, "state": "pending"})
        self.write({"state": "confirm", "enrolment_id": enrolment.id})
        return enrolment

    def _enrol_confirm(self, accept):
        """The workstation's answer: the enrolment becomes active, or is wiped."""
        if self.state != "confirm" or self.enrolment_id.state != "pending":
            raise errors.Replayed()
        enrolment = self.enrolment_id.sudo()
        if not accept:
            enrolment.action_revoke()
            self.state = "denied"
            return enrolment
        enrolment.state = "active"
        self.state = "done"
        # Changing the user's phones ends their other sessions (the confirming one is kept).
        self.user_id._masterkey_bump_session_epoch()
        return enrolment


def _aaguid_allowlist(env):
    raw = settings.param(env, "aaguid_allowlist") or ""
    return {item.strip().lower() for item in raw.split(",") if item.strip()} or None
