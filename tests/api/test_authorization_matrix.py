"""The authorization matrix, generated over every route of template.yaml.

Each route declares its permissions once, in its caller dependency (``requires(...)``). For
every route that declares some:
- a token holding every permission except one of them gets 403 naming it;
- a token holding only them (and what the sample body needs besides) does not get 403;
- for routes that name a resource by id, a token of another organization gets 404.
Routes that declare none are public (no caller) or open to any authenticated caller.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.api import ApiResponse, InProcessApi
from tests.support.flows import admin_token, new_client, new_org, token
from tests.support.provider_documents import ProviderDocuments
from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN
from umapi.bootstrap import AdminCredentials
from umapi.dependencies import PermissionDeclaration, declared_permissions

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("POST", "/auth/token"),
    ("POST", "/auth/revoke"),
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/authorize"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("POST", "/auth/verify-email"),
    ("POST", "/auth/introspect"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/oauth/logout"),
    ("GET", "/oauth/callback"),
    ("POST", "/oauth/logout"),
    ("GET", "/oauth/assets/passkey.js"),
    ("GET", "/dashboard"),
    ("GET", "/dashboard/{file}"),
}
# Open to any authenticated caller, but they answer only a user's token granted a scope (not a
# permission): a client's token gets 403 naming the scope (tests/api/test_openid_connect.py
# covers the users' side).
USER_SCOPE_ROUTES = {("GET", "/userinfo"): "openid", ("POST", "/userinfo"): "openid"}
# What a sample body needs beyond the route's own declaration (subscribing to user.* events).
BODY_NEEDS = {("POST", "/webhooks"): {"users:read"}}
_counter = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


@dataclass
class World:
    api: InProcessApi
    platform: AdminCredentials
    admin: str = ""
    org: str = ""
    other_org: str = ""
    tokens: dict[tuple[str, frozenset[str]], str] = field(default_factory=dict)
    issuer: str = ""  # an identity provider's, for SSO connections

    def token(self, scopes: set[str], org: str | None = None) -> str:
        org = org or self.org
        key = (org, frozenset(scopes))
        if key not in self.tokens:
            if PLATFORM_ADMIN in scopes:  # only clients of the platform organization hold it
                client = new_client(
                    self.api, self.admin, self.platform.org_id, sorted(scopes), rate_limit_per_minute=100_000
                )
            else:
                client = new_client(self.api, self.admin, org, sorted(scopes), rate_limit_per_minute=100_000)
            self.tokens[key] = token(self.api, client.client_id, client.client_secret)
        return self.tokens[key]

    @property
    def manager(self) -> str:
        return self.token(set(PERMISSIONS))

    def created(self, response: ApiResponse) -> dict[str, Any]:
        assert response.status in (200, 201), response.body
        return dict(response.json())

    # Fresh targets that hold nothing, so acting on them needs only the route's own permission.
    def user(self) -> str:
        user = self.created(
            self.api.post("/users", token=self.manager, json_body={"email": f"{unique('u')}@example.com", "name": "T"})
        )
        assert self.api.delete(f"/users/{user['id']}/roles/role_member", token=self.manager).status == 204
        return str(user["id"])

    def role(self, permissions: list[str]) -> str:
        body = {"name": unique("role-"), "permissions": permissions}
        return str(self.created(self.api.post("/roles", token=self.manager, json_body=body))["id"])

    def client(self) -> str:
        body = {"name": unique("c"), "scopes": []}
        return str(self.created(self.api.post("/clients", token=self.manager, json_body=body))["id"])

    def webhook(self) -> str:
        body = {"url": "https://8.8.8.8/hook", "events": ["user.created"]}
        return str(self.created(self.api.post("/webhooks", token=self.manager, json_body=body))["id"])

    def sso_connection(self) -> str:
        created = self.api.post("/sso-connections", token=self.manager, json_body=self.sso_body())
        return str(self.created(created)["id"])

    def sso_body(self) -> dict[str, Any]:
        """A connection whose default role needs only sso:write to grant (no escalation)."""
        return {
            "name": unique("sso "),
            "type": "oidc",
            "issuer": self.issuer,
            "client_id": "matrix",
            "client_secret": "matrix-secret",
            "domains": [f"{unique('d')}.example"],
            "default_role": self.role(["sso:write"]),
        }

    def event(self) -> str:
        self.user()
        events = self.created(self.api.get("/webhooks/events", token=self.manager))["data"]
        return str(events[0]["id"])


def sample(world: World, method: str, resource: str) -> tuple[str, Any]:
    """A concrete path and body for the route, with targets in the world's organization."""
    makers: dict[str, Callable[[], str]] = {
        "user_id": world.user,
        # a role that the route's own permission may act on: roles:write for /roles/{id}
        "role_id": lambda: world.role(["roles:write" if resource.startswith("/roles") else "users:update"]),
        "client_id": world.client,
        "webhook_id": world.webhook,
        "event_id": world.event,
        "connection_id": world.sso_connection,
        "org_id": lambda: world.org,
        "permission": lambda: "users:read",
        "factor_id": lambda: "mfa_01JF8RUS1A2B3C4D5E6F7G8H9I",
    }
    path = resource
    for name, make in makers.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", make())
    bodies: dict[tuple[str, str], Callable[[], Any]] = {
        ("POST", "/users"): lambda: {
            "email": f"{unique('n')}@example.com",
            "name": "N",
            "role": world.role(["users:create"]),
        },
        ("POST", "/users/bulk"): lambda: {"users": [{"email": f"{unique('b')}@example.com", "name": "B"}]},
        ("PATCH", "/users/{user_id}"): lambda: {"name": "Renamed"},
        ("PUT", "/users/{user_id}"): lambda: {"name": "Renamed"},
        ("POST", "/users/{user_id}/deactivate"): lambda: {"reason": "matrix"},
        ("POST", "/roles"): lambda: {"name": unique("new-"), "permissions": ["roles:write"]},
        ("PATCH", "/roles/{role_id}"): lambda: {"description": "changed"},
        ("POST", "/users/bulk/roles"): lambda: {
            "user_ids": [world.user()],
            "role_id": world.role(["users:update"]),
            "action": "assign",
        },
        ("PUT", "/users/bulk/roles"): lambda: {
            "user_ids": [world.user()],
            "role_id": world.role(["users:update"]),
            "action": "assign",
        },
        ("POST", "/users/{user_id}/roles"): lambda: {"role_id": world.role(["users:update"])},
        ("POST", "/webhooks"): lambda: {"url": "https://8.8.8.8/hook", "events": ["user.created"]},
        ("PATCH", "/webhooks/{webhook_id}"): lambda: {"description": "changed"},
        ("POST", "/orgs"): lambda: {"name": unique("Org ")},
        ("POST", "/clients"): lambda: {"name": unique("c"), "scopes": []},
        ("POST", "/sso-connections"): world.sso_body,
        ("PATCH", "/sso-connections/{connection_id}"): lambda: {"name": "Renamed"},
        ("PATCH", "/clients/{client_id}"): lambda: {"name": "renamed"},
        ("POST", "/users/me/mfa/totp/{factor_id}/confirm"): lambda: {"code": "123456"},
        ("DELETE", "/users/me/mfa/{factor_id}"): lambda: {"code": "123456"},
        ("POST", "/users/me/mfa/recovery-codes"): lambda: {"code": "123456"},
        ("POST", "/users/me/mfa/webauthn"): lambda: {"credential": {"id": "x"}},
    }
    make_body = bodies.get((method, resource))
    return path, make_body() if make_body else None


def declarations(api: InProcessApi) -> list[tuple[str, str, PermissionDeclaration | None]]:
    """Every template route with the declaration of the handler route that serves it."""
    found = []
    for route in api.routes:
        app = route.module.app
        handlers = [r for r in [*app._static_routes, *app._dynamic_routes] if r.openapi_path == route.resource]
        handler = next(h for h in handlers if h.method == route.method)
        found.append((route.method, route.resource, declared_permissions(handler.func)))
    return found


def test_every_route_declares_its_permissions_or_is_public(api: InProcessApi) -> None:
    undeclared = {(method, resource) for method, resource, decl in declarations(api) if decl is None}
    assert undeclared == PUBLIC


def test_the_matrix_over_every_route(
    api: InProcessApi, platform: AdminCredentials, providers: ProviderDocuments
) -> None:
    world = World(api, platform, issuer=providers.good("matrix"))
    world.admin = admin_token(api, platform)
    world.org = new_org(api, world.admin, "Matrix")
    world.other_org = new_org(api, world.admin, "Elsewhere")
    problems: list[str] = []
    checked = 0
    for method, resource, declaration in declarations(api):
        if declaration is None:
            continue
        required = set(declaration.permissions)
        for permission in sorted(required):
            path, body = sample(world, method, resource)
            answer = api.request(method, path, token=world.token(set(PERMISSIONS) - {permission}), json_body=body)
            checked += 1
            if answer.status != 403 or answer.error.get("required_permission") != permission:
                problems.append(f"{method} {resource} without {permission}: {answer.status} {answer.body[:120]}")
        path, body = sample(world, method, resource)
        only = required | BODY_NEEDS.get((method, resource), set())
        answer = api.request(method, path, token=world.token(only), json_body=body)
        checked += 1
        if (method, resource) in USER_SCOPE_ROUTES:
            if answer.status != 403 or answer.error.get("required_scope") != USER_SCOPE_ROUTES[(method, resource)]:
                problems.append(f"{method} {resource} with a client's token: {answer.status} {answer.body[:160]}")
            continue
        if answer.status == 403 or answer.status >= 500:
            problems.append(f"{method} {resource} with only {sorted(only)}: {answer.status} {answer.body[:160]}")
        if "{" in resource:
            path, body = sample(world, method, resource)
            stranger = world.token(set(PERMISSIONS), world.other_org)
            answer = api.request(method, path, token=stranger, json_body=body)
            checked += 1
            if answer.status != 404:
                problems.append(f"{method} {resource} from another organization: {answer.status} {answer.body[:120]}")
    assert not problems, "\n".join(problems)
    assert checked > 100
