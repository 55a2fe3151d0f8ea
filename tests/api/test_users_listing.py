"""GET /users: cursor pagination over every sort order and filter, exactly once each, in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from devserver.template import Template
from tests.support.api import InProcessApi
from tests.support.backend import FakeLambdaContext, provision, seed_platform
from tests.support.users import Tenant, new_tenant
from umapi.bootstrap import AdminCredentials
from umapi.users.search import search_words

NAMES = ["alice", "Bob", "carol", "Dave", "eve", "Frank", "grace"]


@pytest.fixture(scope="module")
def crowd(template: Template) -> Iterator[tuple[Tenant, list[dict[str, Any]]]]:
    """57 users in one organization, made once for the module (moto transactions slow as tables grow)."""
    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TABLE_NAME", "Table")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        platform = seed_platform(provision(template), monkeypatch)
        yield _populate(InProcessApi(FakeLambdaContext(), template), platform)


def _populate(api: InProcessApi, platform: AdminCredentials) -> tuple[Tenant, list[dict[str, Any]]]:
    tenant = new_tenant(api, platform)
    users = []
    for index in range(57):
        users.append(
            tenant.user(
                f"user{index:02d}@{'example' if index % 3 else 'corp'}.com",
                name=f"{NAMES[index % len(NAMES)]} {index:02d}",
                department="Sales" if index % 4 == 0 else "Ops",
                role="viewer" if index % 5 == 0 else "member",
                send_welcome_email=False,
            )
        )
    return tenant, users


def walk(tenant: Tenant, **query: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = tenant.api.get(
            "/users", token=tenant.access, query={"limit": "10", **query} | ({"cursor": cursor} if cursor else {})
        ).json()
        pages += 1
        assert len(page["data"]) <= 10
        assert page["pagination"]["limit"] == 10
        seen += page["data"]
        if not page["pagination"]["has_more"]:
            assert page["pagination"]["next_cursor"] is None
            return seen
        assert len(page["data"]) == 10  # filtered pages are full pages
        cursor = page["pagination"]["next_cursor"]
        assert pages < 20


SORT_KEYS = {
    "created_at": lambda u: (u["created_at"], u["id"]),
    "name": lambda u: (u["name"].lower(), u["id"]),
    "email": lambda u: (u["email"].lower(), u["id"]),
    "last_login": lambda u: (u["last_login"] or "", u["id"]),
}


@pytest.mark.parametrize("sort", list(SORT_KEYS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_user_exactly_once_in_order(crowd: tuple[Tenant, list[dict[str, Any]]], sort: str, order: str) -> None:
    tenant, users = crowd
    seen = walk(tenant, sort=sort, order=order)
    expected = sorted(users, key=SORT_KEYS[sort], reverse=order == "desc")
    assert [u["id"] for u in seen] == [u["id"] for u in expected]


def test_default_order_is_newest_first(crowd: tuple[Tenant, list[dict[str, Any]]]) -> None:
    tenant, users = crowd
    assert [u["id"] for u in walk(tenant)] == [u["id"] for u in reversed(users)]


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ({"department": "Sales"}, lambda u: u["department"] == "Sales"),
        ({"role": "viewer"}, lambda u: u["roles"][0]["name"] == "viewer"),
        (
            {"role": "role_viewer", "department": "Sales"},
            lambda u: u["roles"][0]["name"] == "viewer" and u["department"] == "Sales",
        ),
        ({"status": "pending_verification"}, lambda u: True),
        ({"status": "active"}, lambda u: False),
    ],
)
@pytest.mark.parametrize(("sort", "order"), [("email", "asc"), ("created_at", "desc"), ("created_at", "asc")])
def test_filters_give_full_pages_of_matches(
    crowd: tuple[Tenant, list[dict[str, Any]]], query: dict[str, str], predicate: Any, sort: str, order: str
) -> None:
    tenant, users = crowd
    seen = walk(tenant, sort=sort, order=order, **query)
    expected = sorted((u for u in users if predicate(u)), key=SORT_KEYS[sort], reverse=order == "desc")
    assert [u["id"] for u in seen] == [u["id"] for u in expected]


def first_word(user: dict[str, Any], term: str, descending: bool) -> str:
    words = [w for w in search_words(user["name"], user["email"]) if w.startswith(term)]
    return max(words) if descending else min(words)


@pytest.mark.parametrize(
    ("term", "predicate"),
    [
        ("CORP", lambda u: u["email"].endswith("@corp.com")),  # a word of the email
        ("bob", lambda u: u["name"].startswith("Bob")),  # a word of the name
        ("user1", lambda u: u["email"].startswith("user1")),  # a prefix of the email
        ("alice 0", lambda u: u["name"].startswith("alice 0")),  # a prefix of the name
        ("04", lambda u: u["name"].endswith(" 04")),  # a word of the name, not the email's
        ("orp", lambda u: False),  # inside a word: not a prefix
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_search_finds_prefixes_each_match_once_in_word_order(
    crowd: tuple[Tenant, list[dict[str, Any]]], term: str, predicate: Any, order: str
) -> None:
    tenant, users = crowd
    seen = walk(tenant, search=term, order=order)
    wanted = term.casefold()
    expected = sorted(
        (u for u in users if predicate(u)),
        key=lambda u: (first_word(u, wanted, order == "desc"), u["id"]),
        reverse=order == "desc",
    )
    assert [u["id"] for u in seen] == [u["id"] for u in expected]


def test_search_and_filters_together(crowd: tuple[Tenant, list[dict[str, Any]]]) -> None:
    tenant, users = crowd
    seen = walk(tenant, search="example", department="Sales", role="viewer")
    expected = [
        u
        for u in users
        if "@example" in u["email"] and u["department"] == "Sales" and u["roles"][0]["name"] == "viewer"
    ]
    assert sorted(u["id"] for u in seen) == sorted(u["id"] for u in expected)
    assert expected


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"search": "a"},  # 2 to 100 characters
        {"search": "a" * 101},
        {"limit": "101"},
        {"sort": "password"},
        {"order": "up"},
        {"status": "deleted"},
        {"fields": "nope"},
    ],
)
def test_bad_list_parameters_are_400(crowd: tuple[Tenant, list[dict[str, Any]]], query: dict[str, str]) -> None:
    tenant, _ = crowd
    response = tenant.api.get("/users", token=tenant.access, query=query)
    assert response.status == 400
    assert response.error["code"] == "validation_error"


def test_cursors_are_tamper_evident_and_bound_to_their_listing(crowd: tuple[Tenant, list[dict[str, Any]]]) -> None:
    tenant, _ = crowd
    cursor = tenant.api.get("/users", token=tenant.access, query={"limit": "10"}).json()["pagination"]["next_cursor"]
    for tampered in (cursor[:-3] + "abc", "x" + cursor, "bm90IGEgY3Vyc29y"):
        assert tenant.api.get("/users", token=tenant.access, query={"cursor": tampered}).status == 400
    other_listing = tenant.api.get("/users", token=tenant.access, query={"cursor": cursor, "sort": "name"})
    assert other_listing.status == 400


def test_an_unfiltered_page_is_one_query(crowd: tuple[Tenant, list[dict[str, Any]]], dynamodb_calls: list[str]) -> None:
    tenant, _ = crowd
    tenant.api.get("/users", token=tenant.access, query={"limit": "1"})  # warm: public keys cached
    dynamodb_calls.clear()
    assert tenant.api.get("/users", token=tenant.access, query={"limit": "10"}).status == 200
    assert dynamodb_calls == ["UpdateItem", "Query"]
