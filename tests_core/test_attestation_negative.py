"""Crafted attestation statements: every malformation is an AttestationRejected."""

import copy
import glob
import json
import os

import pytest
from fido2 import cbor

from masterkey_core import attestation_formats, errors, webauthn
from masterkey_core.codec import b64url_decode, b64url_encode

VECTORS = os.path.join(os.path.dirname(__file__), "vectors")


def vector(fmt):
    for path in glob.glob(os.path.join(VECTORS, "registration_*.json")):
        data = json.load(open(path))
        if data["fmt"] == fmt:
            return data
    raise AssertionError(fmt)


def with_statement(vec, change):
    vec = copy.deepcopy(vec)
    resp = vec["credential"]["response"]
    att = cbor.decode(b64url_decode(resp["attestationObject"], "a"))
    change(att["attStmt"])
    resp["attestationObject"] = b64url_encode(cbor.encode(att))
    return vec


def verify(vec):
    rp = webauthn.RelyingParty(rp_id=vec["rp_id"], origins=(vec["origin"],))
    return webauthn.verify_registration(rp, vec["credential"], b64url_decode(vec["challenge_b64url"], "c"),
                                        require_uv=False)


@pytest.mark.parametrize("fmt", ["android-key", "apple", "packed", "tpm"])
@pytest.mark.parametrize("change", [
    lambda s: s.pop("x5c", None), lambda s: s.update(x5c=[]), lambda s: s.update(x5c=["text"]),
    lambda s: s.update(x5c=[b"\x30\x03\x02\x01\x01"]),
])
def test_broken_certificates(fmt, change):
    vec = with_statement(vector(fmt), change)
    with pytest.raises(errors.AttestationRejected):
        verify(vec)


def test_android_key_with_wrong_certificate_order():
    vec = with_statement(vector("android-key"), lambda s: s.update(x5c=s["x5c"][1:] + s["x5c"][:1]))
    with pytest.raises(errors.AttestationRejected):
        verify(vec)


def test_none_with_statement_is_rejected():
    vec = with_statement(vector("none"), lambda s: s.update(sig=b"x"))
    with pytest.raises(errors.AttestationRejected):
        verify(vec)


def test_unknown_format_is_accepted_under_none_but_not_for_allowlist():
    vec = vector("none")
    vec = copy.deepcopy(vec)
    resp = vec["credential"]["response"]
    att = cbor.decode(b64url_decode(resp["attestationObject"], "a"))
    att["fmt"] = "future-format"
    resp["attestationObject"] = b64url_encode(cbor.encode(att))
    assert verify(vec).attestation_format == "future-format"
    rp = webauthn.RelyingParty(rp_id=vec["rp_id"], origins=(vec["origin"],))
    with pytest.raises(errors.AttestationRejected):
        webauthn.verify_registration(rp, vec["credential"], b64url_decode(vec["challenge_b64url"], "c"),
                                     require_uv=False, aaguid_allowlist={vec["aaguid"]})


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x85\x01\x02\x03\x04\x05", b"\x30\x82\x00", b"\x30\x05\x01"])
def test_der_reader_is_bounds_checked(data):
    with pytest.raises(attestation_formats.AttestationCheckFailed):
        attestation_formats._der_item(data, 0)


def test_registration_checks_credential_id_and_type():
    vec = copy.deepcopy(vector("none"))
    vec["credential"]["rawId"] = vec["credential"]["id"] = b64url_encode(b"other-id")
    with pytest.raises(errors.MalformedInput):
        verify(vec)
    vec = copy.deepcopy(vector("none"))
    vec["credential"]["type"] = "password"
    with pytest.raises(errors.MalformedInput):
        verify(vec)
