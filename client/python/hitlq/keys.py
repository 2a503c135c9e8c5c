"""keys.py - credentials of the hitlq protocol (proto/PROTOCOL.md §3.1, §3.2).

API keys are `hitlq_<16 hex key id>_<43 base64url secret>`.  Ed25519 keys
are `hitlq_ed25519_sk_<64 hex seed>` / `hitlq_ed25519_pk_<64 hex>`; the key
id is the first 8 bytes of SHA-256("hitlq-ed25519-key-id" || public key) and
AUTH signs "hitlq-auth-v1" || nonce || TLS exporter (or 32 zeros) ||
key id (8 bytes) || role.  Signing uses python3-cryptography.
"""
import hashlib
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

from .errors import ClientError

SK_PREFIX = "hitlq_ed25519_sk_"
PK_PREFIX = "hitlq_ed25519_pk_"
AUTH_CONTEXT = b"hitlq-auth-v1"
KEY_ID_DOMAIN = b"hitlq-ed25519-key-id"
NONCE_LEN = 32
EXPORTER_LEN = 32
EXPORTER_LABEL = b"EXPORTER-hitlq-auth"
ROLES = ("bot", "specialist", "auditor", "admin")

_API_KEY = re.compile(r"hitlq_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def check_api_key(key):
    """The key stripped of surrounding white space; ClientError unless it
    has the form of an API key (the server decides whether it is valid)."""
    key = key.strip() if isinstance(key, str) else ""
    if not _API_KEY.fullmatch(key):
        raise ClientError(message="an API key is hitlq_<16 hex>_<43 base64url characters>")
    return key


def _parse_hex_key(text, prefix):
    """The 32 bytes of a hitlq_ed25519_* key string."""
    text = text.strip() if isinstance(text, str) else ""
    if not text.startswith(prefix) or len(text) != len(prefix) + 64:
        raise ClientError(message="expected %s followed by 64 hex digits" % prefix)
    try:
        return bytes.fromhex(text[len(prefix):])
    except ValueError:
        raise ClientError(message="expected %s followed by 64 hex digits" % prefix) from None


class Ed25519Key:
    """A signing key for challenge-response: from its secret key string
    (or seed bytes).  public_key / key_id are what KEY_ADD registers."""

    def __init__(self, secret):
        seed = secret if isinstance(secret, bytes) else _parse_hex_key(secret, SK_PREFIX)
        if len(seed) != 32:
            raise ClientError(message="an Ed25519 seed is 32 bytes")
        self._sk = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_bytes = self._sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id_bytes = key_id_of(self.public_bytes)

    @classmethod
    def generate(cls):
        """A new random key."""
        sk = Ed25519PrivateKey.generate()
        return cls(sk.private_bytes(serialization.Encoding.Raw,
                                    serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption()))

    @property
    def key_id(self):
        """The 16 hex digits sent in AUTH."""
        return self.key_id_bytes.hex()

    @property
    def public_key(self):
        """hitlq_ed25519_pk_<hex>: the string KEY_ADD public_key takes."""
        return PK_PREFIX + self.public_bytes.hex()

    def secret_string(self):
        """hitlq_ed25519_sk_<hex seed>: keep it secret."""
        seed = self._sk.private_bytes(serialization.Encoding.Raw,
                                      serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption())
        return SK_PREFIX + seed.hex()

    def sign_challenge(self, nonce, exporter, role):
        """The 64-byte AUTH signature over the §3.2 message."""
        return self._sk.sign(auth_message(nonce, exporter, self.key_id_bytes, role))


def key_id_of(public_key):
    """The 8-byte key id of a 32-byte Ed25519 public key."""
    return hashlib.sha256(KEY_ID_DOMAIN + public_key).digest()[:8]


def parse_public_key(text):
    """The 32 bytes of a hitlq_ed25519_pk_ string."""
    return _parse_hex_key(text, PK_PREFIX)


def auth_message(nonce, exporter, key_id, role):
    """"hitlq-auth-v1" || nonce (32) || exporter (32) || key id (8) || role."""
    if len(nonce) != NONCE_LEN or len(exporter) != EXPORTER_LEN or len(key_id) != 8:
        raise ClientError(message="challenge nonce, exporter or key id of the wrong length")
    return AUTH_CONTEXT + bytes(nonce) + bytes(exporter) + bytes(key_id) + role.encode("ascii")
