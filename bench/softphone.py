"""The tests' software phone (tests/softphone.py), plus (de)serialisation so that phones
enrolled in the setup step can be driven over HTTP by another process."""

import importlib.util
import json
import os

from cryptography.hazmat.primitives.asymmetric import ec

from common import ADDON_DIR, core

core()
from masterkey_core.codec import b64url_decode, b64url_encode  # noqa: E402

_spec = importlib.util.spec_from_file_location("masterkey_softphone", os.path.join(ADDON_DIR, "tests", "softphone.py"))
_softphone = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_softphone)
sign_raw = _softphone.sign_raw


def _scalar(key):
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def _key(value):
    return ec.derive_private_key(int.from_bytes(b64url_decode(value, "k"), "big"), ec.SECP256R1())


class SoftPhone(_softphone.SoftPhone):
    def __init__(self, origin, rp_id="localhost"):
        super().__init__(origin=origin, rp_id=rp_id)
        self.label = "Bench phone"
        self.login = None

    # -- persistence (bench state only: throwaway keys of throwaway users) ---------------------
    def to_dict(self):
        return {"origin": self.origin, "rp_id": self.rp_id, "share": b64url_encode(self.share), "gen": self.gen,
                "enrolment_id": self.enrolment_id, "device_key": _scalar(self.device_key),
                "webauthn_key": _scalar(self.webauthn_key), "credential_id": b64url_encode(self.credential_id),
                "counter": self.counter, "login": self.login, "uid": getattr(self, "uid", None)}

    @classmethod
    def from_dict(cls, data):
        phone = cls(data["origin"], data["rp_id"])
        phone.share, phone.gen = b64url_decode(data["share"], "s"), data["gen"]
        phone.enrolment_id = data["enrolment_id"]
        phone.device_key, phone.webauthn_key = _key(data["device_key"]), _key(data["webauthn_key"])
        phone.credential_id = b64url_decode(data["credential_id"], "c")
        phone.counter, phone.login, phone.uid = data["counter"], data.get("login"), data.get("uid")
        return phone

    def answer_payload(self, options, approve=True, match_code=None, uv=True):
        return {"rid": options["rid"], **super().answer_payload(options, approve, match_code, uv)}


def save_phones(path, phones):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump([p.to_dict() for p in phones], fh)
    os.replace(tmp, path)


def load_phones(path):
    with open(path) as fh:
        return [SoftPhone.from_dict(d) for d in json.load(fh)]
