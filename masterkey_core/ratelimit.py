"""Lockout rule for repeated failures: each lockout of the same key lasts twice as long."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LimitPolicy:
    max_failures: int = 5  # within one window
    window_seconds: int = 300
    base_lockout_seconds: int = 60
    max_lockout_seconds: int = 3600


def lockout_seconds(policy, previous_lockouts):
    return min(policy.base_lockout_seconds * 2 ** min(previous_lockouts, 20), policy.max_lockout_seconds)
