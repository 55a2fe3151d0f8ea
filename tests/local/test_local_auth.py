"""Tokens, tenancy and rate limits over HTTP against the local runtime (worker processes, moto server)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from joserfc import jwt as independent_jwt
from joserfc.jwk import KeySet

from devserver.runtime import LocalRuntime
from tests.support.http import admin_headers, client_token, new_client, new_org

pytestmark = pytest.mark.e2e


def test_seeded_admin_gets_a_token_that_jwks_verifies(local_api: LocalRuntime) -> None:
    assert local_api.admin is not None
    access = client_token(local_api.url, local_api.admin.client_id, local_api.admin.client_secret)
    jwks = requests.get(f"{local_api.url}/.well-known/jwks.json", timeout=30).json()
    verified = independent_jwt.decode(access, KeySet.import_key_set(jwks), algorithms=["RS256"])
    metadata = requests.get(f"{local_api.url}/.well-known/oauth-authorization-server", timeout=30).json()
    assert verified.claims["iss"] == metadata["issuer"] == local_api.url
    assert verified.claims["org_id"] == local_api.admin.org_id


def test_rate_limit_is_exact_under_concurrency_and_per_client(local_api: LocalRuntime) -> None:
    # Given a client allowed 11 requests a minute, one of them spent on its token
    headers = admin_headers(local_api)
    org = new_org(local_api, headers, "Busy")
    client = new_client(local_api, headers, org, name="burst", scopes=["clients:read"], rate_limit_per_minute=11)
    access = client_token(local_api.url, client["id"], client["client_secret"])

    # When 20 requests arrive at once
    def call(_: int) -> int:
        response = requests.get(f"{local_api.url}/clients", headers={"Authorization": f"Bearer {access}"}, timeout=60)
        if response.status_code == 429:
            assert 1 <= int(response.headers["Retry-After"]) <= 60
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(call, range(20)))

    # Then exactly ten get through, across every worker process
    assert statuses == Counter({200: 10, 429: 10})

    # And another client is unaffected
    assert requests.get(f"{local_api.url}/clients", headers=headers, timeout=30).status_code == 200


def test_cross_org_reads_are_404_over_http(local_api: LocalRuntime) -> None:
    admin = admin_headers(local_api)
    orgs = [new_org(local_api, admin, name) for name in "AB"]
    clients = [new_client(local_api, admin, org, name="svc", scopes=["clients:read"]) for org in orgs]
    access_a = client_token(local_api.url, clients[0]["id"], clients[0]["client_secret"])
    response = requests.get(
        f"{local_api.url}/clients/{clients[1]['id']}", headers={"Authorization": f"Bearer {access_a}"}, timeout=30
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
