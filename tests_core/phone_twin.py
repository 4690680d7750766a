"""Python stand-in for the phone's side of factors 1 and 2 (the browser module is tested
against the core separately, in test_crosslang.py)."""

import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from masterkey_core import device, envelope, p256, shares


def sign_raw(private_key, message):
    r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class PythonPhone:
    def __init__(self, enrolment_id, origin="https://odoo.example.com"):
        self.enrolment_id, self.origin = enrolment_id, origin
        self.share, self.gen = shares.new_share(), 0
        self.device_key = p256.new_private_key()
        self._pending = None

    @property
    def device_public(self):
        return p256.public_bytes(self.device_key.public_key())

    def signature(self, purpose, request_id, challenge_b64, timestamp_ms=None):
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        msg = device.signed_message(purpose=purpose, request_id=request_id, enrolment_id=self.enrolment_id,
                                    challenge_b64=challenge_b64, origin=self.origin, timestamp_ms=ts)
        return sign_raw(self.device_key, msg), ts

    def envelope(self, server_pub, purpose, request_id, share=None, gen=None):
        env, self._pending = envelope.seal_for_server(
            server_pub, purpose=purpose, request_id=request_id, enrolment_id=self.enrolment_id,
            gen=self.gen if gen is None else gen, plaintext=self.share if share is None else share)
        return env

    def apply_rotation(self, reply, server_pub, request_id):
        delta, gen = envelope.open_from_server(reply, phone_private_key=self._pending, server_pub=server_pub,
                                               request_id=request_id, enrolment_id=self.enrolment_id)
        self.share, self.gen = shares.xor(self.share, delta), gen
