"""Factor 1 transport: a share sealed to a fresh, per-request server key.

ECDH P-256 (phone ephemeral x server ephemeral) -> HKDF-SHA256 -> AES-256-GCM. The
associated data binds the ciphertext to the purpose, request, enrolment, share generation
and both public keys, so an envelope cannot be moved to another request or purpose.

Wire format (JSON object, binary fields base64url without padding)::

    {"v": 1, "purpose": "login", "rid": "<request id>", "gen": 3,
     "epk": "<phone ephemeral public key, 65 bytes>", "n": "<12-byte nonce>",
     "ct": "<ciphertext || 16-byte tag>"}
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import p256
from .codec import b64url_decode, b64url_encode, canonical, require_dict, require_int, require_str, require_token
from .errors import MalformedInput, VerificationFailed

VERSION = 1
NONCE_LEN = 12
TAG_LEN = 16
PURPOSES = ("enrol", "login", "rotate")
MAX_PLAINTEXT = 64


def derive_key(shared_x, purpose, request_id):
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=request_id.encode("ascii"),
        info=f"auth_masterkey/v1/envelope/{purpose}".encode("ascii"),
    ).derive(shared_x)


def associated_data(purpose, request_id, enrolment_id, gen, phone_pub, server_pub):
    return canonical("envelope", purpose, request_id, enrolment_id, gen,
                     b64url_encode(phone_pub), b64url_encode(server_pub))


def _check_purpose(purpose):
    if purpose not in PURPOSES:
        raise MalformedInput("envelope purpose is not known")


def _seal(private_key, peer_pub_key, purpose, request_id, enrolment_id, gen, plaintext, phone_pub, server_pub):
    key = derive_key(p256.ecdh(private_key, peer_pub_key), purpose, request_id)
    nonce = os.urandom(NONCE_LEN)
    aad = associated_data(purpose, request_id, enrolment_id, gen, phone_pub, server_pub)
    ct = AESGCM(key).encrypt(nonce, bytes(plaintext), aad)
    return {"v": VERSION, "purpose": purpose, "rid": request_id, "gen": gen,
            "epk": b64url_encode(phone_pub), "n": b64url_encode(nonce), "ct": b64url_encode(ct)}


def seal_for_server(server_pub, *, purpose, request_id, enrolment_id, gen, plaintext):
    """Phone side (also used by tests): seal ``plaintext`` to the server's ephemeral key.

    Returns (envelope, phone_private_key); the phone keeps the key to open the reply.
    """
    _check_purpose(purpose)
    require_token(request_id, "request id")
    server_key = p256.load_public_key(server_pub, "server key", MalformedInput)
    phone_key = p256.new_private_key()
    env = _seal(phone_key, server_key, purpose, request_id, enrolment_id, gen, plaintext,
                p256.public_bytes(phone_key), bytes(server_pub))
    return env, phone_key


def parse(envelope, *, expected_purpose, expected_request_id):
    env = require_dict(envelope, "envelope")
    if env.get("v") != VERSION:
        raise MalformedInput("envelope: unsupported version")
    if require_str(env, "purpose", max_length=16) != expected_purpose:
        raise MalformedInput("envelope: wrong purpose")
    if require_token(env.get("rid"), "envelope rid") != expected_request_id:
        raise MalformedInput("envelope: belongs to another request")
    gen = require_int(env, "gen", maximum=2**31)
    epk = b64url_decode(env.get("epk"), "envelope epk", length=p256.RAW_PUBLIC_LEN)
    nonce = b64url_decode(env.get("n"), "envelope nonce", length=NONCE_LEN)
    ct = b64url_decode(env.get("ct"), "envelope ct", max_length=MAX_PLAINTEXT + TAG_LEN)
    if len(ct) < TAG_LEN + 1:
        raise MalformedInput("envelope ct: too short")
    return gen, epk, nonce, ct


def _open(private_key, peer_pub, purpose, request_id, enrolment_id, gen, nonce, ct, phone_pub, server_pub):
    key = derive_key(p256.ecdh(private_key, peer_pub), purpose, request_id)
    aad = associated_data(purpose, request_id, enrolment_id, gen, phone_pub, server_pub)
    try:
        return AESGCM(key).decrypt(nonce, ct, aad)
    except InvalidTag as exc:
        raise VerificationFailed("The envelope could not be opened: it was altered or is for another request.") from exc


def open_from_phone(envelope, *, server_private_key, purpose, request_id, enrolment_id):
    """Server side: returns (plaintext, gen, phone_public_bytes)."""
    _check_purpose(purpose)
    gen, epk, nonce, ct = parse(envelope, expected_purpose=purpose, expected_request_id=request_id)
    phone_key = p256.load_public_key(epk, "envelope epk", MalformedInput)
    server_pub = p256.public_bytes(server_private_key.public_key())
    plaintext = _open(server_private_key, phone_key, purpose, request_id, enrolment_id, gen,
                      nonce, ct, epk, server_pub)
    return plaintext, gen, epk


def seal_for_phone(*, server_private_key, phone_pub, request_id, enrolment_id, gen, plaintext):
    """Server side: seal the rotation delta to the phone key of the request it answers."""
    require_token(request_id, "request id")
    phone_key = p256.load_public_key(phone_pub, "phone key", MalformedInput)
    server_pub = p256.public_bytes(server_private_key.public_key())
    env = _seal(server_private_key, phone_key, "rotate", request_id, enrolment_id, gen, plaintext,
                bytes(phone_pub), server_pub)
    env["spk"] = b64url_encode(server_pub)
    return env


def open_from_server(envelope, *, phone_private_key, server_pub, request_id, enrolment_id):
    """Phone side (Python twin of the browser module, used by tests): returns (plaintext, gen)."""
    gen, epk, nonce, ct = parse(envelope, expected_purpose="rotate", expected_request_id=request_id)
    phone_pub = p256.public_bytes(phone_private_key.public_key())
    if epk != phone_pub:
        raise MalformedInput("envelope: addressed to another phone key")
    server_key = p256.load_public_key(server_pub, "server key", MalformedInput)
    return _open(phone_private_key, server_key, "rotate", request_id, enrolment_id, gen,
                 nonce, ct, phone_pub, bytes(server_pub)), gen
