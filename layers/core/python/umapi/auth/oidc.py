"""OpenID Connect (docs/api.md §12): what an ID token and ``/userinfo`` say about a user, by the
scopes the sign-in granted, the provider's discovery document, and ``/userinfo``. No signing
here: the sign-in function may import it."""

from __future__ import annotations

from typing import Any, NamedTuple

from umapi.access.permissions import OIDC_SCOPES, OPENID, SCOPES
from umapi.access.principal import Principal
from umapi.errors import InsufficientScopeError, InvalidTokenError
from umapi.users.entities import User
from umapi.users.repository import UserRepository

CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "azp",
    "at_hash",
    "org_id",
    "email",
    "email_verified",
    "name",
)


class SignIn(NamedTuple):
    """When and how the user of a code or refresh family signed in, and the client's nonce."""

    auth_time: int
    amr: tuple[str, ...]
    nonce: str | None = None
    idp: str | None = None  # the SSO connection, for a federated sign-in


def user_claims(user: User, scopes: frozenset[str]) -> dict[str, Any]:
    """The claims ``scopes`` release about ``user`` (OIDC Core §5.4), besides ``sub``."""
    claims: dict[str, Any] = {"org_id": user.org_id}
    if "email" in scopes:
        claims |= {"email": user.email, "email_verified": user.email_verified}
    if "profile" in scopes:
        claims["name"] = user.name
    return claims


def discovery_document(issuer: str, grant_types: tuple[str, ...]) -> dict[str, Any]:
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3), consistent with RFC 8414's."""
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/auth/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/auth/revoke",
        "introspection_endpoint": f"{issuer}/auth/introspect",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "scopes_supported": [*OIDC_SCOPES, *SCOPES],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(grant_types),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "service_documentation": f"{issuer}/docs",
    }


class UserInfo:
    """``/userinfo`` (OIDC Core §5.3): the claims of the user a token with ``openid`` belongs to."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    def claims(self, principal: Principal) -> dict[str, Any]:
        if not principal.subject.startswith("usr_") or OPENID not in principal.scopes:
            raise InsufficientScopeError("This endpoint needs a user's token granted the openid scope.", OPENID)
        user = self._users.get(principal.home_org_id, principal.subject, consistent=True)
        if user is None:  # the authenticator read it a moment ago; purged since
            raise InvalidTokenError("The access token was revoked.")
        return {"sub": user.id, **user_claims(user, principal.scopes)}
