"""Strict decoding of untrusted input and canonical message building."""

import base64
import binascii
import re

from .errors import MalformedInput

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
# Tokens that go into canonical messages: ids we mint ourselves (base64url, uuid, dotted).
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_B64_CHARS = 16384


def b64url_encode(data):
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(value, field, *, length=None, max_length=MAX_B64_CHARS // 4 * 3):
    """Decode unpadded base64url; anything else is a MalformedInput naming ``field``."""
    if not isinstance(value, str):
        raise MalformedInput(f"{field}: expected a base64url string")
    if len(value) > MAX_B64_CHARS or not _B64URL.match(value) or len(value) % 4 == 1:
        raise MalformedInput(f"{field}: not valid base64url")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedInput(f"{field}: not valid base64url") from exc
    if b64url_encode(data) != value:  # non-canonical trailing bits
        raise MalformedInput(f"{field}: not canonical base64url")
    if length is not None and len(data) != length:
        raise MalformedInput(f"{field}: expected {length} bytes")
    if len(data) > max_length:
        raise MalformedInput(f"{field}: too long")
    return data


def require_dict(value, field):
    if not isinstance(value, dict):
        raise MalformedInput(f"{field}: expected an object")
    return value


def require_str(obj, key, *, max_length=512, field=None):
    value = obj.get(key)
    name = field or key
    if not isinstance(value, str) or not value:
        raise MalformedInput(f"{name}: expected a non-empty string")
    if len(value) > max_length:
        raise MalformedInput(f"{name}: too long")
    return value


def require_int(obj, key, *, minimum=0, maximum=2**53, field=None):
    value = obj.get(key)
    name = field or key
    # bool is an int in Python; a JSON true is not a number here.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedInput(f"{name}: expected an integer")
    if not minimum <= value <= maximum:
        raise MalformedInput(f"{name}: out of range")
    return value


def require_token(value, field):
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise MalformedInput(f"{field}: not a valid identifier")
    return value


def canonical(label, *fields):
    """Domain-separated, unambiguous message: label and fields joined by newlines.

    Fields may not contain a newline, so no two field lists give the same bytes.
    """
    parts = [f"auth_masterkey/v1/{label}"]
    for value in fields:
        text = str(value)
        if "\n" in text or "\r" in text:
            raise MalformedInput("a message field contains a line break")
        parts.append(text)
    return "\n".join(parts).encode("utf-8")
