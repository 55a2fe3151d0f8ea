"""What an authenticated request costs in DynamoDB calls, counted with a botocore event hook."""

from __future__ import annotations

from tests.support.api import InProcessApi
from tests.support.flows import admin_token
from umapi.bootstrap import AdminCredentials


def test_token_verification_and_rate_limiting_cost_two_calls(
    api: InProcessApi, platform: AdminCredentials, dynamodb_calls: list[str]
) -> None:
    # Given a warm container (public keys already cached by a first request)
    access = admin_token(api, platform)
    api.get(f"/orgs/{platform.org_id}", token=access)
    dynamodb_calls.clear()

    # When an authenticated request reads one organization
    assert api.get(f"/orgs/{platform.org_id}", token=access).status == 200

    # Then authentication is one consistent client read (revocation) and one rate-limit write, then the org read
    assert dynamodb_calls == ["BatchGetItem", "UpdateItem", "GetItem"]


def test_the_token_endpoint_costs_two_calls(
    api: InProcessApi, platform: AdminCredentials, dynamodb_calls: list[str]
) -> None:
    admin_token(api, platform)  # warm: the signing key is cached per container
    dynamodb_calls.clear()
    admin_token(api, platform)
    assert dynamodb_calls == ["GetItem", "UpdateItem"]
