"""Factor 2: the phone's non-extractable WebCrypto P-256 key signs each login.

Signed message (UTF-8, fields joined by newlines, see codec.canonical)::

    auth_masterkey/v1/device-signature
    <purpose> <request id> <enrolment id> <challenge b64url> <origin> <timestamp ms>

WebCrypto returns ECDSA signatures as raw r||s (64 bytes); they are converted to DER here.
"""

import time

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from . import p256
from .codec import canonical, require_token
from .errors import Expired, InvalidSignature, MalformedInput

SIGNATURE_LEN = 64
MAX_SKEW_MS = 120_000


def normalize_public_key(data):
    """Validate a registered device key; returns the 65-byte uncompressed point to store."""
    return p256.public_bytes(p256.load_public_key(data, "device key"))


def signed_message(*, purpose, request_id, enrolment_id, challenge_b64, origin, timestamp_ms):
    require_token(request_id, "request id")
    require_token(enrolment_id, "enrolment id")
    if not isinstance(origin, str) or not origin.startswith(("https://", "http://")) or len(origin) > 256:
        raise MalformedInput("origin: expected an http(s) origin")
    return canonical("device-signature", purpose, request_id, enrolment_id, challenge_b64, origin, int(timestamp_ms))


def raw_to_der(signature):
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_LEN:
        raise MalformedInput("device signature: expected 64 bytes (raw r||s)")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < p256.ORDER and 0 < s < p256.ORDER):
        raise InvalidSignature()
    return encode_dss_signature(r, s)


def verify(public_key_raw, signature, *, purpose, request_id, enrolment_id, challenge_b64, origin,
           timestamp_ms, now_ms=None, max_skew_ms=MAX_SKEW_MS):
    """Check freshness of the signed timestamp and the signature. Single use is the
    challenge's job (see challenge.consume)."""
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool):
        raise MalformedInput("device timestamp: expected an integer")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - timestamp_ms) > max_skew_ms:
        raise Expired("The device signature is too old or its clock is wrong.")
    message = signed_message(purpose=purpose, request_id=request_id, enrolment_id=enrolment_id,
                             challenge_b64=challenge_b64, origin=origin, timestamp_ms=timestamp_ms)
    key = p256.load_public_key(public_key_raw, "device key")
    try:
        key.verify(raw_to_der(signature), message, ec.ECDSA(hashes.SHA256()))
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature() from exc
