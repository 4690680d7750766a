"""A software phone for the benchmarks: the phone's side of the three factors, computed with
the addon's own core (same protocol as tests/common.py's SoftPhone), plus (de)serialisation so
phones enrolled in the setup step can be driven over HTTP by another process."""

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

from common import core

core()
from masterkey_core import device, envelope, p256, shares  # noqa: E402
from masterkey_core.codec import b64url_decode, b64url_encode  # noqa: E402


def sign_raw(key, message):
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _scalar(key):
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def _key(value):
    return ec.derive_private_key(int.from_bytes(b64url_decode(value, "k"), "big"), ec.SECP256R1())


class SoftPhone:
    def __init__(self, origin, rp_id="localhost"):
        self.origin, self.rp_id = origin, rp_id
        self.share, self.gen, self.enrolment_id = shares.new_share(), 0, None
        self.device_key = p256.new_private_key()
        self.webauthn_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.counter = 0
        self._pending = None
        self._server_pub = None
        self.login = None

    # -- persistence (bench state only: throwaway keys of throwaway users) ---------------------
    def to_dict(self):
        return {"origin": self.origin, "rp_id": self.rp_id, "share": b64url_encode(self.share), "gen": self.gen,
                "enrolment_id": self.enrolment_id, "device_key": _scalar(self.device_key),
                "webauthn_key": _scalar(self.webauthn_key), "credential_id": b64url_encode(self.credential_id),
                "counter": self.counter, "login": self.login, "uid": getattr(self, "uid", None)}

    @classmethod
    def from_dict(cls, data):
        phone = cls.__new__(cls)
        phone.origin, phone.rp_id = data["origin"], data["rp_id"]
        phone.share, phone.gen = b64url_decode(data["share"], "s"), data["gen"]
        phone.enrolment_id = data["enrolment_id"]
        phone.device_key, phone.webauthn_key = _key(data["device_key"]), _key(data["webauthn_key"])
        phone.credential_id = b64url_decode(data["credential_id"], "c")
        phone.counter, phone.login, phone.uid = data["counter"], data.get("login"), data.get("uid")
        phone._pending = phone._server_pub = None
        return phone

    # -- protocol -------------------------------------------------------------------------------
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
                "timestamp": ts, "label": "Bench phone",
                "webauthn": self.registration(options["webauthn"]) if biometric else None}

    def answer_payload(self, options, approve=True, match_code=None, uv=True):
        sig, ts = self._sign("approve" if approve else "deny", options["rid"], self.enrolment_id, options["challenge"])
        payload = {"rid": options["rid"], "approve": approve, "signature": sig, "timestamp": ts,
                   "match_code": match_code}
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


def save_phones(path, phones):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump([p.to_dict() for p in phones], fh)
    os.replace(tmp, path)


def load_phones(path):
    with open(path) as fh:
        return [SoftPhone.from_dict(d) for d in json.load(fh)]
