import os

import pytest

from masterkey_core import errors, webauthn
from soft_authenticator import SoftAuthenticator

RP = webauthn.RelyingParty(rp_id="odoo.example.com", origins=("https://odoo.example.com",))


def register(auth, fmt="none", **kwargs):
    challenge = os.urandom(32)
    opts = webauthn.registration_options(RP, user_handle=b"u1", user_name="admin", display_name="Admin",
                                         challenge=challenge)
    return webauthn.verify_registration(RP, auth.register(opts, fmt=fmt), challenge, **kwargs)


def authenticate(auth, stored, **kwargs):
    challenge = os.urandom(32)
    opts = webauthn.authentication_options(RP, challenge=challenge, allow_ids=[stored.credential_id])
    assert opts["userVerification"] == "required"
    return webauthn.verify_assertion(RP, auth.assert_(opts, **kwargs), challenge, stored)


@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_round_trip(fmt):
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com", counter_step=1)
    stored = register(auth, fmt)
    assert "=" not in stored.credential_id
    result = authenticate(auth, stored)
    assert result.user_verified and result.sign_count == 1


def test_registration_options_require_platform_uv():
    opts = webauthn.registration_options(RP, user_handle=b"u", user_name="a", display_name="A", challenge=b"c" * 32)
    sel = opts["authenticatorSelection"]
    assert sel == {"authenticatorAttachment": "platform", "residentKey": "preferred", "userVerification": "required"}
    assert opts["attestation"] == "none"


def test_registration_without_uv_is_refused():
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com", uv=False)
    with pytest.raises(errors.UserNotVerified, match="biometric or PIN was not verified"):
        register(auth)


def test_zero_then_zero_is_fine_for_synced_passkeys():
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com", counter_step=0)
    stored = register(auth)
    assert authenticate(auth, stored).sign_count == 0
    webauthn.check_sign_count(0, 0)


def test_counter_must_increase():
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com")
    stored = register(auth)
    stored = webauthn.Credential(**{**stored.__dict__, "sign_count": 10})
    with pytest.raises(errors.SignCountClone):
        authenticate(auth, stored, counter=10)
    with pytest.raises(errors.SignCountClone):
        authenticate(auth, stored, counter=3)
    assert authenticate(auth, stored, counter=11).sign_count == 11
    with pytest.raises(errors.SignCountClone):  # going from counting to 0 is a clone too
        webauthn.check_sign_count(5, 0)


def test_assertion_for_other_rp_and_origin():
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com")
    stored = register(auth)
    with pytest.raises(errors.RpIdMismatch):
        authenticate(auth, stored, rp_id="phish.example")
    with pytest.raises(errors.OriginMismatch):
        authenticate(auth, stored, origin="https://odoo.example.com.phish.example")


def test_unknown_credential_and_replayed_challenge():
    auth = SoftAuthenticator("odoo.example.com", "https://odoo.example.com")
    stored = register(auth)
    other = webauthn.Credential(**{**stored.__dict__, "credential_id": "AAAA"})
    challenge = os.urandom(32)
    answer = auth.assert_(webauthn.authentication_options(RP, challenge=challenge, allow_ids=[]))
    with pytest.raises(errors.VerificationFailed):
        webauthn.verify_assertion(RP, answer, challenge, other)
    with pytest.raises(errors.VerificationFailed):
        webauthn.verify_assertion(RP, answer, os.urandom(32), stored)


@pytest.mark.parametrize("bad", [
    None, [], "x", {}, {"type": "public-key"}, {"type": "other", "response": {}},
    {"id": "AA", "type": "public-key", "response": {"clientDataJSON": "!!"}},
    {"id": "AA", "type": "public-key", "response": {"clientDataJSON": "bm90IGpzb24", "attestationObject": "AA"}},
])
def test_malformed_registration_is_typed(bad):
    with pytest.raises(errors.MasterKeyError):
        webauthn.verify_registration(RP, bad, b"c" * 32)


def test_rp_requires_bare_host_and_origins():
    with pytest.raises(errors.MalformedInput):
        webauthn.RelyingParty(rp_id="https://odoo.example.com", origins=("https://odoo.example.com",))
    with pytest.raises(errors.MalformedInput):
        webauthn.RelyingParty(rp_id="odoo.example.com", origins=())
