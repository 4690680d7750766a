"""Policy: how many factors a login needs, and whether password login stays open.

Factor counts are cumulative: 1 = split credential; 2 = + device signature;
3 = + biometric (WebAuthn with user verification).
"""

from dataclasses import dataclass

from .errors import PolicyError

SPLIT_CREDENTIAL = 1
DEVICE_SIGNATURE = 2
BIOMETRIC = 3
FACTOR_NAMES = {SPLIT_CREDENTIAL: "split credential", DEVICE_SIGNATURE: "device signature", BIOMETRIC: "biometric"}

PASSWORD_ALWAYS = "always"
PASSWORD_WITHOUT_PHONE = "without_phone"
PASSWORD_NEVER = "never"
PASSWORD_POLICIES = (PASSWORD_ALWAYS, PASSWORD_WITHOUT_PHONE, PASSWORD_NEVER)


def parse_factor_count(value, field="required factors"):
    try:
        count = int(value)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{field}: expected 1, 2 or 3") from exc
    if count not in (1, 2, 3) or isinstance(value, bool) or (isinstance(value, float) and value != count):
        raise PolicyError(f"{field}: expected 1, 2 or 3")
    return count


def required_factors(global_count, group_count=None, in_group=False):
    """The stricter of the global count and, for members, the group's count."""
    required = parse_factor_count(global_count)
    if in_group and group_count not in (None, False, "", 0, "0"):
        required = max(required, parse_factor_count(group_count, "group required factors"))
    return required


@dataclass(frozen=True)
class FactorResult:
    factor: int
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    required: int
    passed: tuple
    reasons: tuple

    @property
    def passed_count(self):
        return len(self.passed)


def evaluate(required, results):
    """All factors 1..required must be present and passed; extra passed factors are noted."""
    required = parse_factor_count(required)
    by_factor = {}
    for result in results:
        if result.factor not in FACTOR_NAMES:
            raise PolicyError("unknown factor")
        by_factor[result.factor] = result
    reasons, passed = [], []
    for factor in sorted(FACTOR_NAMES):
        result = by_factor.get(factor)
        if result and result.passed:
            passed.append(factor)
        elif factor <= required:
            why = result.reason if result else "not presented"
            reasons.append(f"{FACTOR_NAMES[factor]}: {why}")
    # A factor above a failed one does not count: the count is cumulative.
    cumulative = 0
    while cumulative + 1 in passed:
        cumulative += 1
    allowed = cumulative >= required
    if allowed:
        reasons.append(f"{cumulative} of {required} required factor(s) passed")
    return Decision(allowed=allowed, required=required, passed=tuple(passed), reasons=tuple(reasons))


def password_login_allowed(policy, has_enrolment, recovery_override=False):
    """``recovery_override`` is the server-configuration switch for locked-out admins."""
    if policy not in PASSWORD_POLICIES:
        raise PolicyError("password login policy: expected always, without_phone or never")
    if recovery_override or policy == PASSWORD_ALWAYS:
        return True
    if policy == PASSWORD_WITHOUT_PHONE:
        return not has_enrolment
    return False
