import pytest

from masterkey_core import errors, p256


def test_scalar_round_trip_for_stored_request_keys():
    key = p256.new_private_key()
    scalar = p256.private_scalar(key)
    assert p256.public_bytes(p256.private_from_scalar(scalar)) == p256.public_bytes(key)


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 32, b"\xff" * 32, "x" * 32])
def test_bad_scalars(bad):
    with pytest.raises(errors.MalformedInput):
        p256.private_from_scalar(bad)


def test_ecdh_agrees():
    a, b = p256.new_private_key(), p256.new_private_key()
    assert p256.ecdh(a, b.public_key()) == p256.ecdh(b, a.public_key())
