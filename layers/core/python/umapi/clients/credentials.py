"""Client secrets: made, hashed and checked at the token endpoint (no pydantic: ``umapi.auth``
imports this, and the Auth function starts faster without the clients API's models)."""

from __future__ import annotations

import hmac
import secrets

from umapi.clients.entities import Client
from umapi.clients.repository import ClientRepository
from umapi.digests import sha256_hex

# Compared against when the client id is unknown, so both failures take the same time.
_DUMMY_HASH = sha256_hex("no such client")


def hash_secret(secret: str) -> str:
    """Client secrets are 256 random bits, so one SHA-256 is as strong as a slow hash here."""
    return sha256_hex(secret)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def authenticate_client(repository: ClientRepository, client_id: str, secret: str | None) -> Client | None:
    """The client if ``secret`` is its secret (or it is public and none was sent), else ``None``.

    An unknown client id costs the same hash comparison as a wrong secret.
    """
    client = repository.get(client_id) if client_id else None
    if client is not None and client.public:
        return client if secret is None else None
    expected = client.secret_hash if client is not None and client.secret_hash else _DUMMY_HASH
    matches = hmac.compare_digest(hash_secret(secret or ""), expected)
    return client if client is not None and matches else None
