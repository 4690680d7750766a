import pytest

from masterkey_core import challenge, codec, errors, policy
from masterkey_core.policy import BIOMETRIC, DEVICE_SIGNATURE, SPLIT_CREDENTIAL, FactorResult


def results(*passed, failed=()):
    return [FactorResult(f, True) for f in passed] + [FactorResult(f, False, "bad") for f in failed]


@pytest.mark.parametrize("required,passed,allowed", [
    (1, (1,), True), (1, (1, 2, 3), True), (2, (1,), False), (2, (1, 2), True),
    (3, (1, 2), False), (3, (1, 2, 3), True), (2, (2, 3), False), (1, (), False),
])
def test_evaluate_is_cumulative(required, passed, allowed):
    decision = policy.evaluate(required, results(*passed))
    assert decision.allowed is allowed
    assert decision.reasons


def test_failed_factor_reason_is_reported():
    decision = policy.evaluate(3, results(SPLIT_CREDENTIAL, DEVICE_SIGNATURE, failed=(BIOMETRIC,)))
    assert not decision.allowed and any("biometric: bad" in r for r in decision.reasons)


@pytest.mark.parametrize("value", [0, 4, "x", None, True, 1.5, "2.5"])
def test_bad_counts(value):
    with pytest.raises(errors.PolicyError):
        policy.parse_factor_count(value)


def test_group_is_stricter_only():
    assert policy.required_factors(1, 3, in_group=True) == 3
    assert policy.required_factors(3, 1, in_group=True) == 3
    assert policy.required_factors(1, 3, in_group=False) == 1
    assert policy.required_factors("2", None, in_group=True) == 2


def test_password_policy():
    assert policy.password_login_allowed("always", True)
    assert policy.password_login_allowed("without_phone", False)
    assert not policy.password_login_allowed("without_phone", True)
    assert not policy.password_login_allowed("never", False)
    assert policy.password_login_allowed("never", True, recovery_override=True)
    with pytest.raises(errors.PolicyError):
        policy.password_login_allowed("sometimes", True)


def test_unknown_factor():
    with pytest.raises(errors.PolicyError):
        policy.evaluate(1, [FactorResult(9, True)])


def test_challenge_single_use_and_expiry():
    ledger = challenge.MemoryLedger()
    c = challenge.new_challenge("login", 60, now=1000)
    challenge.consume(ledger, c, now=1001)
    with pytest.raises(errors.Replayed):
        challenge.consume(ledger, c, now=1002)
    with pytest.raises(errors.Expired):
        challenge.consume(ledger, challenge.new_challenge("login", 60, now=1000), now=1061)
    assert len(c.value) == 32 and "=" not in c.b64


@pytest.mark.parametrize("value", ["a=", "a+b", "a/b", "A", "AB=", "AB\n", 7, None, "AB"])
def test_b64url_strict(value):
    if value == "AB":  # 'AB' decodes to one byte with non-zero trailing bits: not canonical
        with pytest.raises(errors.MalformedInput):
            codec.b64url_decode(value, "f")
        return
    with pytest.raises(errors.MalformedInput):
        codec.b64url_decode(value, "f")


def test_b64url_round_trip_and_lengths():
    assert codec.b64url_decode(codec.b64url_encode(b"\xff\x00"), "f") == b"\xff\x00"
    with pytest.raises(errors.MalformedInput):
        codec.b64url_decode("AAAA", "f", length=2)
    with pytest.raises(errors.MalformedInput):
        codec.b64url_decode("A" * 20000, "f")


def test_canonical_is_unambiguous():
    assert codec.canonical("x", "a", 1) == b"auth_masterkey/v1/x\na\n1"
    with pytest.raises(errors.MalformedInput):
        codec.canonical("x", "a\nb")


def test_require_helpers():
    with pytest.raises(errors.MalformedInput):
        codec.require_int({"a": 2**60}, "a")
    with pytest.raises(errors.MalformedInput):
        codec.require_str({"a": "x" * 600}, "a")
    with pytest.raises(errors.MalformedInput):
        codec.require_token("a b", "t")
    with pytest.raises(errors.MalformedInput):
        codec.require_dict([], "d")


def test_errors_have_codes_and_safe_messages():
    for cls in errors.MasterKeyError.__subclasses__():
        assert cls.code and cls().message
