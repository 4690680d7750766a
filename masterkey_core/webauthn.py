"""Factor 3: FIDO2/WebAuthn platform credential with user verification required.

Built on python-fido2 2.x data classes (CBOR, authenticator data, COSE keys, attestation
formats); the checks themselves are spelled out here so each failure has its own typed error.
Credential ids travel as base64url without padding.
"""

import hmac
import json
import uuid
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from fido2 import cbor
from fido2.attestation import Attestation
from fido2.cose import CoseKey
from fido2.webauthn import AttestationObject, AuthenticatorData

from . import attestation_formats
from .codec import b64url_decode, b64url_encode, require_dict, require_str
from .errors import (
    AttestationRejected, InvalidSignature, MalformedInput, OriginMismatch, RpIdMismatch, SignCountClone,
    UserNotPresent, UserNotVerified, VerificationFailed,
)

# ES256, EdDSA, RS256: what platform authenticators produce.
ALGORITHMS = (-7, -8, -257)
MAX_CREDENTIAL_ID = 1023  # WebAuthn's own limit
TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origins: tuple
    name: str = "Odoo"

    def __post_init__(self):
        if not self.rp_id or "/" in self.rp_id or ":" in self.rp_id:
            raise MalformedInput("RP ID must be a bare host name")
        if not self.origins:
            raise MalformedInput("at least one allowed origin is required")

    @property
    def rp_id_hash(self):
        return sha256(self.rp_id.encode("idna")).digest()


@dataclass(frozen=True)
class Credential:
    credential_id: str  # base64url, no padding
    public_key: bytes  # COSE key, CBOR
    sign_count: int
    aaguid: str
    attestation_format: str
    backup_eligible: bool


@dataclass(frozen=True)
class AssertionResult:
    credential_id: str
    sign_count: int
    user_verified: bool


def registration_options(rp, *, user_handle, user_name, display_name, challenge, exclude_ids=(),
                         attestation="none"):
    """Options for navigator.credentials.create, binary fields base64url (the page decodes)."""
    return {
        "rp": {"id": rp.rp_id, "name": rp.name},
        "user": {"id": b64url_encode(user_handle), "name": user_name, "displayName": display_name},
        "challenge": b64url_encode(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in ALGORITHMS],
        "timeout": TIMEOUT_MS,
        "excludeCredentials": [{"type": "public-key", "id": cid} for cid in exclude_ids],
        "authenticatorSelection": {"authenticatorAttachment": "platform", "residentKey": "preferred",
                                   "userVerification": "required"},
        "attestation": attestation,
    }


def authentication_options(rp, *, challenge, allow_ids):
    return {
        "rpId": rp.rp_id,
        "challenge": b64url_encode(challenge),
        "timeout": TIMEOUT_MS,
        "allowCredentials": [{"type": "public-key", "id": cid} for cid in allow_ids],
        "userVerification": "required",
    }


def _client_data(rp, raw, expected_type, expected_challenge):
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedInput("clientDataJSON: not valid JSON") from exc
    data = require_dict(data, "clientDataJSON")
    if data.get("type") != expected_type:
        raise MalformedInput("clientDataJSON: wrong ceremony type")
    challenge = b64url_decode(data.get("challenge"), "clientDataJSON challenge")
    if not hmac.compare_digest(challenge, expected_challenge):
        raise VerificationFailed("The authenticator answered another challenge.")
    if data.get("origin") not in rp.origins:
        raise OriginMismatch()
    if data.get("crossOrigin") is True:
        raise OriginMismatch("Cross-origin (iframe) WebAuthn requests are not accepted.")
    return sha256(raw).digest()


def _check_flags(rp, auth_data, require_uv):
    if not hmac.compare_digest(auth_data.rp_id_hash, rp.rp_id_hash):
        raise RpIdMismatch()
    if not auth_data.is_user_present():
        raise UserNotPresent()
    if require_uv and not auth_data.is_user_verified():
        raise UserNotVerified()


def _response_part(credential, key, field):
    credential = require_dict(credential, "credential")
    if credential.get("type") != "public-key":
        raise MalformedInput("credential: type must be public-key")
    response = require_dict(credential.get("response"), "credential response")
    return b64url_decode(response.get(key), field)


def verify_registration(rp, credential, expected_challenge, *, require_uv=True, aaguid_allowlist=None):
    """Check a navigator.credentials.create answer (JSON form) and return the Credential to store.

    Attestation: with no AAGUID allow-list, any statement that is present is still verified
    when its format is known (a broken one is a red flag) and 'none' is accepted. With an
    allow-list, a verified non-'none' attestation naming a listed AAGUID is required.
    """
    client_json = _response_part(credential, "clientDataJSON", "clientDataJSON")
    att_raw = _response_part(credential, "attestationObject", "attestationObject")
    client_hash = _client_data(rp, client_json, "webauthn.create", expected_challenge)
    try:
        att = AttestationObject(att_raw)
        auth_data = att.auth_data
        fmt, statement = att.fmt, att.att_stmt
    except Exception as exc:  # fido2 raises ValueError, KeyError, TypeError... on bad CBOR
        raise MalformedInput("attestationObject: not valid") from exc
    _check_flags(rp, auth_data, require_uv)
    cred_data = auth_data.credential_data
    if cred_data is None:
        raise MalformedInput("attestationObject: no credential data")
    if cred_data.public_key.ALGORITHM not in ALGORITHMS:
        raise MalformedInput("credential public key: algorithm not supported")
    raw_id = credential.get("rawId", credential.get("id"))
    if b64url_decode(raw_id, "credential id") != cred_data.credential_id or len(cred_data.credential_id) > MAX_CREDENTIAL_ID:
        raise MalformedInput("credential id does not match the authenticator data")
    aaguid = str(uuid.UUID(bytes=bytes(cred_data.aaguid)))
    verified = _verify_attestation(fmt, statement, auth_data, client_hash)
    if aaguid_allowlist:
        if not verified or aaguid not in aaguid_allowlist:
            raise AttestationRejected("This authenticator model is not on the allowed list.")
    return Credential(
        credential_id=b64url_encode(cred_data.credential_id),
        public_key=cbor.encode(dict(cred_data.public_key)),
        sign_count=auth_data.counter,
        aaguid=aaguid,
        attestation_format=fmt,
        backup_eligible=auth_data.is_backup_eligible(),
    )


def _verify_attestation(fmt, statement, auth_data, client_hash):
    """True when a real attestation statement verified, False for 'none' or an unknown format."""
    if fmt == "none":
        if statement:
            raise AttestationRejected("A 'none' attestation must have an empty statement.")
        return False
    verify = attestation_formats.VERIFIERS.get(fmt)
    if verify is None:
        verifier = Attestation.for_type(fmt)()
        if getattr(verifier, "FORMAT", None) != fmt:
            return False  # unknown format: fine under 'none' conveyance, never enough for an allow-list
        verify = verifier.verify
    try:
        verify(statement, auth_data, client_hash)
    except Exception as exc:  # noqa: BLE001 - crafted statements make parsers raise anything
        raise AttestationRejected("The authenticator's attestation statement does not verify.") from exc
    return True


def verify_assertion(rp, credential, expected_challenge, stored, *, require_uv=True):
    """Check a navigator.credentials.get answer against the stored Credential."""
    cred_id = require_str(require_dict(credential, "credential"), "id", max_length=2 * MAX_CREDENTIAL_ID)
    if not hmac.compare_digest(cred_id.encode(), stored.credential_id.encode()):
        raise VerificationFailed("Unknown credential.")
    client_json = _response_part(credential, "clientDataJSON", "clientDataJSON")
    auth_raw = _response_part(credential, "authenticatorData", "authenticatorData")
    signature = _response_part(credential, "signature", "signature")
    client_hash = _client_data(rp, client_json, "webauthn.get", expected_challenge)
    try:
        auth_data = AuthenticatorData(auth_raw)
    except Exception as exc:
        raise MalformedInput("authenticatorData: not valid") from exc
    _check_flags(rp, auth_data, require_uv)
    try:
        key = CoseKey.parse(cbor.decode(stored.public_key))
        key.verify(auth_raw + client_hash, signature)
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("The biometric assertion signature is not valid.") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidSignature("The biometric assertion signature is not valid.") from exc
    check_sign_count(stored.sign_count, auth_data.counter)
    return AssertionResult(credential_id=stored.credential_id, sign_count=auth_data.counter,
                           user_verified=auth_data.is_user_verified())


def check_sign_count(stored, received):
    """0 then 0 is fine (synced passkeys never count); otherwise the count must increase."""
    if stored == 0 and received == 0:
        return
    if received <= stored:
        raise SignCountClone()
