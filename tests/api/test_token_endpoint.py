"""POST /auth/token with client_credentials (RFC 6749 §4.4, §5), JWKS and server metadata."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt as independent_jwt
from joserfc.jwk import KeySet

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, new_org, token
from umapi.bootstrap import AdminCredentials

ISSUER = "http://127.0.0.1:3000"  # the sample event's Host


def test_basic_auth_form_request_issues_an_rfc9068_access_token(api: InProcessApi, platform: AdminCredentials) -> None:
    # When the admin client asks for a token with HTTP Basic and a form body
    response = api.post(
        "/auth/token", form={"grant_type": "client_credentials"}, basic=(platform.client_id, platform.client_secret)
    )

    # Then the RFC 6749 §5.1 answer comes back, never cached
    assert response.status == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "platform:admin" in body["scope"].split()
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Pragma") == "no-cache"
    assert response.header("X-RateLimit-Limit") == "500"

    # And an independent JOSE library verifies it against the published JWKS
    jwks = api.get("/.well-known/jwks.json").json()
    verified = independent_jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert verified.header["typ"] == "at+jwt"
    assert verified.header["kid"] in {key["kid"] for key in jwks["keys"]}
    claims = verified.claims
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "org_id", "scope"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER
    assert claims["sub"] == platform.client_id == claims["client_id"]
    assert claims["org_id"] == platform.org_id
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60


def test_client_secret_post_and_json_bodies_work(api: InProcessApi, platform: AdminCredentials) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": platform.client_id,
        "client_secret": platform.client_secret,
    }
    assert api.post("/auth/token", form=form).status == 200
    assert api.post("/auth/token", json_body=form).status == 200


def test_requested_scope_is_narrowed_and_echoed(api: InProcessApi, platform: AdminCredentials) -> None:
    response = api.post(
        "/auth/token",
        form={"grant_type": "client_credentials", "scope": "clients:read users:read"},
        basic=(platform.client_id, platform.client_secret),
    )
    assert response.status == 200
    assert response.json()["scope"] == "users:read clients:read"


@pytest.mark.parametrize(
    ("basic", "form", "error", "status"),
    [
        (("wrong", "x"), {"grant_type": "client_credentials"}, "invalid_client", 401),
        (None, {"grant_type": "client_credentials"}, "invalid_client", 401),
        ("WRONG_SECRET", {"grant_type": "client_credentials"}, "invalid_client", 401),
        ("OK", {}, "invalid_request", 400),
        ("OK", {"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type", 400),
        ("OK", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type", 400),
        ("OK", {"grant_type": "client_credentials", "scope": "users:read nope:nope"}, "invalid_scope", 400),
        ("OK", {"grant_type": "client_credentials", "scope": "users:read\\"}, "invalid_scope", 400),
        ("OK", {"grant_type": "client_credentials", "scope": ""}, "invalid_scope", 400),
        ("OK", {"grant_type": "client_credentials", "client_secret": "also"}, "invalid_request", 400),
    ],
)
def test_rfc6749_errors(
    api: InProcessApi,
    platform: AdminCredentials,
    basic: object,
    form: dict[str, str],
    error: str,
    status: int,
) -> None:
    credentials = (
        {
            "OK": (platform.client_id, platform.client_secret),
            "WRONG_SECRET": (platform.client_id, platform.client_secret + "x"),
        }.get(basic, basic)
        if isinstance(basic, str)
        else basic
    )
    response = api.post("/auth/token", form=form, basic=credentials)
    assert response.status == status
    assert response.json() == {"error": error, "error_description": response.json()["error_description"]}
    assert response.json()["error_description"]
    assert response.header("Cache-Control") == "no-store"
    if error == "invalid_client":
        assert response.header(
            "WWW-Authenticate",
        ).startswith("Basic")  # type: ignore[union-attr]


def test_repeated_parameters_are_invalid_request(api: InProcessApi, platform: AdminCredentials) -> None:
    response = api.post(
        "/auth/token",
        raw_body="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        basic=(platform.client_id, platform.client_secret),
    )
    assert response.status == 400
    assert response.json()["error"] == "invalid_request"


def test_client_without_the_grant_is_unauthorized_client(api: InProcessApi, platform: AdminCredentials) -> None:
    admin = admin_token(api, platform)
    org = new_org(api, admin)
    web = api.post(
        "/clients",
        token=admin,
        query={"org_id": org},
        json_body={"name": "web", "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb"]},
    ).json()
    response = api.post(
        "/auth/token", form={"grant_type": "client_credentials"}, basic=(web["id"], web["client_secret"])
    )
    assert response.status == 400
    assert response.json()["error"] == "unauthorized_client"


def test_scope_beyond_the_client_is_invalid_scope(api: InProcessApi, platform: AdminCredentials) -> None:
    admin = admin_token(api, platform)
    reader = new_client(api, admin, new_org(api, admin), ["users:read"])
    response = api.post(
        "/auth/token",
        form={"grant_type": "client_credentials", "scope": "users:read users:delete"},
        basic=(reader.client_id, reader.client_secret),
    )
    assert response.status == 400
    assert response.json()["error"] == "invalid_scope"
    assert token(api, reader.client_id, reader.client_secret, "users:read")


def test_basic_credentials_are_form_url_decoded(api: InProcessApi, platform: AdminCredentials) -> None:
    # RFC 6749 §2.3.1: id and secret are form-url-encoded before Basic encoding
    encoded = base64.b64encode(f"{platform.client_id}:{platform.client_secret.replace('-', '%2D')}".encode()).decode()
    response = api.post(
        "/auth/token", form={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {encoded}"}
    )
    assert response.status == 200


def test_server_metadata_describes_this_server(api: InProcessApi, platform: AdminCredentials) -> None:
    metadata = api.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == f"{ISSUER}/auth/token"
    assert metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert "client_credentials" in metadata["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(metadata["token_endpoint_auth_methods_supported"])


def test_jwks_publishes_only_public_material(api: InProcessApi, platform: AdminCredentials) -> None:
    response = api.get("/.well-known/jwks.json")
    assert response.status == 200
    for key in response.json()["keys"]:
        assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}
        assert key["alg"] == "RS256"
    assert "PRIVATE" not in json.dumps(response.json())


@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"grant_type": ', "application/json"), ("grant_type=client_credentials", "text/plain")],
)
def test_unreadable_bodies_are_invalid_request(
    api: InProcessApi, platform: AdminCredentials, body: str, content_type: str
) -> None:
    response = api.post("/auth/token", raw_body=body, headers={"Content-Type": content_type})
    assert response.status == 400
    assert response.json()["error"] == "invalid_request"
    assert response.header("Cache-Control") == "no-store"
