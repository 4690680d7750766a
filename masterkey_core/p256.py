"""P-256 key handling shared by the envelope (ECDH) and the device signature (ECDSA)."""

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import InvalidDeviceKey, MalformedInput

CURVE = ec.SECP256R1
RAW_PUBLIC_LEN = 65  # 0x04 || X || Y, what WebCrypto's exportKey("raw") gives
SCALAR_LEN = 32
# Group order n: scalars and ECDSA r, s must lie in [1, n-1].
ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def load_public_key(data, field="public key", error=InvalidDeviceKey):
    """Load a P-256 public key from raw uncompressed bytes or SPKI DER.

    The curve is checked and the point is validated (on the curve, not infinity) by
    ``from_encoded_point``; compressed points and other curves are refused.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise error(f"{field}: expected bytes")
    data = bytes(data)
    try:
        if len(data) == RAW_PUBLIC_LEN and data[0] == 0x04:
            return ec.EllipticCurvePublicKey.from_encoded_point(CURVE(), data)
        if 80 <= len(data) <= 128 and data[0] == 0x30:
            key = serialization.load_der_public_key(data)
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != CURVE.name:
                raise error(f"{field}: not a P-256 key")
            return key
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise error(f"{field}: not a valid P-256 point") from exc
    raise error(f"{field}: expected a 65-byte uncompressed P-256 point or SPKI")


def public_bytes(key):
    """Raw uncompressed point of a public key, or of a private key's public half."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def new_private_key():
    return ec.generate_private_key(CURVE())


def private_scalar(key):
    return key.private_numbers().private_value.to_bytes(SCALAR_LEN, "big")


def private_from_scalar(scalar):
    if not isinstance(scalar, (bytes, bytearray)) or len(scalar) != SCALAR_LEN:
        raise MalformedInput("private scalar: expected 32 bytes")
    value = int.from_bytes(scalar, "big")
    if not 0 < value < ORDER:
        raise MalformedInput("private scalar: out of range")
    try:
        return ec.derive_private_key(value, CURVE())
    except ValueError as exc:
        raise MalformedInput("private scalar: out of range") from exc


def ecdh(private_key, peer_public_key):
    """Shared x coordinate, as WebCrypto's ECDH deriveBits(256) returns it."""
    return private_key.exchange(ec.ECDH(), peer_public_key)
