import pytest

from masterkey_core import audit_chain, ratelimit


def chain(payloads):
    rows, prev = [], audit_chain.GENESIS
    for i, payload in enumerate(payloads, 1):
        h = audit_chain.row_hash(prev, payload)
        rows.append({"id": i, "prev_hash": prev, "row_hash": h, "payload": payload})
        prev = h
    return rows


def test_intact_chain():
    assert audit_chain.verify_chain(chain(["a", "b", "c"])) == []


def test_changed_row():
    rows = chain(["a", "b", "c"])
    rows[1]["payload"] = "B"
    assert audit_chain.verify_chain(rows) == ["row 2: its content was changed"]


def test_deleted_row():
    rows = chain(["a", "b", "c"])
    del rows[1]
    assert audit_chain.verify_chain(rows) == ["row 3: the row before it was changed or deleted"]


def test_checkpoint_start():
    rows = chain(["a", "b", "c"])
    assert audit_chain.verify_chain(rows[1:], start=rows[0]["row_hash"]) == []


@pytest.mark.parametrize("previous,expected", [(0, 60), (1, 120), (5, 1920), (6, 3600), (100, 3600)])
def test_lockout_doubles_up_to_the_cap(previous, expected):
    assert ratelimit.lockout_seconds(ratelimit.LimitPolicy(), previous) == expected
