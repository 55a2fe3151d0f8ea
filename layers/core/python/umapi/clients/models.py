"""API clients: the API's request and response models. The entity is in ``entities``."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from umapi.access.permissions import SCOPES
from umapi.clients.entities import Client
from umapi.clients.redirects import is_valid_redirect_uri

GrantType = Literal["client_credentials", "authorization_code", "refresh_token"]
Scope = Literal[SCOPES]  # type: ignore[valid-type]
ClientName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RateLimit = Annotated[int, Field(ge=1, le=1_000_000)]
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def _check_redirect_uri(uri: str) -> str:
    """Absolute https URIs without fragments; plain http only for loopback (RFC 8252 §7.3)."""
    if not is_valid_redirect_uri(uri):
        raise ValueError("must be an absolute URI (RFC 3986) without a fragment, spaces or control characters")
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc or parts.scheme not in ("https", "http"):
        raise ValueError("must be an absolute https URI without a fragment")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError("http is allowed only for localhost, 127.0.0.1 and [::1]")
    return uri


RedirectUri = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_check_redirect_uri)]


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


GrantTypes = Annotated[list[GrantType], Field(min_length=1), AfterValidator(_unique)]
Scopes = Annotated[list[Scope], AfterValidator(_unique)]
RedirectUris = Annotated[list[RedirectUri], Field(max_length=20), AfterValidator(_unique)]


class _ClientRules(BaseModel):
    @model_validator(mode="after")
    def _grant_rules(self) -> Any:
        grants = getattr(self, "grant_types", None) or []
        if getattr(self, "public", False) and "client_credentials" in grants:
            raise ValueError("a public client cannot use client_credentials (it cannot keep a secret)")
        if "authorization_code" in grants and not getattr(self, "redirect_uris", None):
            raise ValueError("authorization_code needs at least one redirect_uri")
        return self


class CreateClientRequest(_ClientRules):
    model_config = ConfigDict(extra="forbid")

    name: ClientName
    grant_types: GrantTypes = ["client_credentials"]
    scopes: Scopes = []
    redirect_uris: RedirectUris = []
    public: StrictBool = False
    rate_limit_per_minute: RateLimit | None = None


class UpdateClientRequest(BaseModel):
    """JSON Merge Patch of a client: omitted fields stay, ``null`` resets the rate limit to the default."""

    model_config = ConfigDict(extra="forbid")

    name: ClientName | None = None
    grant_types: GrantTypes | None = None
    scopes: Scopes | None = None
    redirect_uris: RedirectUris | None = None
    rate_limit_per_minute: RateLimit | None = None


class ClientResponse(BaseModel):
    id: str
    org_id: str
    name: str
    grant_types: list[GrantType]
    scopes: list[str]
    redirect_uris: list[str]
    public: bool
    rate_limit_per_minute: int | None
    created_at: str
    updated_at: str


class ClientWithSecretResponse(ClientResponse):
    """Returned once, on creation and rotation: the secret is never shown again."""

    client_secret: str | None


def client_response(client: Client) -> ClientResponse:
    return ClientResponse(
        id=client.id,
        org_id=client.org_id,
        name=client.name,
        grant_types=client.grant_types,  # type: ignore[arg-type]
        scopes=client.scopes,
        redirect_uris=client.redirect_uris,
        public=client.public,
        rate_limit_per_minute=client.rate_limit_per_minute,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )
