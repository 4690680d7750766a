"""Hash chain of the audit log: each row's hash covers the previous hash and its own payload."""

import hashlib

GENESIS = "0" * 64


def row_hash(prev_hash, payload):
    return hashlib.sha256(f"auth_masterkey/v1/audit\n{prev_hash}\n{payload}".encode()).hexdigest()


def verify_chain(rows, start=GENESIS):
    """rows: dicts with id, prev_hash, row_hash, payload (in id order). Returns problems found."""
    problems, expected_prev = [], start
    for row in rows:
        if row["prev_hash"] != expected_prev:
            problems.append(f"row {row['id']}: the row before it was changed or deleted")
        if row_hash(row["prev_hash"], row["payload"]) != row["row_hash"]:
            problems.append(f"row {row['id']}: its content was changed")
        expected_prev = row["row_hash"]
    return problems
