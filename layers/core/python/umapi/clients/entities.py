"""API clients: the domain entity, a plain record (no pydantic: cheap to import for ``umapi.auth``)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Client(NamedTuple):
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
    secret_hash: str | None = None  # never in repr (below) or audit entries
    # Where RP-initiated logout may send the browser back to (OpenID Connect, docs/api.md §12).
    post_logout_redirect_uris: list[str] = []  # noqa: RUF012 - a shared default, never changed: records are replaced
    # The organization's developer dashboard (umapi.clients.dashboard): its redirect URI is the
    # deployment's /dashboard, and the API never changes it.
    dashboard: bool = False

    def __repr__(self) -> str:
        return f"Client(id={self.id!r}, org_id={self.org_id!r}, name={self.name!r}, version={self.version!r})"

    def redirect_uris_at(self, issuer: str) -> list[str]:
        """Where this client may be sent back to, on the deployment at ``issuer``."""
        return [f"{issuer.rstrip('/')}/dashboard"] if self.dashboard else self.redirect_uris

    def post_logout_redirect_uris_at(self, issuer: str) -> list[str]:
        return [f"{issuer.rstrip('/')}/dashboard"] if self.dashboard else self.post_logout_redirect_uris

    def audited_fields(self) -> dict[str, Any]:
        """What an audit entry may show of a client (never the secret or its hash)."""
        return {
            "name": self.name,
            "grant_types": self.grant_types,
            "scopes": self.scopes,
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "public": self.public,
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }
