"""A request's cost follows its page, not the organization's size (docs/api.md §4): the same
requests against an organization of 100 users and one of 2,000 read the same number of items
and make the same number of DynamoDB calls (botocore's answers: ``ScannedCount`` for a query,
the items of a batch read)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from devserver.template import Template
from tests.support.api import InProcessApi
from tests.support.backend import FakeLambdaContext, provision, seed_platform
from tests.support.costs import Reads
from tests.support.scale import seed_users
from tests.support.users import Tenant, new_tenant
from umapi import db
from umapi.aws import dynamodb_client

SIZES = (100, 2000)
LIMIT = 25


@pytest.fixture(scope="module")
def orgs(template: Template) -> Iterator[dict[int, Tenant]]:
    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TABLE_NAME", "Table")
        platform = seed_platform(provision(template), monkeypatch)
        api = InProcessApi(FakeLambdaContext(), template)
        tenants = {size: new_tenant(api, platform, f"Org of {size}") for size in SIZES}
        for size, tenant in tenants.items():
            seed_users(tenant.org_id, size)
        yield tenants


def cost(tenant: Tenant, query: dict[str, str]) -> tuple[Reads, dict[str, Any]]:
    reads = Reads()
    events = dynamodb_client().meta.events
    events.register("after-call.dynamodb", reads)
    try:
        answer = tenant.api.get("/users", token=tenant.access, query={"limit": str(LIMIT), **query})
    finally:
        events.unregister("after-call.dynamodb", reads)
    assert answer.status == 200, answer.body
    return reads, answer.json()


# Authentication (the client) and the rate window are two of the calls and items.
INDEXED = {
    "default listing": ({}, LIMIT),
    "search, one match": ({"search": "quixote"}, 1),
    "search, a prefix of many emails": ({"search": "user000"}, LIMIT),  # two words of each match
    "search, nothing": ({"search": "nobody"}, 0),
    "status, one match": ({"status": "suspended"}, 1),
    "department, one match": ({"department": "Rare"}, 1),
    "role, one holder": ({"role": "viewer"}, 1),
    "role, every user": ({"role": "member"}, LIMIT),
    "role and department": ({"role": "member", "department": "Ops"}, LIMIT),
}


@pytest.mark.parametrize("name", list(INDEXED))
def test_indexed_listings_read_a_page_whatever_the_size(orgs: dict[int, Tenant], name: str) -> None:
    query, matches = INDEXED[name]
    costs = {}
    for size, tenant in orgs.items():
        reads, page = cost(tenant, query)
        assert len(page["data"]) == matches, (name, size)
        costs[size] = (len(reads.calls), reads.items)
    small, large = costs[SIZES[0]], costs[SIZES[-1]]
    assert large[0] == small[0], costs  # the same calls
    assert large[1] <= small[1] + 2, costs  # the same items, give or take the last page's probe
    # At most a page of entries per word a user matches by (here up to two), the page's users,
    # the client and the rate window.
    assert large[1] <= 3 * (LIMIT + 1) + 4, costs
    assert large[0] <= 6, costs


@pytest.mark.parametrize("query", [{"status": "suspended"}, {"department": "Rare"}, {"role": "viewer"}])
def test_a_rare_filter_under_another_sort_reads_within_the_budget(
    orgs: dict[int, Tenant], query: dict[str, str]
) -> None:
    reads, page = cost(orgs[SIZES[-1]], {**query, "sort": "name"})
    assert reads.items <= db.READ_BUDGET + 4
    assert len(reads.calls) <= db.READ_BUDGET // 100 + 4
    assert page["pagination"]["has_more"]  # the budget ran out first: resume with the cursor
    assert page["pagination"]["next_cursor"]
