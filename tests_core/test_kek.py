import pytest

from masterkey_core import errors, kek


def test_config_keys_rotate():
    old = kek.generate_config_value("k1")
    ring_old = kek.KeyRing.from_config(old)
    token = ring_old.seal(b"share", "enrolment:1:current")
    assert token.startswith("mk1.k1.") and b"share" not in token.encode()
    ring_new = kek.KeyRing.from_config(kek.generate_config_value("k2") + "," + old)
    assert ring_new.active_id == "k2" and ring_new.needs_rewrap(token)
    assert ring_new.open(token, "enrolment:1:current") == b"share"
    assert not ring_new.needs_rewrap(ring_new.seal(b"x", "c"))
    assert not ring_new.is_fallback


def test_context_binds_the_row_and_field():
    ring = kek.KeyRing.from_config(kek.generate_config_value())
    token = ring.seal(b"share", "enrolment:1:current")
    with pytest.raises(errors.VerificationFailed):
        ring.open(token, "enrolment:2:current")


def test_missing_key_id_is_reported():
    token = kek.KeyRing.from_config(kek.generate_config_value("gone")).seal(b"x", "c")
    with pytest.raises(errors.KeyUnavailable, match="gone"):
        kek.KeyRing.from_config(kek.generate_config_value("k1")).open(token, "c")


def test_database_secret_fallback_is_flagged():
    ring = kek.KeyRing.from_config(None, "db-secret-uuid")
    assert ring.is_fallback and ring.active_id == kek.DB_SECRET_KEY_ID
    assert ring.open(ring.seal(b"x", "c"), "c") == b"x"
    assert "database.secret" in kek.FALLBACK_WARNING
    with pytest.raises(errors.KeyUnavailable):
        kek.KeyRing.from_config(None, None)


@pytest.mark.parametrize("value", ["k1", "k1:short", "k1:" + "A" * 43 + ",k1:" + "A" * 43, "bad id:" + "A" * 43, ",,"])
def test_bad_config_is_refused(value):
    with pytest.raises(errors.MalformedInput):
        kek.KeyRing.from_config(value)


@pytest.mark.parametrize("token", [None, "", "mk1.k1", "mk2.k1.AAAAAAAAAAAAAAAA.AAAA", "mk1.k 1.AAAAAAAAAAAAAAAA.AAAA"])
def test_bad_tokens(token):
    ring = kek.KeyRing.from_config(kek.generate_config_value("k1"))
    with pytest.raises(errors.MalformedInput):
        ring.open(token, "c")


def test_signatures_survive_key_rotation_and_detect_changes():
    old = kek.generate_config_value("k1")
    ring = kek.KeyRing.from_config(old)
    sig = ring.sign("checkpoint:abc", "audit")
    assert ring.verify_signature("checkpoint:abc", "audit", sig)
    assert not ring.verify_signature("checkpoint:abd", "audit", sig)
    assert not ring.verify_signature("checkpoint:abc", "other", sig)
    rotated = kek.KeyRing.from_config(kek.generate_config_value("k2") + "," + old)
    assert rotated.verify_signature("checkpoint:abc", "audit", sig)
    assert not kek.KeyRing.from_config(kek.generate_config_value("k3")).verify_signature("checkpoint:abc", "audit", sig)
    assert not ring.verify_signature("checkpoint:abc", "audit", None)
