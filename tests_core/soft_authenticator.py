"""A software WebAuthn platform authenticator for tests: real CBOR, real signatures.

It produces exactly what a browser hands the page (JSON with base64url fields), so the
core's verification runs on the same bytes as with a phone.
"""

import json
import os
import struct
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256

from masterkey_core.codec import b64url_encode

UP, UV, BE, AT = 0x01, 0x04, 0x08, 0x40


class SoftAuthenticator:
    def __init__(self, rp_id, origin, *, uv=True, counter_step=0, aaguid=b"\x11" * 16):
        self.rp_id, self.origin, self.uv = rp_id, origin, uv
        self.counter_step, self.counter, self.aaguid = counter_step, 0, aaguid
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)

    def _flags(self, extra=0):
        return UP | (UV if self.uv else 0) | extra

    def _client_data(self, ceremony, challenge_b64, origin=None, **extra):
        return json.dumps({"type": ceremony, "challenge": challenge_b64, "origin": origin or self.origin,
                           "crossOrigin": False, **extra}, separators=(",", ":")).encode()

    def register(self, options, *, fmt="none", rp_id=None, origin=None):
        challenge = options["challenge"]
        client_data = self._client_data("webauthn.create", challenge, origin)
        cose = cbor.encode(dict(ES256.from_cryptography_key(self.key.public_key())))
        attested = self.aaguid + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose
        auth_data = (sha256((rp_id or self.rp_id).encode()).digest() + bytes([self._flags(AT)])
                     + struct.pack(">I", self.counter) + attested)
        if fmt == "packed":  # self attestation: signed by the credential key itself
            sig = self.key.sign(auth_data + sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
            stmt = {"alg": -7, "sig": sig}
        else:
            stmt = {}
        att_obj = cbor.encode({"fmt": fmt, "attStmt": stmt, "authData": auth_data})
        cid = b64url_encode(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key",
                "response": {"clientDataJSON": b64url_encode(client_data),
                             "attestationObject": b64url_encode(att_obj)}}

    def assert_(self, options, *, rp_id=None, origin=None, counter=None):
        self.counter = self.counter + self.counter_step if counter is None else counter
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (sha256((rp_id or self.rp_id).encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", self.counter))
        sig = self.key.sign(auth_data + sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        cid = b64url_encode(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key",
                "response": {"clientDataJSON": b64url_encode(client_data),
                             "authenticatorData": b64url_encode(auth_data),
                             "signature": b64url_encode(sig), "userHandle": None}}
