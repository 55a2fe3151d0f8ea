"""SSO connections: the API's request and response models (docs/api.md §12). The entity is in
``entities``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints
from pydantic_core import PydanticCustomError

from umapi.api_model import ApiModel
from umapi.fields import NOT_BLANK, UNIQUE_ITEMS, Omittable
from umapi.roles.fields import RoleRef
from umapi.sso.domains import MAX_DOMAINS, claimable, normalized
from umapi.sso.entities import SsoConnection

# What the document says of a domain and an issuer; the rest (a public suffix, a free-mail
# provider, a provider that answers) depends on lists and on the network.
DOMAIN_PATTERN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
ISSUER_PATTERN = r"^https?://[^\s?#]+$"


def _domain(value: str) -> str:
    normalized(value)  # a malformed name is a value_error, as the pattern says
    try:
        return claimable(value)
    except ValueError as exc:
        raise PydanticCustomError("unclaimable_domain", str(exc)) from None


def _issuer(value: str) -> str:
    if not value.startswith(("https://", "http://")) or "#" in value or "?" in value or any(c.isspace() for c in value):
        raise ValueError("must be the provider's issuer URL (https, no query or fragment)")
    return value


ConnectionName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]
Issuer = Annotated[
    str,
    StringConstraints(min_length=8, max_length=512),
    Field(json_schema_extra={"pattern": ISSUER_PATTERN, "format": "uri"}),
    AfterValidator(_issuer),
]
IdpClientId = Annotated[str, StringConstraints(min_length=1, max_length=256), Field(json_schema_extra=NOT_BLANK)]
IdpClientSecret = Annotated[str, StringConstraints(min_length=1, max_length=1024), Field(json_schema_extra=NOT_BLANK)]
Domain = Annotated[
    str,
    StringConstraints(min_length=3, max_length=253),
    Field(json_schema_extra={"pattern": DOMAIN_PATTERN}),
    AfterValidator(_domain),
]


def _once_each(domains: list[str]) -> list[str]:
    """Domains compare without case: ``Acme.com`` and ``acme.com`` are one (kept once, in order)."""
    return list(dict.fromkeys(domains))


Domains = Annotated[
    list[Domain],
    Field(min_length=1, max_length=MAX_DOMAINS, json_schema_extra=UNIQUE_ITEMS),
    AfterValidator(_once_each),
]


class CreateSsoConnectionRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: ConnectionName
    type: Literal["oidc"]
    issuer: Issuer
    client_id: IdpClientId
    client_secret: IdpClientSecret
    domains: Domains
    jit_provisioning: StrictBool = True
    default_role: RoleRef = "member"
    enforce: StrictBool = False


class UpdateSsoConnectionRequest(ApiModel):
    """JSON Merge Patch of a connection: omitted fields stay. A new ``issuer`` is discovered
    and checked again; a new ``client_secret`` replaces the stored one."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[ConnectionName] = None
    issuer: Omittable[Issuer] = None
    client_id: Omittable[IdpClientId] = None
    client_secret: Omittable[IdpClientSecret] = None
    domains: Omittable[Domains] = None
    jit_provisioning: Omittable[StrictBool] = None
    default_role: Omittable[RoleRef] = None
    enforce: Omittable[StrictBool] = None


class SsoConnectionResponse(ApiModel):
    """A connection as the API shows it: never its client secret."""

    id: str
    org_id: str
    name: str
    type: Literal["oidc"]
    issuer: str
    client_id: str
    domains: list[str]
    jit_provisioning: bool
    default_role: str
    enforce: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, connection: SsoConnection) -> SsoConnectionResponse:
        return cls(
            id=connection.id,
            org_id=connection.org_id,
            name=connection.name,
            type="oidc",
            issuer=connection.issuer,
            client_id=connection.client_id,
            domains=list(connection.domains),
            jit_provisioning=connection.jit_provisioning,
            default_role=connection.default_role,
            enforce=connection.enforce,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
        )
