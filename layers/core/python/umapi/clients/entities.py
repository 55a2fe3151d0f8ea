"""API clients: the domain entity, a plain dataclass (no pydantic: cheap to import for ``umapi.auth``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Client:
    id: str
    org_id: str
    name: str
    grant_types: list[str]
    scopes: list[str]
    redirect_uris: list[str]
    public: bool
    rate_limit_per_minute: int | None
    created_at: str
    updated_at: str
    version: int = 1
    secret_hash: str | None = field(default=None, repr=False)

    def audited_fields(self) -> dict[str, Any]:
        """What an audit entry may show of a client (never the secret or its hash)."""
        return {
            "name": self.name,
            "grant_types": self.grant_types,
            "scopes": self.scopes,
            "redirect_uris": self.redirect_uris,
            "public": self.public,
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }
