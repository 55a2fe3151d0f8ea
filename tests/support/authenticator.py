"""A software passkey authenticator for HTTP-level tests: what a browser and an authenticator
answer to WebAuthn's ``create()`` and ``get()`` (attestation ``none``, ES256, user present and
verified), built from the specification, so the API's verification (the ``webauthn`` package)
meets answers it did not make. The browser suite (tests/browser) uses Chromium's own virtual
authenticator instead."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    origin: str = "http://127.0.0.1:3000"  # the in-process API's issuer
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    user_verified: bool = True

    def _flags(self, *extra: int) -> int:
        flags = UP | (UV if self.user_verified else 0)
        for bit in extra:
            flags |= bit
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
        """The ``RegistrationResponseJSON`` for creation ``options``."""
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = rp_hash + bytes([self._flags(AT)]) + struct.pack(">I", self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._credential(
            clientDataJSON=b64url(client_data), attestationObject=b64url(attestation), transports=["internal"]
        )

    def get(self, options: dict[str, Any], origin: str | None = None, *, count: int | None = None) -> dict[str, Any]:
        """The ``AuthenticationResponseJSON`` for request ``options``; the counter moves on by
        one unless ``count`` says where it is."""
        self.sign_count = self.sign_count + 1 if count is None else count
        rp_hash = hashlib.sha256(options["rpId"].encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return self._credential(
            clientDataJSON=b64url(client_data),
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
            userHandle=None,
        )

    def _credential(self, **response: Any) -> dict[str, Any]:
        """A ``PublicKeyCredential`` as JSON, around the authenticator's ``response``."""
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }


def clear_of_a_step_boundary(margin: float) -> None:
    """Wait, if need be, until the current 30-second TOTP step has ``margin`` seconds left, so
    that codes computed for "this step" (and the steps either side) keep their meaning through a
    test: a step that ends between computing a code and checking it would shift every offset."""
    import time

    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)
