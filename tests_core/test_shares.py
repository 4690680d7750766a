import pytest

from masterkey_core import errors, shares
from phone_twin import PythonPhone
from server_twin import enrol, login


def test_enrol_stores_no_secret_and_no_phone_share():
    phone = PythonPhone("enr-1")
    state = enrol(phone)
    secret = shares.xor(state.current, phone.share)
    stored = repr(state).encode() + state.verifier + state.current
    assert secret not in stored and phone.share not in stored
    assert state.verifier == shares.verifier(secret, "enr-1")


def test_login_rotates_both_shares_and_keeps_working():
    phone = PythonPhone("enr-2")
    state = enrol(phone)
    seen = {phone.share}
    for i in range(4):
        result = login(state, phone, f"rid-{i}")
        state = result.state
        assert not result.recovered
        assert phone.gen == result.rotation_gen
        assert phone.share not in seen
        seen.add(phone.share)
    assert state.current_gen == 3 and state.pending_gen == 4


def test_wrong_share_is_rejected_and_state_unchanged():
    phone = PythonPhone("enr-3")
    state = enrol(phone)
    with pytest.raises(errors.WrongShare):
        login(state, phone, "rid-x", share=shares.new_share())
    # a failed login returns no new state: the caller keeps the old one
    assert login(state, phone, "rid-y").state.current_gen == 0


def test_lost_rotation_reply_does_not_brick_the_enrolment():
    phone = PythonPhone("enr-4")
    state = enrol(phone)
    state = login(state, phone, "rid-1").state  # phone now at gen 1 (pending)
    lost = login(state, phone, "rid-2", deliver_reply=False)  # gen 1 promoted, reply for gen 2 lost
    assert phone.gen == 1
    again = login(lost.state, phone, "rid-3")  # phone still on the current generation
    assert again.recovered
    assert phone.gen == again.rotation_gen
    final = login(again.state, phone, "rid-4")
    assert not final.recovered
    assert final.state.current_gen == again.rotation_gen


def test_superseded_share_is_a_clone_alert():
    phone = PythonPhone("enr-5")
    state = enrol(phone)
    clone_share, clone_gen = phone.share, phone.gen
    state = login(state, phone, "rid-1").state  # phone -> gen 1 pending
    state = login(state, phone, "rid-2").state  # gen 1 promoted, gen 0 superseded
    with pytest.raises(errors.ClonedShareSuspected):
        shares.login(state, clone_share, clone_gen)


def test_clone_that_logs_in_first_makes_the_real_phone_stale():
    phone = PythonPhone("enr-6")
    state = enrol(phone)
    clone_share, clone_gen = phone.share, phone.gen  # storage copied before the next login
    state = login(state, phone, "rid-1").state  # the real phone now holds gen 1 (pending)
    clone_result = shares.login(state, clone_share, clone_gen)  # clone uses gen 0, still current
    assert clone_result.recovered  # looks like a lost reply to the server...
    with pytest.raises(errors.StaleShare):  # ...until the real phone comes back
        shares.login(clone_result.state, phone.share, phone.gen)


def test_unknown_generation_is_stale():
    phone = PythonPhone("enr-7")
    state = enrol(phone)
    with pytest.raises(errors.StaleShare):
        shares.login(state, phone.share, 42)


def test_bad_share_length_is_malformed():
    state = enrol(PythonPhone("enr-8"))
    with pytest.raises(errors.MalformedInput):
        shares.login(state, b"short", 0)
    with pytest.raises(errors.MalformedInput):
        shares.login(state, "x" * 32, 0)
