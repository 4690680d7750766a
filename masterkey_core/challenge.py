"""Server challenges: fresh, short-lived and single use.

The core only defines the rules; where challenges live is the caller's business (the addon
keeps them in PostgreSQL so every worker and server sees the same state). A ledger's
``consume`` must be atomic: it returns True for the first caller only.
"""

import os
import secrets
import time
from dataclasses import dataclass

from .codec import b64url_encode
from .errors import Expired, Replayed

CHALLENGE_LEN = 32


@dataclass(frozen=True)
class Challenge:
    request_id: str
    purpose: str
    value: bytes
    expires_at: float

    @property
    def b64(self):
        return b64url_encode(self.value)


def new_request_id():
    return secrets.token_urlsafe(18)


def new_challenge(purpose, ttl_seconds, now=None):
    now = time.time() if now is None else now
    return Challenge(new_request_id(), purpose, os.urandom(CHALLENGE_LEN), now + ttl_seconds)


class MemoryLedger:
    """Single-process ledger for tests and tools; the addon uses a PostgreSQL table."""

    def __init__(self):
        self._used = set()

    def consume(self, request_id, purpose):
        key = (request_id, purpose)
        if key in self._used:
            return False
        self._used.add(key)
        return True


def check_fresh(challenge, now=None):
    now = time.time() if now is None else now
    if now > challenge.expires_at:
        raise Expired()


def consume(ledger, challenge, now=None):
    """Expiry first (an expired challenge is reported as such), then single use."""
    check_fresh(challenge, now)
    if not ledger.consume(challenge.request_id, challenge.purpose):
        raise Replayed()
