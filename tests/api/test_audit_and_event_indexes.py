"""GET /audit-log?action= and GET /webhooks/events?type= read their own index partitions: a
rare action or type costs a page, however long the history (docs/api.md §4, §7)."""

from __future__ import annotations

from typing import Any

from tests.support.costs import Reads
from tests.support.users import Tenant
from umapi.aws import dynamodb_client


def read(tenant: Tenant, path: str, query: dict[str, str]) -> tuple[Reads, dict[str, Any]]:
    reads = Reads()
    events = dynamodb_client().meta.events
    events.register("after-call.dynamodb", reads)
    try:
        answer = tenant.api.get(path, token=tenant.access, query=query)
    finally:
        events.unregister("after-call.dynamodb", reads)
    assert answer.status == 200, answer.body
    return reads, answer.json()


def test_a_rare_action_and_a_rare_type_read_only_their_matches(acme: Tenant) -> None:
    acme.api.post(
        "/webhooks",
        token=acme.access,
        json_body={"url": "https://hooks.example.com/x", "events": ["user.created", "role.assigned"]},
    )
    users = [acme.user(f"h{i}@example.com", send_welcome_email=False) for i in range(40)]
    assigned = acme.api.post(f"/users/{users[0]['id']}/roles", token=acme.access, json_body={"role_id": "viewer"})
    assert assigned.status == 201, assigned.body

    reads, page = read(acme, "/audit-log", {"action": "role.assigned", "limit": "5"})
    assert [entry["action"] for entry in page["data"]] == ["role.assigned"]
    assert reads.items <= 1 + 2, reads.calls  # the match, the client, the rate window

    reads, page = read(acme, "/webhooks/events", {"type": "role.assigned", "limit": "5"})
    assert [event["type"] for event in page["data"]] == ["role.assigned"]
    assert reads.items <= 1 + 2, reads.calls

    many, _ = read(acme, "/audit-log", {"action": "user.created", "limit": "5"})
    assert many.items <= 6 + 2  # a page and the probe for the next
    walked, cursor = [], None
    while True:
        page = read(
            acme, "/webhooks/events", {"type": "user.created", "limit": "7", **({"cursor": cursor} if cursor else {})}
        )[1]
        walked += [event["id"] for event in page["data"]]
        if not page["pagination"]["has_more"]:
            break
        cursor = page["pagination"]["next_cursor"]
    assert len(walked) == len(set(walked)) == 40
