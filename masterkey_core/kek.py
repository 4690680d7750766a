"""Encryption of server-side secrets at rest (server shares, ephemeral request keys).

Stored form: ``mk1.<key id>.<nonce b64url>.<ciphertext b64url>``, AES-256-GCM under a
key-encryption key (KEK) chosen by id, with associated data naming the record and field
the value belongs to, so ciphertexts cannot be swapped between rows or columns.

KEKs come from the Odoo server configuration (``masterkey_kek = id1:<b64url 32 bytes>,id2:...``,
the first one encrypts, all of them decrypt, which is how a key is rotated). With none
configured, a KEK is derived from ``database.secret``: then a database dump alone holds
both the ciphertext and the key, which the addon reports loudly.
"""

import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .codec import b64url_decode, b64url_encode
from .errors import KeyUnavailable, MalformedInput, VerificationFailed

PREFIX = "mk1"
DB_SECRET_KEY_ID = "dbsecret"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

FALLBACK_WARNING = (
    "auth_masterkey: no masterkey_kek is set in the Odoo configuration file; server shares are "
    "encrypted under a key derived from database.secret, which a database dump also contains. "
    "Set masterkey_kek to keep shares safe from database dumps."
)


class KeyRing:
    """Named AES-256 keys; the first one is active (used for new ciphertexts)."""

    def __init__(self, keys, source):
        if not keys:
            raise KeyUnavailable()
        self._keys = dict(keys)
        self.active_id = keys[0][0]
        self.source = source  # "config" or "database.secret"

    @classmethod
    def from_config(cls, config_value, database_secret=None):
        if config_value:
            return cls(parse_config(config_value), "config")
        if not database_secret:
            raise KeyUnavailable()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"auth_masterkey/v1/kek",
                   info=b"database.secret").derive(database_secret.encode("utf-8"))
        return cls([(DB_SECRET_KEY_ID, key)], "database.secret")

    @property
    def is_fallback(self):
        return self.source != "config"

    def seal(self, plaintext, context):
        nonce = os.urandom(12)
        ct = AESGCM(self._keys[self.active_id]).encrypt(nonce, bytes(plaintext), _aad(self.active_id, context))
        return f"{PREFIX}.{self.active_id}.{b64url_encode(nonce)}.{b64url_encode(ct)}"

    def open(self, token, context):
        key_id, nonce, ct = _split(token)
        if key_id not in self._keys:
            raise KeyUnavailable(f"Stored credential is encrypted under key id '{key_id}', which is not configured.")
        try:
            return AESGCM(self._keys[key_id]).decrypt(nonce, ct, _aad(key_id, context))
        except InvalidTag as exc:
            raise VerificationFailed("A stored credential failed its integrity check.") from exc

    def sign(self, message, purpose):
        """HMAC-SHA256 under a subkey of the active KEK: ``<key id>.<mac hex>``."""
        return f"{self.active_id}.{self._mac(self.active_id, message, purpose)}"

    def verify_signature(self, message, purpose, signature):
        key_id, _sep, mac = str(signature or "").partition(".")
        if key_id not in self._keys:
            return False
        return hmac.compare_digest(mac, self._mac(key_id, message, purpose))

    def _mac(self, key_id, message, purpose):
        subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"auth_masterkey/v1/mac",
                      info=purpose.encode("utf-8")).derive(self._keys[key_id])
        return hmac.new(subkey, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def key_id_of(self, token):
        return _split(token)[0]

    def needs_rewrap(self, token):
        return self.key_id_of(token) != self.active_id


def _aad(key_id, context):
    return f"auth_masterkey/v1/kek\n{key_id}\n{context}".encode()


def _split(token):
    if not isinstance(token, str):
        raise MalformedInput("stored value: expected text")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not _KEY_ID.match(parts[1]):
        raise MalformedInput("stored value: not an auth_masterkey ciphertext")
    return parts[1], b64url_decode(parts[2], "stored nonce", length=12), b64url_decode(parts[3], "stored ciphertext")


def parse_config(value):
    """``id:key,id:key`` with 32-byte base64url keys -> [(id, key)], first active."""
    keys, seen = [], set()
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id) or key_id in seen:
            raise MalformedInput("masterkey_kek: expected 'id:key' pairs with distinct ids")
        keys.append((key_id, b64url_decode(encoded.strip(), f"masterkey_kek key '{key_id}'", length=32)))
        seen.add(key_id)
    if not keys:
        raise MalformedInput("masterkey_kek: no key given")
    return keys


def generate_config_value(key_id="k1"):
    """A fresh ``masterkey_kek`` value for the configuration file."""
    return f"{key_id}:{b64url_encode(os.urandom(32))}"
