"""A software phone: the phone's side of factors 1 and 2 (and 3, with a software
authenticator), computed with the addon's own core. Shared by the Odoo tests (imported as
part of the addon) and the benchmarks (loaded by path, with the repository root on sys.path).
"""

import json
import os
import struct
import time
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fido2 import cbor
from fido2.cose import ES256

try:
    from ..masterkey_core import device, envelope, p256, shares
    from ..masterkey_core.codec import b64url_decode, b64url_encode
except ImportError:  # loaded outside the addon package (bench/)
    from masterkey_core import device, envelope, p256, shares
    from masterkey_core.codec import b64url_decode, b64url_encode

ORIGIN = "http://localhost:8069"


def sign_raw(key, message):
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class SoftPhone:
    def __init__(self, origin=ORIGIN, rp_id="localhost"):
        self.origin, self.rp_id = origin, rp_id
        self.share, self.gen, self.enrolment_id = shares.new_share(), 0, None
        self.device_key = p256.new_private_key()
        self.webauthn_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.counter = 0
        self.label = "Test phone"
        self._pending = None

    def _sign(self, purpose, rid, enrolment_id, challenge_b64):
        ts = int(time.time() * 1000)
        msg = device.signed_message(purpose=purpose, request_id=rid, enrolment_id=enrolment_id,
                                    challenge_b64=challenge_b64, origin=self.origin, timestamp_ms=ts)
        return b64url_encode(sign_raw(self.device_key, msg)), ts

    def _client_data(self, ceremony, challenge):
        return json.dumps({"type": ceremony, "challenge": challenge, "origin": self.origin}).encode()

    def registration(self, options):
        client = self._client_data("webauthn.create", options["challenge"])
        cose = cbor.encode(dict(ES256.from_cryptography_key(self.webauthn_key.public_key())))
        auth = (sha256(self.rp_id.encode()).digest() + bytes([0x45]) + struct.pack(">I", 0) + b"\0" * 16
                + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose)
        cid = b64url_encode(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "response": {
            "clientDataJSON": b64url_encode(client),
            "attestationObject": b64url_encode(cbor.encode({"fmt": "none", "attStmt": {}, "authData": auth}))}}

    def assertion(self, options, uv=True):
        self.counter += 1
        client = self._client_data("webauthn.get", options["challenge"])
        auth = sha256(self.rp_id.encode()).digest() + bytes([0x05 if uv else 0x01]) + struct.pack(">I", self.counter)
        sig = self.webauthn_key.sign(auth + sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        cid = b64url_encode(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "response": {
            "clientDataJSON": b64url_encode(client), "authenticatorData": b64url_encode(auth),
            "signature": b64url_encode(sig), "userHandle": None}}

    def enrol_payload(self, options, biometric=True):
        self.enrolment_id = options["enrolment"]
        env, self._pending = envelope.seal_for_server(
            b64url_decode(options["server_key"], "k"), purpose="enrol", request_id=options["rid"],
            enrolment_id=self.enrolment_id, gen=0, plaintext=self.share)
        sig, ts = self._sign("enrol", options["rid"], self.enrolment_id, options["challenge"])
        return {"envelope": env, "device_key": b64url_encode(p256.public_bytes(self.device_key)), "signature": sig,
                "timestamp": ts, "label": self.label,
                "webauthn": self.registration(options["webauthn"]) if biometric else None}

    def answer_payload(self, options, approve=True, match_code=None, uv=True):
        sig, ts = self._sign("approve" if approve else "deny", options["rid"], self.enrolment_id, options["challenge"])
        payload = {"approve": approve, "signature": sig, "timestamp": ts, "match_code": match_code}
        if approve:
            payload["envelope"], self._pending = envelope.seal_for_server(
                b64url_decode(options["server_key"], "k"), purpose="login", request_id=options["rid"],
                enrolment_id=self.enrolment_id, gen=self.gen, plaintext=self.share)
            if options.get("webauthn"):
                payload["webauthn"] = self.assertion(options["webauthn"], uv=uv)
        self._server_pub = b64url_decode(options["server_key"], "k")
        return payload

    def apply_rotation(self, reply, rid):
        delta, gen = envelope.open_from_server(reply, phone_private_key=self._pending, server_pub=self._server_pub,
                                               request_id=rid, enrolment_id=self.enrolment_id)
        self.share, self.gen = shares.xor(self.share, delta), gen
