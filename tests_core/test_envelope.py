import pytest

from masterkey_core import envelope, errors, p256, shares

RID, EID = "req-1", "enr-1"


def server():
    key = p256.new_private_key()
    return key, p256.public_bytes(key)


def seal(server_pub, purpose="login", rid=RID, eid=EID, gen=0, plaintext=b"s" * 32):
    return envelope.seal_for_server(server_pub, purpose=purpose, request_id=rid, enrolment_id=eid,
                                    gen=gen, plaintext=plaintext)


def test_round_trip_both_directions():
    key, pub = server()
    env, phone_key = seal(pub, gen=3)
    plaintext, gen, epk = envelope.open_from_phone(env, server_private_key=key, purpose="login",
                                                   request_id=RID, enrolment_id=EID)
    assert plaintext == b"s" * 32 and gen == 3
    reply = envelope.seal_for_phone(server_private_key=key, phone_pub=epk, request_id=RID, enrolment_id=EID,
                                    gen=4, plaintext=b"d" * 32)
    assert envelope.open_from_server(reply, phone_private_key=phone_key, server_pub=pub,
                                     request_id=RID, enrolment_id=EID) == (b"d" * 32, 4)


@pytest.mark.parametrize("change", [
    dict(purpose="enrol"), dict(request_id="req-2"), dict(enrolment_id="enr-2"),
])
def test_bound_to_purpose_request_and_enrolment(change):
    key, pub = server()
    env, _ = seal(pub)
    kwargs = dict(server_private_key=key, purpose="login", request_id=RID, enrolment_id=EID)
    kwargs.update(change)
    with pytest.raises(errors.MasterKeyError):
        envelope.open_from_phone(env, **kwargs)


def test_other_server_key_and_generation_change_fail():
    key, pub = server()
    env, _ = seal(pub)
    other, _ = server()
    with pytest.raises(errors.VerificationFailed):
        envelope.open_from_phone(env, server_private_key=other, purpose="login", request_id=RID, enrolment_id=EID)
    env["gen"] = 1
    with pytest.raises(errors.VerificationFailed):
        envelope.open_from_phone(env, server_private_key=key, purpose="login", request_id=RID, enrolment_id=EID)


def test_reply_for_another_phone_key_is_refused():
    key, pub = server()
    env, _ = seal(pub)
    _, _, epk = envelope.open_from_phone(env, server_private_key=key, purpose="login", request_id=RID, enrolment_id=EID)
    reply = envelope.seal_for_phone(server_private_key=key, phone_pub=epk, request_id=RID, enrolment_id=EID,
                                    gen=1, plaintext=shares.new_share())
    with pytest.raises(errors.MalformedInput):
        envelope.open_from_server(reply, phone_private_key=p256.new_private_key(), server_pub=pub,
                                  request_id=RID, enrolment_id=EID)


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("ct"), lambda e: e.update(v=2), lambda e: e.update(gen=-1), lambda e: e.update(gen="0"),
    lambda e: e.update(gen=True), lambda e: e.update(n="AAAA"), lambda e: e.update(ct="A" * 20000),
    lambda e: e.update(ct="AAAA"), lambda e: e.update(epk="BA" + "A" * 85), lambda e: e.update(epk=None),
    lambda e: e.update(rid="req 1"), lambda e: e.update(purpose="rotate"), lambda e: e.update(n="####"),
])
def test_malformed_envelopes_are_typed(mutate):
    key, pub = server()
    env, _ = seal(pub)
    mutate(env)
    with pytest.raises(errors.MasterKeyError):
        envelope.open_from_phone(env, server_private_key=key, purpose="login", request_id=RID, enrolment_id=EID)


@pytest.mark.parametrize("value", [None, [], "text", 5])
def test_non_object_envelope(value):
    key, _ = server()
    with pytest.raises(errors.MalformedInput):
        envelope.open_from_phone(value, server_private_key=key, purpose="login", request_id=RID, enrolment_id=EID)


def test_unknown_purpose():
    _, pub = server()
    with pytest.raises(errors.MalformedInput):
        seal(pub, purpose="steal")
