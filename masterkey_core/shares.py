"""Factor 1: the 2-of-2 split login secret and its rotation.

secret = server_share XOR phone_share. Each share alone is uniformly random, so it tells
nothing about the secret. The server keeps only a verifier (HMAC of the secret) and its
share; the secret exists during a login only, when the phone's share arrives.

Rotation keeps the secret and re-randomises both shares with a delta D:
server' = server ^ D, phone' = phone ^ D. The server first stores server' as *pending*;
it becomes *current* only when the phone proves it holds phone' (its next login). So a
rotation reply that never reached the phone costs nothing: the phone still holds the
current share. Once the phone has moved on, the share it left is *superseded*; presenting
it again is cryptographic proof that someone copied the phone's storage.
"""

import hmac
import os
from dataclasses import dataclass, replace
from hashlib import sha256

from .codec import canonical
from .errors import ClonedShareSuspected, MalformedInput, StaleShare, WrongShare

SHARE_LEN = 32


def new_share():
    return os.urandom(SHARE_LEN)


def xor(a, b):
    if len(a) != SHARE_LEN or len(b) != SHARE_LEN:
        raise MalformedInput("share: expected 32 bytes")
    return bytes(x ^ y for x, y in zip(a, b))


def verifier(secret, enrolment_id):
    return hmac.new(secret, canonical("verifier", enrolment_id), sha256).digest()


@dataclass(frozen=True)
class ShareState:
    """What the server stores for one enrolment (shares encrypted by the caller)."""

    enrolment_id: str
    verifier: bytes
    current_gen: int
    current: bytes
    pending_gen: int | None = None
    pending: bytes | None = None
    superseded_gen: int | None = None
    superseded: bytes | None = None


@dataclass(frozen=True)
class LoginResult:
    state: ShareState  # to store, in the same transaction as the login
    rotation_gen: int  # generation the phone moves to
    rotation_delta: bytes  # to seal for the phone; phone' = phone ^ delta
    recovered: bool  # the previous rotation reply had not reached the phone


def enrol(enrolment_id, phone_share):
    """Server side of enrolment: returns the state to store. The secret is dropped here."""
    server_share = new_share()
    secret = xor(server_share, phone_share)
    return ShareState(enrolment_id=enrolment_id, verifier=verifier(secret, enrolment_id),
                      current_gen=0, current=server_share)


def _matches(state, server_share, phone_share):
    return hmac.compare_digest(verifier(xor(server_share, phone_share), state.enrolment_id), state.verifier)


def login(state, phone_share, gen):
    """Check a phone share of generation ``gen``; on success, rotate.

    Raises WrongShare, StaleShare (unknown generation) or ClonedShareSuspected.
    """
    if not isinstance(phone_share, (bytes, bytearray)) or len(phone_share) != SHARE_LEN:
        raise MalformedInput("share: expected 32 bytes")
    recovered = False
    if state.pending is not None and gen == state.pending_gen:
        if not _matches(state, state.pending, phone_share):
            raise WrongShare()
        # The phone received the last rotation: promote it, the old current is superseded.
        state = replace(state, current_gen=state.pending_gen, current=state.pending,
                        superseded_gen=state.current_gen, superseded=state.current)
    elif gen == state.current_gen:
        if not _matches(state, state.current, phone_share):
            raise WrongShare()
        recovered = state.pending is not None
    elif state.superseded is not None and gen == state.superseded_gen:
        if _matches(state, state.superseded, phone_share):
            raise ClonedShareSuspected()
        raise WrongShare()
    else:
        raise StaleShare()
    delta = new_share()
    # Generations only grow, so a discarded pending generation is never reissued.
    next_gen = max(state.current_gen, state.pending_gen or 0, state.superseded_gen or 0) + 1
    state = replace(state, pending_gen=next_gen, pending=xor(state.current, delta))
    return LoginResult(state=state, rotation_gen=next_gen, rotation_delta=delta, recovered=recovered)
