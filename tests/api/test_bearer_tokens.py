"""Bearer verification on protected endpoints: every way a token can be wrong is a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.api import InProcessApi
from tests.support.flows import admin_token
from umapi.auth.signing import SigningKey
from umapi.bootstrap import AdminCredentials
from umapi.services import signing_keys

ISSUER = "http://127.0.0.1:3000"


def claims(platform: AdminCredentials, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": platform.client_id,
        "aud": ISSUER,
        "exp": now + 600,
        "iat": now,
        "jti": "at_test",
        "client_id": platform.client_id,
        "org_id": platform.org_id,
        "scope": "clients:read platform:admin",
    } | overrides


def sign(payload: dict[str, Any], key: SigningKey, **headers: Any) -> str:
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "at+jwt"} | headers)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_invalid_token(response: Any) -> None:
    assert response.status == 401
    assert response.error["code"] == "unauthenticated"
    assert response.header("WWW-Authenticate").startswith('Bearer error="invalid_token"')


def test_a_well_formed_token_is_accepted(api: InProcessApi, platform: AdminCredentials) -> None:
    response = api.get("/clients", token=sign(claims(platform), signing_keys().current()))
    assert response.status == 200


def test_no_credentials_is_a_bare_bearer_challenge(api: InProcessApi, platform: AdminCredentials) -> None:
    for headers in ({}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer "}):
        response = api.get("/clients", headers=headers)
        assert response.status == 401
        assert response.error["code"] == "unauthenticated"
        assert response.header("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize(
    "override",
    [
        {"iss": "https://evil.example"},
        {"aud": "https://other-api.example"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    ],
    ids=["wrong-iss", "wrong-aud", "expired"],
)
def test_wrong_claims_are_rejected(api: InProcessApi, platform: AdminCredentials, override: dict[str, Any]) -> None:
    assert_invalid_token(api.get("/clients", token=sign(claims(platform, **override), signing_keys().current())))


def test_missing_required_claim_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    payload = claims(platform)
    del payload["org_id"]
    assert_invalid_token(api.get("/clients", token=sign(payload, signing_keys().current())))


def test_alg_none_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    forged = f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': signing_keys().current().kid})}.{b64(claims(platform))}."
    assert_invalid_token(api.get("/clients", token=forged))


def test_hs256_signed_with_the_public_key_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    key = signing_keys().current()
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64({"alg": "HS256", "typ": "at+jwt", "kid": key.kid})
    body = b64(claims(platform))
    signature = (
        base64.urlsafe_b64encode(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
        .rstrip(b"=")
        .decode()
    )
    assert_invalid_token(api.get("/clients", token=f"{header}.{body}.{signature}"))


def test_unknown_kid_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    stranger = SigningKey.generate()
    assert_invalid_token(api.get("/clients", token=sign(claims(platform), stranger)))


def test_known_kid_with_another_keys_signature_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    stranger = SigningKey.generate()
    token = jwt.encode(
        claims(platform),
        stranger.private_key,
        algorithm="RS256",
        headers={"kid": signing_keys().current().kid, "typ": "at+jwt"},
    )
    assert_invalid_token(api.get("/clients", token=token))


def test_tampered_payload_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    header, _, signature = admin_token(api, platform).split(".")
    escalated = b64(claims(platform, org_id="org_01HSOMEONEELSE000000000000"))
    assert_invalid_token(api.get("/clients", token=f"{header}.{escalated}.{signature}"))


def test_a_token_that_is_not_an_access_token_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    assert_invalid_token(api.get("/clients", token=sign(claims(platform), signing_keys().current(), typ="JWT")))


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30", "x" * 5000])
def test_garbage_is_rejected(api: InProcessApi, platform: AdminCredentials, garbage: str) -> None:
    assert_invalid_token(api.get("/clients", token=garbage))


def test_token_for_another_orgs_client_is_rejected(api: InProcessApi, platform: AdminCredentials) -> None:
    # a validly signed token naming a real client under the wrong organization
    forged = sign(claims(platform, org_id="org_01HSOMEONEELSE000000000000"), signing_keys().current())
    assert_invalid_token(api.get("/clients", token=forged))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", {"email": "not an email"}),
        ("PATCH", "/users/usr_01HNOSUCHUSER0000000000000", {"colour": "red"}),
        ("POST", "/roles", {"permissions": "all"}),
        ("POST", "/webhooks", {"url": 7}),
        ("POST", "/users/bulk/roles", {}),
    ],
)
@pytest.mark.parametrize("token", [None, "forged.token.value"])
def test_who_asks_is_settled_before_what_they_sent(
    api: InProcessApi, platform: AdminCredentials, method: str, path: str, body: dict[str, Any], token: str | None
) -> None:
    response = api.request(method, path, token=token, json_body=body)
    assert response.status == 401, response.body
    assert response.error["code"] == "unauthenticated"
    assert "details" in response.error
    assert response.error["details"] == [], "nothing about the schema is told to a stranger"


def test_public_routes_validate_without_a_token(api: InProcessApi, platform: AdminCredentials) -> None:
    response = api.post("/auth/verify-email", json_body={"token": ""})
    assert response.status == 400
