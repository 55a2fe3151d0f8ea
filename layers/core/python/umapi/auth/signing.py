"""RS256 signing keys: private keys in Secrets Manager, public keys (JWKS) in the table.

The key ring secret holds ``{"keys": [{"kid", "private_key_pem", "created_at", "activates_at"},
...]}``, newest first. Publish first, sign later: a rotated key enters the JWKS at once but
signs only from ``activates_at`` on, ``ACTIVATION_SECONDS`` later, by when every container's
verifying set and every client's cached JWKS (``max-age`` 300) hold it. Until then the current
key keeps signing; after it, the previous key still verifies the tokens it signed (rotation
without a single rejected token). Only the issuer reads the secret; every function verifies
with the public JWKS item, cached per container and re-read (at most every 30 s) when a token
names a key it has not seen.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from umapi import db
from umapi.digests import b64url, sha256_b64url
from umapi.errors import ServiceUnavailableError
from umapi.table_keys import JWKS_KEY
from umapi.time import utc_now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_SECONDS = 300
UNKNOWN_KID_REFRESH_SECONDS = 30
# A verifier's cached keys (CACHE_SECONDS) behind a client's cached JWKS (max-age, CACHE_SECONDS),
# with a minute to spare: a key signs only once everyone who verifies has seen it.
ACTIVATION_SECONDS = 2 * CACHE_SECONDS + 60


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return b64url(raw)


class SigningKey(NamedTuple):
    kid: str
    private_key: RSAPrivateKey
    created_at: str
    activates_at: float = 0.0  # unix seconds from which it signs (0: from the start)

    @classmethod
    def generate(cls, activates_at: float = 0.0) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(
            kid=jwk_thumbprint(private_key.public_key()),
            private_key=private_key,
            created_at=utc_now_iso(),
            activates_at=activates_at,
        )

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> SigningKey:
        # Our own key from our own secret: the costly RSA consistency check (tens of ms) is skipped.
        private_key = serialization.load_pem_private_key(
            stored["private_key_pem"].encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(private_key, RSAPrivateKey):
            raise ValueError("signing keys must be RSA")
        return cls(
            kid=stored["kid"],
            private_key=private_key,
            created_at=stored["created_at"],
            activates_at=float(stored.get("activates_at", 0)),
        )

    def to_stored(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "kid": self.kid,
            "private_key_pem": pem,
            "created_at": self.created_at,
            "activates_at": self.activates_at,
        }

    def signs_at(self, now: float) -> bool:
        return self.activates_at <= now

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


def jwk_thumbprint(public_key: RSAPublicKey) -> str:
    """RFC 7638 thumbprint: a key id that anyone can recompute from the public key."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    return sha256_b64url(canonical)


class KeyRingStore:
    """Reads and rotates the key ring (Secrets Manager) and publishes its public half (DynamoDB)."""

    def __init__(self, secrets: SecretsManagerClient, secret_id: str, dynamodb: DynamoDBClient, table: str) -> None:
        self._secrets = secrets
        self._secret_id = secret_id
        self._dynamodb = dynamodb
        self._table = table

    def load(self) -> list[SigningKey]:
        value = self._secrets.get_secret_value(SecretId=self._secret_id)["SecretString"]
        return [SigningKey.from_stored(stored) for stored in json.loads(value or "{}").get("keys", [])]

    def rotate(self, *, at_once: bool = False) -> SigningKey:
        """Add a new key in front, published now and signing ``ACTIVATION_SECONDS`` from now (or
        at once for a ring's first key). The ring keeps every key not yet signing, the key
        signing now and the one before it (its tokens may still be alive)."""
        now = time.time()
        existing = self.load()
        new_key = SigningKey.generate(activates_at=now if at_once or not existing else now + ACTIVATION_SECONDS)
        pending = [key for key in existing if not key.signs_at(now)]
        signing = [key for key in existing if key.signs_at(now)][:2]
        ring = [new_key, *pending, *signing]
        self._secrets.put_secret_value(
            SecretId=self._secret_id, SecretString=json.dumps({"keys": [key.to_stored() for key in ring]})
        )
        self.publish(ring)
        return new_key

    def ensure(self) -> SigningKey:
        """The current key, creating the first one if the ring is empty."""
        ring = self.load()
        if ring:
            self.publish(ring)
            return ring[0]
        return self.rotate()

    def publish(self, ring: list[SigningKey]) -> None:
        with db.translate_errors():
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **JWKS_KEY,
                    **db.serialize({"keys": [key.public_jwk() for key in ring], "updated_at": utc_now_iso()}),
                },
            )


class SigningKeyCache:
    """The issuer's key ring, cached per container for a few minutes; the key that signs is the
    newest one whose ``activates_at`` has come, chosen at each call."""

    def __init__(self, store: KeyRingStore) -> None:
        self._store = store
        self._ring: list[SigningKey] = []
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> SigningKey:
        with self._lock:
            if not self._ring or time.monotonic() - self._loaded_at > CACHE_SECONDS:
                self._ring, self._loaded_at = self._store.load(), time.monotonic()
            now = time.time()
            signing = next((key for key in self._ring if key.signs_at(now)), None)
            if signing is None:
                raise ServiceUnavailableError(
                    "No signing key is configured yet; run the bootstrap command.", retry_after=60
                )
            return signing


class PublicKeyCache:
    """Public keys by ``kid`` from the JWKS item, cached per container; unknown ids trigger a bounded re-read."""

    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._keys: dict[str, dict[str, str]] = {}
        self._loaded_at = -1e9
        self._lock = threading.Lock()

    def jwks(self) -> list[dict[str, str]]:
        with self._lock:
            if time.monotonic() - self._loaded_at > CACHE_SECONDS:
                self._reload()
            return list(self._keys.values())

    def get(self, kid: str) -> dict[str, str] | None:
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if age > CACHE_SECONDS or (kid not in self._keys and age > UNKNOWN_KID_REFRESH_SECONDS):
                self._reload()
            return self._keys.get(kid)

    def _reload(self) -> None:
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=JWKS_KEY).get("Item")
        keys: list[dict[str, Any]] = db.deserialize(item)["keys"] if item else []
        self._keys = {key["kid"]: key for key in keys}
        self._loaded_at = time.monotonic()
