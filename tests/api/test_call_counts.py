"""What an authenticated request costs in DynamoDB calls, counted with a botocore event hook."""

from __future__ import annotations

from tests.api.test_user_tokens import active_user, user_token
from tests.support.api import InProcessApi
from tests.support.flows import admin_token
from tests.support.users import Tenant
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

    # Then authentication is one call: the rate-limit count on the client's item, which answers
    # the client as it is now (revocation, scopes); then the route's own read
    assert dynamodb_calls == ["UpdateItem", "GetItem"]


def test_a_user_token_adds_one_read_of_the_user(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials, dynamodb_calls: list[str]
) -> None:
    user = active_user(acme, "counted@example.com")
    access = user_token(acme, api, platform, user, "users:read")
    api.get("/users/me", token=access)
    dynamodb_calls.clear()
    assert api.get("/users/me", token=access).status == 200
    assert dynamodb_calls == ["GetItem", "UpdateItem", "GetItem"]


def test_a_revoked_user_token_is_refused_before_it_is_counted(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials, dynamodb_calls: list[str]
) -> None:
    user = active_user(acme, "suspended@example.com")
    access = user_token(acme, api, platform, user, "users:read")
    assert api.post(f"/users/{user['id']}/deactivate", token=acme.access).status == 200
    dynamodb_calls.clear()
    assert api.get("/users/me", token=access).status == 401
    assert dynamodb_calls == ["GetItem"]


def test_the_token_endpoint_costs_two_calls(
    api: InProcessApi, platform: AdminCredentials, dynamodb_calls: list[str]
) -> None:
    admin_token(api, platform)  # warm: the signing key is cached per container
    dynamodb_calls.clear()
    admin_token(api, platform)
    assert dynamodb_calls == ["GetItem", "UpdateItem"]
