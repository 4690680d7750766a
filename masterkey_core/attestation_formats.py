"""Attestation formats that python-fido2 2.x cannot check next to Odoo 18's cryptography 3.4.8.

- ``android-key``: fido2 2.x has no verifier for it.
- ``apple``: fido2's verifier needs an API that cryptography 3.4.8 lacks.

Both follow WebAuthn Level 2, sections 8.4 and 8.8: the statement is signed (android-key) or
bound by a nonce (apple) to authenticatorData || clientDataHash, the leaf certificate holds
the credential's own public key, and each certificate is signed by the next. Trust anchors
(Google's and Apple's roots) are not pinned here; see docs/protocol.md.
"""

from hashlib import sha256

from cryptography import x509
from fido2.attestation.base import verify_x509_chain
from fido2.cose import CoseKey

ANDROID_KEY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
APPLE_NONCE_OID = x509.ObjectIdentifier("1.2.840.113635.100.8.2")


class AttestationCheckFailed(ValueError):
    pass


def _der_item(buf, pos):
    """One DER TLV at ``pos`` -> (tag, value, next position); bounds-checked."""
    if pos + 2 > len(buf):
        raise AttestationCheckFailed("truncated DER")
    tag, length = buf[pos], buf[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(buf):
            raise AttestationCheckFailed("bad DER length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if pos + length > len(buf):
        raise AttestationCheckFailed("truncated DER")
    return tag, buf[pos:pos + length], pos + length


def _leaf(statement, credential_key):
    x5c = statement.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, bytes) for c in x5c):
        raise AttestationCheckFailed("x5c missing")
    leaf = x509.load_der_x509_certificate(x5c[0])
    leaf_as_cose = CoseKey.for_alg(credential_key.ALGORITHM).from_cryptography_key(leaf.public_key())
    if dict(leaf_as_cose) != dict(credential_key):
        raise AttestationCheckFailed("certificate key is not the credential key")
    verify_x509_chain(list(x5c))
    return leaf


def verify_android_key(statement, auth_data, client_data_hash):
    credential_key = auth_data.credential_data.public_key
    leaf = _leaf(statement, credential_key)
    alg = statement.get("alg")
    signer = CoseKey.for_alg(alg).from_cryptography_key(leaf.public_key())
    signer.verify(bytes(auth_data) + client_data_hash, statement.get("sig", b""))
    description = leaf.extensions.get_extension_for_oid(ANDROID_KEY_OID).value.value
    tag, sequence, _ = _der_item(description, 0)
    if tag != 0x30:
        raise AttestationCheckFailed("key description is not a sequence")
    pos = 0
    for _field in range(4):  # versions and security levels precede the challenge
        _tag, _value, pos = _der_item(sequence, pos)
    tag, challenge, _ = _der_item(sequence, pos)
    if tag != 0x04 or challenge != client_data_hash:
        raise AttestationCheckFailed("attestation challenge mismatch")


def verify_apple(statement, auth_data, client_data_hash):
    leaf = _leaf(statement, auth_data.credential_data.public_key)
    nonce = sha256(bytes(auth_data) + client_data_hash).digest()
    value = leaf.extensions.get_extension_for_oid(APPLE_NONCE_OID).value.value
    # SEQUENCE { [1] EXPLICIT OCTET STRING (32 bytes) }
    if value != bytes([0x30, 0x24, 0xA1, 0x22, 0x04, 0x20]) + nonce:
        raise AttestationCheckFailed("apple nonce mismatch")


VERIFIERS = {"android-key": verify_android_key, "apple": verify_apple}
