"""OpenID Connect (docs/api.md §12): ID tokens from the code exchange and refresh, /userinfo, the
discovery document, and RFC 7662 introspection. Tokens are checked with PyJWT against the JWKS
the server publishes, as a relying party would."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.login import App, LoginWorld, code_from, exchange, login_world, refresh, sign_in
from umapi.bootstrap import AdminCredentials

ISSUER = "http://127.0.0.1:3000"  # what the in-process API is called on
FULL = "openid profile email users:read"


def id_claims(world: LoginWorld, app: App, id_token: str, **checks: Any) -> dict[str, Any]:
    """The ID token's claims, verified like a relying party: signature by a key of the JWKS,
    RS256 only, issuer, audience (the client), lifetime."""
    keys = world.api.get("/.well-known/jwks.json").json()["keys"]
    header = jwt.get_unverified_header(id_token)
    assert header["typ"] == "JWT"
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    return dict(
        jwt.decode(
            id_token,
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            audience=app.client_id,
            issuer=ISSUER,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "at_hash"]},
            **checks,
        )
    )


def at_hash(access_token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()[:16]).rstrip(b"=").decode()


def signed_in(world: LoginWorld, app: App, scope: str = FULL, **extra: str) -> dict[str, Any]:
    answer = exchange(world, app, code_from(sign_in(world, app, scope=scope, **extra)))
    assert answer.status == 200, answer.body
    return dict(answer.json())


def test_the_code_exchange_returns_an_id_token_a_relying_party_accepts(world: LoginWorld) -> None:
    before = int(time.time())
    tokens = signed_in(world, world.web, nonce="n-0S6_WzA2Mj")
    assert tokens["scope"] == "openid profile email users:read"
    claims = id_claims(world, world.web, tokens["id_token"])
    assert claims["sub"] == world.user["id"]
    assert claims["azp"] == world.web.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["amr"] == ["pwd"]
    assert before - 1 <= claims["auth_time"] <= int(time.time())
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert claims["org_id"] == world.tenant.org_id
    assert claims["email"] == world.user["email"]
    assert claims["email_verified"] is True
    assert claims["name"] == "Sign In"


def test_claims_follow_the_scopes_and_no_openid_means_no_id_token(world: LoginWorld) -> None:
    claims = id_claims(world, world.spa, signed_in(world, world.spa, scope="openid")["id_token"])
    assert "email" not in claims
    assert "name" not in claims
    assert "nonce" not in claims
    assert "id_token" not in signed_in(world, world.web, scope="users:read profile email")


def test_openid_alone_grants_no_api_permission(world: LoginWorld) -> None:
    tokens = signed_in(world, world.spa, scope="openid email")
    assert tokens["scope"] == "openid email"
    assert world.api.get("/users", token=tokens["access_token"]).status == 403
    assert world.api.get("/userinfo", token=tokens["access_token"]).status == 200


def test_a_refresh_brings_a_new_id_token_of_the_same_sign_in(world: LoginWorld) -> None:
    first = signed_in(world, world.web, nonce="abc")
    time.sleep(1.01)
    again = refresh(world, world.web, first["refresh_token"])
    assert again.status == 200, again.body
    renewed = again.json()
    claims = id_claims(world, world.web, renewed["id_token"])
    original = id_claims(world, world.web, first["id_token"])
    assert claims["auth_time"] == original["auth_time"]
    assert claims["iat"] > original["iat"]
    assert claims["at_hash"] == at_hash(renewed["access_token"])
    assert "nonce" not in claims


def test_an_id_token_is_not_an_access_token(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    refused = world.api.get("/users/me", token=tokens["id_token"])
    assert refused.status == 401
    assert refused.error["code"] == "unauthenticated"
    assert world.api.get("/userinfo", token=tokens["id_token"]).status == 401


def test_a_nonce_is_bounded_text(world: LoginWorld) -> None:
    from tests.support.login import authorize_params

    answer = world.api.get("/oauth/authorize", query=authorize_params(world.web, scope="openid", nonce="n" * 513))
    assert answer.status == 302
    assert parse_qs(urlsplit(answer.header("Location") or "").query)["error"] == ["invalid_request"]


# --------------------------------------------------------------------------- userinfo
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_answers_the_claims_of_the_tokens_scopes(world: LoginWorld, method: str) -> None:
    tokens = signed_in(world, world.web)
    answer = world.api.request(method, "/userinfo", token=tokens["access_token"])
    assert answer.status == 200, answer.body
    assert answer.json() == {
        "sub": world.user["id"],
        "org_id": world.tenant.org_id,
        "email": world.user["email"],
        "email_verified": True,
        "name": "Sign In",
    }
    assert answer.header("Cache-Control") == "no-store"
    narrow = signed_in(world, world.web, scope="openid")
    assert world.api.get("/userinfo", token=narrow["access_token"]).json() == {
        "sub": world.user["id"],
        "org_id": world.tenant.org_id,
    }


def test_userinfo_needs_a_users_token_with_openid(world: LoginWorld, api: InProcessApi) -> None:
    without = signed_in(world, world.web, scope="users:read")
    refused = world.api.get("/userinfo", token=without["access_token"])
    assert refused.status == 403
    assert refused.error["code"] == "forbidden"
    assert refused.header("WWW-Authenticate") == 'Bearer error="insufficient_scope", scope="openid"'
    assert world.api.get("/userinfo", token=world.tenant.access).status == 403  # a client's token
    anonymous = world.api.get("/userinfo")
    assert anonymous.status == 401
    assert anonymous.header("WWW-Authenticate") == "Bearer"


def test_userinfo_stops_when_the_user_is_suspended(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    assert world.api.post(f"/users/{world.user['id']}/deactivate", token=world.tenant.access).status == 200
    refused = world.api.get("/userinfo", token=tokens["access_token"])
    assert refused.status == 401
    assert 'error="invalid_token"' in (refused.header("WWW-Authenticate") or "")


# --------------------------------------------------------------------------- discovery
def test_discovery_documents_agree_and_name_every_endpoint(world: LoginWorld) -> None:
    openid = world.api.get("/.well-known/openid-configuration")
    assert openid.status == 200
    document = openid.json()
    assert world.api.get("/.well-known/oauth-authorization-server").json() == document
    assert document["issuer"] == ISSUER
    for name, path in {
        "authorization_endpoint": "/oauth/authorize",
        "token_endpoint": "/auth/token",
        "userinfo_endpoint": "/userinfo",
        "jwks_uri": "/.well-known/jwks.json",
        "revocation_endpoint": "/auth/revoke",
        "introspection_endpoint": "/auth/introspect",
        "end_session_endpoint": "/oauth/logout",
    }.items():
        assert document[name] == f"{ISSUER}{path}"
    assert {"openid", "profile", "email", "users:read"} <= set(document["scopes_supported"])
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["subject_types_supported"] == ["public"]
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]


# --------------------------------------------------------------------------- introspection
def introspect(world: LoginWorld, app: App, value: str, **extra: str) -> Any:
    form = {"token": value} | extra
    if app.client_secret is None:
        answer = world.api.post("/auth/introspect", form=form | {"client_id": app.client_id})
    else:
        answer = world.api.post("/auth/introspect", form=form, basic=(app.client_id, app.client_secret))
    assert answer.status == 200, answer.body
    assert answer.header("Cache-Control") == "no-store"
    return answer.json()


def test_an_access_token_introspects_active_with_its_fields(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert introspect(world, world.web, tokens["access_token"]) == {
        "active": True,
        "scope": tokens["scope"],
        "client_id": world.web.client_id,
        "sub": world.user["id"],
        "exp": claims["exp"],
        "iat": claims["iat"],
        "iss": ISSUER,
        "token_type": "Bearer",
        "org_id": world.tenant.org_id,
    }


def test_a_refresh_token_introspects_without_being_used(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    answer = introspect(world, world.web, tokens["refresh_token"], token_type_hint="refresh_token")
    assert answer["active"] is True
    assert answer["token_type"] == "refresh_token"
    assert answer["sub"] == world.user["id"]
    assert answer["exp"] > time.time() + 29 * 86400
    assert introspect(world, world.web, tokens["refresh_token"])["active"] is True  # twice: still unused
    renewed = refresh(world, world.web, tokens["refresh_token"])
    assert renewed.status == 200  # introspection did not spend it
    assert introspect(world, world.web, tokens["refresh_token"]) == {"active": False}  # now it is used
    assert introspect(world, world.web, renewed.json()["refresh_token"])["active"] is True


def test_a_client_token_introspects_active(world: LoginWorld, api: InProcessApi) -> None:
    answer = introspect(world, world.web, world.tenant.access)
    assert answer["active"] is True
    assert answer["sub"].startswith("cli_")
    assert answer["token_type"] == "Bearer"


def test_revoked_expired_garbage_and_ended_sessions_are_inactive(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    revoke = world.api.post(
        "/auth/revoke", form={"token": tokens["refresh_token"]}, basic=(world.web.client_id, world.web.client_secret)
    )
    assert revoke.status == 200
    assert introspect(world, world.web, tokens["refresh_token"]) == {"active": False}
    for garbage in ("", "x", "a.b.c", "é" * 10, "z" * 9000, "eyJhbGciOiJub25lIn0.e30."):
        if garbage:
            assert introspect(world, world.web, garbage) == {"active": False}, garbage
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    unsigned = jwt.encode(claims | {"exp": int(time.time()) - 3600}, "k" * 32, algorithm="HS256")
    assert introspect(world, world.web, unsigned) == {"active": False}
    assert introspect(world, world.web, tokens["access_token"])["active"] is True
    assert world.api.post(f"/users/{world.user['id']}/deactivate", token=world.tenant.access).status == 200
    assert introspect(world, world.web, tokens["access_token"]) == {"active": False}


def test_an_expired_access_token_is_inactive(world: LoginWorld) -> None:
    from umapi.services import signing_keys

    tokens = signed_in(world, world.web)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = signing_keys().current()
    expired = jwt.encode(
        claims | {"iat": claims["iat"] - 7200, "exp": int(time.time()) - 120},
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "at+jwt"},
    )
    assert introspect(world, world.web, expired) == {"active": False}


def test_another_organizations_tokens_are_never_revealed(
    world: LoginWorld, api: InProcessApi, platform: AdminCredentials
) -> None:
    other = login_world(api, platform)
    theirs = signed_in(other, other.web)
    for value in (theirs["access_token"], theirs["refresh_token"], other.tenant.access):
        assert introspect(world, world.web, value) == {"active": False}
    assert introspect(other, other.web, theirs["access_token"])["active"] is True


def test_a_public_client_sees_only_its_own_tokens(world: LoginWorld) -> None:
    web_tokens = signed_in(world, world.web)
    spa_tokens = signed_in(world, world.spa)
    assert introspect(world, world.spa, web_tokens["access_token"]) == {"active": False}
    assert introspect(world, world.spa, web_tokens["refresh_token"]) == {"active": False}
    assert introspect(world, world.spa, spa_tokens["access_token"])["active"] is True
    assert introspect(world, world.web, spa_tokens["access_token"])["active"] is True


def test_introspection_needs_client_authentication_and_a_token(
    world: LoginWorld, api: InProcessApi, platform: AdminCredentials
) -> None:
    tokens = signed_in(world, world.web)
    anonymous = world.api.post("/auth/introspect", form={"token": tokens["access_token"]})
    assert anonymous.status == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = world.api.post(
        "/auth/introspect", form={"token": tokens["access_token"]}, basic=(world.web.client_id, "wrong-secret")
    )
    assert wrong.status == 401
    missing = world.api.post("/auth/introspect", form={}, basic=(world.web.client_id, world.web.client_secret or ""))
    assert missing.status == 400
    assert missing.json()["error"] == "invalid_request"
    twice = world.api.post(
        "/auth/introspect",
        raw_body="token=a&token=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        basic=(world.web.client_id, world.web.client_secret or ""),
    )
    assert twice.status == 400


def test_introspection_counts_against_the_clients_rate_limit(
    world: LoginWorld, api: InProcessApi, platform: AdminCredentials
) -> None:
    client = new_client(api, admin_token(api, platform), world.tenant.org_id, ["users:read"], rate_limit_per_minute=3)
    access = token(api, client.client_id, client.client_secret)  # the first of three
    statuses = [
        api.post("/auth/introspect", form={"token": access}, basic=(client.client_id, client.client_secret)).status
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_json_body_works_too(world: LoginWorld) -> None:
    tokens = signed_in(world, world.web)
    answer = world.api.post(
        "/auth/introspect",
        raw_body=json.dumps({"token": tokens["access_token"]}),
        headers={"Content-Type": "application/json"},
        basic=(world.web.client_id, world.web.client_secret or ""),
    )
    assert answer.status == 200
    assert answer.json()["active"] is True
