"""Scope and permission algebra, and the no-escalation rule, without DynamoDB."""

from __future__ import annotations

import pytest

from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN, SCOPE_DESCRIPTIONS, SCOPES, format_scope, parse_scope
from umapi.access.principal import Principal
from umapi.auth.scopes import user_token_scope
from umapi.clients.entities import Client
from umapi.errors import ForbiddenError
from umapi.webhooks.service import data_permissions


def principal(*permissions: str) -> Principal:
    return Principal("cli_1", "cli_1", "org_1", "org_1", frozenset(permissions), "at_1")


def client(*scopes: str) -> Client:
    return Client("cli_1", "org_1", "app", ["authorization_code"], list(scopes), [], False, None, "t", "t")


def test_scopes_parse_and_format_in_canonical_order() -> None:
    assert parse_scope("users:read  roles:read") == {"users:read", "roles:read"}
    assert parse_scope(None) == frozenset() == parse_scope("")
    assert format_scope({"audit:read", "users:read", "zzz"}) == "users:read audit:read zzz"


def test_a_clients_scopes_cap_its_user_tokens() -> None:
    assert user_token_scope({"users:read": ["admin"], "clients:write": ["admin"]}, client("users:read")) == {
        "users:read"
    }
    assert user_token_scope({"users:read": ["viewer"]}, client()) == frozenset()


def test_require_records_what_the_request_needed() -> None:
    caller = principal("users:read")
    caller.require("users:read")
    with pytest.raises(ForbiddenError) as refused:
        caller.require("users:update")
    assert refused.value.context == {"required_permission": "users:update"}
    assert caller.checked == {"users:read", "users:update"}


def test_nobody_gives_or_acts_on_more_than_they_hold() -> None:
    caller = principal("clients:write", "users:read")
    caller.require_each(["users:read"], "a client")
    caller.require_over(["users:read"], "client cli_2")
    with pytest.raises(ForbiddenError, match="users:delete"):
        caller.require_each(["users:read", "users:delete"], "a client")
    with pytest.raises(ForbiddenError) as refused:
        caller.require_over(["audit:read", "users:delete"], "client cli_2")
    assert refused.value.context["required_permission"] == "audit:read"  # the first missing, in order


def test_platform_admins_hold_everything() -> None:
    admin = principal(PLATFORM_ADMIN)
    assert admin.holds_everything
    admin.require_over([*PERMISSIONS, PLATFORM_ADMIN], "anything")
    assert principal(*PERMISSIONS).holds_everything
    assert not principal("users:read").holds_everything


def test_subscribing_needs_the_read_permission_of_the_data() -> None:
    assert data_permissions(["user.created", "role.assigned", "job.completed"]) == {"users:read", "roles:read"}
    assert data_permissions(["webhook.test"]) == set()


def test_every_scope_is_described_once() -> None:
    assert list(SCOPE_DESCRIPTIONS) == list(SCOPES)
