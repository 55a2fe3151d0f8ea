"""The permission vocabulary, and what each system role grants (docs/api.md §2)."""

from __future__ import annotations

from typing import Final

PLATFORM_ADMIN: Final = "platform:admin"

PERMISSIONS: Final = (
    "users:read",
    "users:create",
    "users:update",
    "users:delete",
    "roles:read",
    "roles:write",
    "clients:read",
    "clients:write",
    "webhooks:read",
    "webhooks:write",
    "audit:read",
    "sso:read",
    "sso:write",
)

# Scopes a client may hold: every permission, and platform:admin for platform clients.
SCOPES: Final = (*PERMISSIONS, PLATFORM_ADMIN)

# OpenID Connect's scopes (docs/api.md §12): any client may request them for its users. They ask
# for an ID token and the claims it and /userinfo carry, and grant no API permission.
OPENID: Final = "openid"
OIDC_SCOPES: Final = (OPENID, "profile", "email")
OIDC_SCOPE_DESCRIPTIONS: Final[dict[str, str]] = {
    OPENID: "sign the user in with OpenID Connect: an ID token, and /userinfo",
    "profile": "the user's name in the ID token and /userinfo",
    "email": "the user's email address and whether it is verified",
}

# What each scope lets a token do (the OpenAPI document's oauth2 scheme shows them).
SCOPE_DESCRIPTIONS: Final[dict[str, str]] = {
    "users:read": "read users",
    "users:create": "create users",
    "users:update": "change users, their status and roles",
    "users:delete": "archive and purge users",
    "roles:read": "read roles",
    "roles:write": "create, change and delete roles",
    "clients:read": "read API clients",
    "clients:write": "create, change, rotate and delete API clients",
    "webhooks:read": "read webhook subscriptions and events",
    "webhooks:write": "manage webhook subscriptions and deliveries",
    "audit:read": "read the audit log",
    "sso:read": "read SSO connections",
    "sso:write": "create, change and delete SSO connections",
    PLATFORM_ADMIN: "act in every organization (platform clients only)",
}

SYSTEM_ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset(PERMISSIONS),
    "member": frozenset({"users:read", "roles:read"}),
    "viewer": frozenset({"users:read"}),
}


def parse_scope(scope: str | None) -> frozenset[str]:
    """A space-separated scope string as a set (RFC 6749 §3.3)."""
    return frozenset(scope.split()) if scope else frozenset()


def format_scope(scopes: frozenset[str] | set[str]) -> str:
    """Scopes in the canonical order (OpenID Connect's, then ``SCOPES``), unknown ones last,
    space-separated."""
    order = {name: index for index, name in enumerate((*OIDC_SCOPES, *SCOPES))}
    return " ".join(sorted(scopes, key=lambda name: (order.get(name, len(order)), name)))
