"""Authenticated encryption and MACs with keys derived from the service's one data key.

The data key is 256 random bits held in Secrets Manager (``CURSOR_SECRET``), read once per
container. Each use derives its own key with HKDF-SHA256 (``purpose`` is the HKDF info), so a
cursor can never be opened as a stored secret, nor a login form token forged from a cursor.

- ``seal``/``open``: AES-256-GCM, a fresh 96-bit nonce per message, the ``context`` bound as
  associated data (a value sealed for one webhook does not open for another).
- ``mac``/``verify``: HMAC-SHA256, for values that must be recognised but not hidden.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from umapi.digests import b64url, unb64url

_NONCE_BYTES = 12


class Sealer:
    def __init__(self, data_key: bytes) -> None:
        if len(data_key) < 16:
            raise ValueError("the data key must hold at least 128 bits")
        self._data_key = data_key

    @lru_cache(maxsize=64)  # noqa: B019 - one Sealer per container, a handful of purposes
    def _key(self, purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self._data_key)

    def seal(self, purpose: str, plaintext: bytes, context: str = "") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        return b64url(nonce + AESGCM(self._key(purpose)).encrypt(nonce, plaintext, context.encode()))

    def open(self, purpose: str, sealed: str, context: str = "") -> bytes:
        """The plaintext, or ``ValueError`` if ``sealed`` was altered, truncated or sealed for
        another purpose or context."""
        raw = unb64url(sealed)
        if len(raw) <= _NONCE_BYTES:
            raise ValueError("too short")
        try:
            return AESGCM(self._key(purpose)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise ValueError("altered or foreign") from exc

    def mac(self, purpose: str, message: str) -> str:
        return b64url(hmac.new(self._key(purpose), message.encode(), hashlib.sha256).digest())

    def verify(self, purpose: str, message: str, tag: str) -> bool:
        return hmac.compare_digest(self.mac(purpose, message), tag)
