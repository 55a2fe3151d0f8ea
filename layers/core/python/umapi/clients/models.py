"""API clients: the API's request and response models. The entity is in ``entities``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from umapi.access.permissions import SCOPES
from umapi.api_model import ApiModel
from umapi.clients.entities import Client
from umapi.clients.redirects import REGISTRABLE_REDIRECT, is_registrable_redirect_uri
from umapi.fields import NOT_BLANK, UNIQUE_ITEMS, Omittable, no_repeats

GrantType = Literal["client_credentials", "authorization_code", "refresh_token"]
Scope = Literal[SCOPES]  # type: ignore[valid-type]
ClientName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]
RateLimit = Annotated[int, Field(ge=1, le=1_000_000)]


def _check_redirect_uri(uri: str) -> str:
    if not is_registrable_redirect_uri(uri):
        raise ValueError(
            "must be an https URI (plain http only for localhost, 127.0.0.1 and [::1]) without user info or a fragment"
        )
    return uri


RedirectUri = Annotated[
    str,
    StringConstraints(max_length=2000),
    Field(json_schema_extra={"pattern": REGISTRABLE_REDIRECT}),
    AfterValidator(_check_redirect_uri),
]


GrantTypes = Annotated[list[GrantType], Field(min_length=1, json_schema_extra=UNIQUE_ITEMS), AfterValidator(no_repeats)]
Scopes = Annotated[list[Scope], Field(json_schema_extra=UNIQUE_ITEMS), AfterValidator(no_repeats)]
RedirectUris = Annotated[
    list[RedirectUri], Field(max_length=20, json_schema_extra=UNIQUE_ITEMS), AfterValidator(no_repeats)
]


def _codes_need_redirects(*required: str) -> dict[str, Any]:
    """The redirect rule as JSON Schema: with authorization_code, at least one redirect URI
    (``required``: the fields the rule applies to only when both are present)."""
    return {
        "if": {
            "properties": {"grant_types": {"contains": {"const": "authorization_code"}}},
            "required": ["grant_types", *required],
        },
        "then": {"required": ["redirect_uris"], "properties": {"redirect_uris": {"minItems": 1}}},
    }


# The grant rules (broken_grant_rule) as JSON Schema (the grant types default to client_credentials).
CLIENT_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"public": {"const": True}}, "required": ["public"]},
            "then": {
                "required": ["grant_types"],
                "properties": {"grant_types": {"not": {"contains": {"const": "client_credentials"}}}},
            },
        },
        _codes_need_redirects(),
    ]
}


def broken_grant_rule(public: bool | None, grants: Sequence[str], redirect_uris: Sequence[str] | None) -> str | None:
    """What a client's grants break, if anything; ``None`` for ``public`` or ``redirect_uris``
    means not known (a patch that leaves them), and the rule on them is not checked."""
    if public and "client_credentials" in grants:
        return "a public client cannot use client_credentials (it cannot keep a secret)"
    if "authorization_code" in grants and redirect_uris is not None and not redirect_uris:
        return "authorization_code needs at least one redirect_uri"
    return None


class _ClientRules(ApiModel):
    @model_validator(mode="after")
    def _grant_rules(self) -> Any:
        broken = broken_grant_rule(
            getattr(self, "public", False), getattr(self, "grant_types", None) or [], getattr(self, "redirect_uris", [])
        )
        if broken:
            raise ValueError(broken)
        return self


class CreateClientRequest(_ClientRules):
    model_config = ConfigDict(extra="forbid", json_schema_extra=CLIENT_RULES)

    name: ClientName
    grant_types: GrantTypes = ["client_credentials"]  # noqa: RUF012 - pydantic copies defaults
    scopes: Scopes = []  # noqa: RUF012
    redirect_uris: RedirectUris = []  # noqa: RUF012
    post_logout_redirect_uris: RedirectUris = []  # noqa: RUF012
    public: StrictBool = False
    rate_limit_per_minute: RateLimit | None = None


class UpdateClientRequest(ApiModel):
    """JSON Merge Patch of a client: omitted fields stay, ``null`` resets the rate limit to the default.
    The service checks the grant rules on the patched client; a patch that breaks them by itself
    (authorization_code with no redirect URIs) is refused here, as the document says."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_codes_need_redirects("redirect_uris"))

    @model_validator(mode="after")
    def _redirects_for_codes(self) -> Any:
        broken = broken_grant_rule(None, self.grant_types or [], self.redirect_uris)
        if broken:
            raise ValueError(broken)
        return self

    name: Omittable[ClientName] = None
    grant_types: Omittable[GrantTypes] = None
    scopes: Omittable[Scopes] = None
    redirect_uris: Omittable[RedirectUris] = None
    post_logout_redirect_uris: Omittable[RedirectUris] = None
    rate_limit_per_minute: RateLimit | None = None


class ClientResponse(ApiModel):
    id: str
    org_id: str
    name: str
    grant_types: list[GrantType]
    scopes: list[str]
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    public: bool
    rate_limit_per_minute: int | None
    created_at: str
    updated_at: str
    dashboard: bool = False  # the organization's developer dashboard (docs/api.md §13): read-only

    @classmethod
    def of(cls, client: Client) -> ClientResponse:
        return cls(
            id=client.id,
            org_id=client.org_id,
            name=client.name,
            grant_types=client.grant_types,  # type: ignore[arg-type]
            scopes=client.scopes,
            redirect_uris=client.redirect_uris,
            post_logout_redirect_uris=client.post_logout_redirect_uris,
            public=client.public,
            rate_limit_per_minute=client.rate_limit_per_minute,
            dashboard=client.dashboard,
            created_at=client.created_at,
            updated_at=client.updated_at,
        )


class ClientWithSecretResponse(ClientResponse):
    """Returned once, on creation and rotation: the secret is never shown again."""

    client_secret: str | None

    @classmethod
    def of_new(cls, client: Client, secret: str | None) -> ClientWithSecretResponse:
        return cls(**ClientResponse.of(client).model_dump(), client_secret=secret)
