"""Hypothesis properties: any flipped byte is rejected, wrong shares and replays fail,
round trips accept."""

import copy
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masterkey_core import challenge, device, envelope, errors, p256, shares, webauthn
from masterkey_core.codec import b64url_decode, b64url_encode
from phone_twin import PythonPhone
from server_twin import enrol, login
from soft_authenticator import SoftAuthenticator

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RID, EID = "req-1", "enr-1"
SERVER_KEY = p256.new_private_key()
SERVER_PUB = p256.public_bytes(SERVER_KEY)
ENVELOPE, _ = envelope.seal_for_server(SERVER_PUB, purpose="login", request_id=RID, enrolment_id=EID,
                                       gen=0, plaintext=os.urandom(32))


def flip(data, index, bit):
    data = bytearray(data)
    data[index % len(data)] ^= 1 << bit
    return bytes(data)


@FAST
@given(field=st.sampled_from(["epk", "n", "ct"]), index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_flipped_envelope_byte_rejected(field, index, bit):
    env = dict(ENVELOPE)
    env[field] = b64url_encode(flip(b64url_decode(env[field], field), index, bit))
    with pytest.raises(errors.MasterKeyError):
        envelope.open_from_phone(env, server_private_key=SERVER_KEY, purpose="login", request_id=RID, enrolment_id=EID)


PHONE = PythonPhone(EID, "https://odoo.example.com")
SIG, TS = PHONE.signature("login", RID, "Y2hhbA")


@FAST
@given(index=st.integers(0, 63), bit=st.integers(0, 7))
def test_flipped_signature_byte_rejected(index, bit):
    with pytest.raises(errors.MasterKeyError):
        device.verify(PHONE.device_public, flip(SIG, index, bit), purpose="login", request_id=RID, enrolment_id=EID,
                      challenge_b64="Y2hhbA", origin=PHONE.origin, timestamp_ms=TS)


RP = webauthn.RelyingParty(rp_id="odoo.example.com", origins=("https://odoo.example.com",))
AUTH = SoftAuthenticator("odoo.example.com", "https://odoo.example.com", counter_step=1)
REG_CHALLENGE = os.urandom(32)
STORED = webauthn.verify_registration(RP, AUTH.register(webauthn.registration_options(
    RP, user_handle=b"u", user_name="u", display_name="U", challenge=REG_CHALLENGE), fmt="packed"), REG_CHALLENGE)
ASSERT_CHALLENGE = os.urandom(32)
ASSERTION = AUTH.assert_({"challenge": b64url_encode(ASSERT_CHALLENGE)})


@FAST
@given(part=st.sampled_from(["clientDataJSON", "authenticatorData", "signature"]),
       index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_flipped_assertion_byte_rejected(part, index, bit):
    answer = copy.deepcopy(ASSERTION)
    raw = b64url_decode(answer["response"][part], part)
    answer["response"][part] = b64url_encode(flip(raw, index, bit))
    with pytest.raises(errors.MasterKeyError):
        webauthn.verify_assertion(RP, answer, ASSERT_CHALLENGE, STORED)


def test_unflipped_assertion_accepts():
    assert webauthn.verify_assertion(RP, ASSERTION, ASSERT_CHALLENGE, STORED).sign_count == 1


@FAST
@given(wrong=st.binary(min_size=32, max_size=32))
def test_wrong_share_rejected(wrong):
    phone = PythonPhone("enr-p")
    state = shares.enrol("enr-p", phone.share)
    if wrong == phone.share:
        return
    with pytest.raises(errors.WrongShare):
        shares.login(state, wrong, 0)


@FAST
@given(logins=st.integers(1, 6), lost=st.lists(st.booleans(), min_size=6, max_size=6))
def test_round_trips_accept_whatever_replies_are_lost(logins, lost):
    phone = PythonPhone("enr-r")
    state = enrol(phone)
    for i in range(logins):
        state = login(state, phone, f"rid-{i}", deliver_reply=not lost[i]).state
    assert login(state, phone, "rid-final").state.verifier == state.verifier


@FAST
@given(purpose=st.sampled_from(["login", "enrol", "approve"]), ttl=st.integers(1, 300))
def test_replayed_challenge_rejected(purpose, ttl):
    ledger = challenge.MemoryLedger()
    c = challenge.new_challenge(purpose, ttl)
    challenge.consume(ledger, c)
    with pytest.raises(errors.Replayed):
        challenge.consume(ledger, c)


@FAST
@given(junk=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
                         max_leaves=20))
def test_arbitrary_json_never_escapes_as_untyped_error(junk):
    for call in (
        lambda: envelope.open_from_phone(junk, server_private_key=SERVER_KEY, purpose="login", request_id=RID, enrolment_id=EID),
        lambda: webauthn.verify_assertion(RP, junk, ASSERT_CHALLENGE, STORED),
        lambda: webauthn.verify_registration(RP, junk, REG_CHALLENGE),
    ):
        with pytest.raises(errors.MasterKeyError):
            call()
