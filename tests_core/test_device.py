import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from masterkey_core import device, errors, p256
from phone_twin import PythonPhone

ORIGIN = "https://odoo.example.com"


def signed(phone, **over):
    args = dict(purpose="login", request_id="rid-1", challenge_b64="Y2hhbGxlbmdl")
    sig, ts = phone.signature(args["purpose"], args["request_id"], args["challenge_b64"], over.pop("ts", None))
    args.update(enrolment_id=phone.enrolment_id, origin=ORIGIN, timestamp_ms=ts)
    args.update(over)
    return phone.device_public, sig, args


def test_valid_signature():
    phone = PythonPhone("enr-1", ORIGIN)
    pub, sig, args = signed(phone)
    device.verify(pub, sig, **args)


@pytest.mark.parametrize("field,value", [
    ("purpose", "approve"), ("request_id", "rid-2"), ("enrolment_id", "enr-2"),
    ("challenge_b64", "b3RoZXI"), ("origin", "https://phish.example"),
])
def test_signature_covers_each_field(field, value):
    pub, sig, args = signed(PythonPhone("enr-1", ORIGIN))
    args[field] = value
    with pytest.raises(errors.InvalidSignature):
        device.verify(pub, sig, **args)


def test_stale_timestamp():
    old = int(time.time() * 1000) - 10 * 60 * 1000
    pub, sig, args = signed(PythonPhone("enr-1", ORIGIN), ts=old)
    with pytest.raises(errors.Expired):
        device.verify(pub, sig, **args)


def test_key_formats():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = p256.public_bytes(key)
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert device.normalize_public_key(raw) == raw == device.normalize_public_key(spki)


@pytest.mark.parametrize("bad", [
    b"", b"\x04" + b"\x00" * 64, b"\x04" + b"\x01" * 64,  # not on the curve
    None, "text",
    ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint),
])
def test_bad_keys_rejected(bad):
    with pytest.raises(errors.InvalidDeviceKey):
        device.normalize_public_key(bad)


@pytest.mark.parametrize("sig", [b"", b"\x00" * 64, b"\xff" * 64, b"\x01" * 63, "x" * 64, None])
def test_bad_signatures(sig):
    pub, _, args = signed(PythonPhone("enr-1", ORIGIN))
    with pytest.raises(errors.MasterKeyError):
        device.verify(pub, sig, **args)


@pytest.mark.parametrize("over", [dict(timestamp_ms="1"), dict(timestamp_ms=True), dict(origin="ftp://x"),
                                  dict(request_id="a\nb"), dict(enrolment_id="")])
def test_bad_fields(over):
    pub, sig, args = signed(PythonPhone("enr-1", ORIGIN))
    args.update(over)
    with pytest.raises(errors.MalformedInput):
        device.verify(pub, sig, **args)
