"""scripts/migrate.py listing-entries: users written before search and filter entries existed
are found again, the command resumes from its checkpoint, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from tests.support.backend import REGION
from tests.support.scripts import load_script
from tests.support.users import Tenant

ENTRIES = ("user_search", "user_status", "user_department", "user_role")


def entries() -> list[dict[str, Any]]:
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    return [i for i in dynamodb.scan(TableName="Table")["Items"] if i.get("entity", {}).get("S") in ENTRIES]


def found(tenant: Tenant, **query: str) -> list[str]:
    return [u["email"] for u in tenant.api.get("/users", token=tenant.access, query=query).json()["data"]]


def test_backfill_restores_search_and_filters_and_resumes(
    acme: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        acme.user(f"old{index}@example.com", name=f"Old Timer {index}", department="Legacy")
    written = entries()
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    for item in written:  # as a table from before the entries
        dynamodb.delete_item(TableName="Table", Key={"PK": item["PK"], "SK": item["SK"]})
    assert found(acme, search="timer") == []
    assert found(acme, department="Legacy") == []

    script = load_script("migrate")
    monkeypatch.setattr(script, "PAGE", 2)  # several pages: the checkpoint moves
    checkpoint = tmp_path / "checkpoint.json"
    calls = 0
    scan = dynamodb.scan

    def interrupted(**request: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return scan(**request)

    session = SimpleNamespace(client=lambda *_, **__: dynamodb)
    monkeypatch.setattr(dynamodb, "scan", interrupted)
    with pytest.raises(KeyboardInterrupt):
        script.main(["--table", "Table", "--checkpoint", str(checkpoint), "listing-entries"], session)
    assert checkpoint.exists()
    monkeypatch.setattr(dynamodb, "scan", scan)
    assert script.main(["--table", "Table", "--checkpoint", str(checkpoint), "listing-entries"], session) == 0
    assert not checkpoint.exists()

    assert sorted(found(acme, search="timer")) == [f"old{i}@example.com" for i in range(5)]
    assert sorted(found(acme, department="Legacy")) == [f"old{i}@example.com" for i in range(5)]
    restored = {(i["PK"]["S"], i["SK"]["S"]) for i in entries()}
    assert restored == {(i["PK"]["S"], i["SK"]["S"]) for i in written}
    assert script.main(["--table", "Table", "--checkpoint", str(checkpoint), "listing-entries"], session) == 0
    assert {(i["PK"]["S"], i["SK"]["S"]) for i in entries()} == restored


def test_history_indexes_backfill_action_and_type_keys(acme: Tenant, tmp_path: Path) -> None:
    acme.api.post(
        "/webhooks", token=acme.access, json_body={"url": "https://hooks.example.com/x", "events": ["user.created"]}
    )
    acme.user("history@example.com")
    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    items = [i for i in dynamodb.scan(TableName="Table")["Items"] if i.get("entity", {}).get("S") in ("audit", "event")]
    for item in items:  # as written before the indexes
        dynamodb.update_item(
            TableName="Table",
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="REMOVE GSI3PK, GSI3SK, GSI2PK, GSI2SK",
        )
    assert acme.api.get("/audit-log", token=acme.access, query={"action": "user.created"}).json()["data"] == []
    script = load_script("migrate")
    session = SimpleNamespace(client=lambda *_, **__: dynamodb)
    arguments = ["--table", "Table", "--checkpoint", str(tmp_path / "c.json"), "history-indexes"]
    assert script.main(arguments, session) == 0
    assert len(acme.api.get("/audit-log", token=acme.access, query={"action": "user.created"}).json()["data"]) == 1
    assert len(acme.api.get("/webhooks/events", token=acme.access, query={"type": "user.created"}).json()["data"]) == 1
    assert script.main(arguments, session) == 0  # again: every item has its keys, nothing changes


def test_client_listing_moves_clients_listed_on_gsi1_to_entries(acme: Tenant, tmp_path: Path) -> None:
    # Given clients as the previous version stored them: listed on GSI1, no listing entry
    from umapi.table_keys import clients_index_pk, created_sort_key

    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    before = {c["id"] for c in acme.api.get("/clients", token=acme.access).json()["data"]}
    assert before
    for item in dynamodb.scan(TableName="Table")["Items"]:
        kind = item.get("entity", {}).get("S")
        if kind == "client_entry" and item["PK"]["S"] == clients_index_pk(acme.org_id):
            dynamodb.delete_item(TableName="Table", Key={"PK": item["PK"], "SK": item["SK"]})
        elif kind == "client" and item["org_id"]["S"] == acme.org_id:
            dynamodb.update_item(
                TableName="Table",
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="SET GSI1PK = :pk, GSI1SK = :sk",
                ExpressionAttributeValues={
                    ":pk": {"S": clients_index_pk(acme.org_id)},
                    ":sk": {"S": created_sort_key(item["created_at"]["S"], item["id"]["S"])},
                },
            )
    assert acme.api.get("/clients", token=acme.access).json()["data"] == []

    # When the migration runs (twice: the second run finds nothing to move)
    script = load_script("migrate")
    session = SimpleNamespace(client=lambda *_, **__: dynamodb)
    arguments = ["--table", "Table", "--checkpoint", str(tmp_path / "c.json"), "client-listing"]
    assert script.main(arguments, session) == 0
    assert script.main(arguments, session) == 0

    # Then they are listed again, and no client is in GSI1 (where each request's count would be copied)
    assert {c["id"] for c in acme.api.get("/clients", token=acme.access).json()["data"]} == before
    clients = [i for i in dynamodb.scan(TableName="Table")["Items"] if i.get("entity", {}).get("S") == "client"]
    assert clients
    assert not [c for c in clients if "GSI1PK" in c or "GSI1SK" in c]


def test_dashboard_clients_gives_older_organizations_theirs_once(acme: Tenant, tmp_path: Path) -> None:
    """docs/api.md §13: an organization made before the dashboard gets its client; one that has
    it keeps it as it is."""
    from umapi.clients.dashboard import dashboard_client_id
    from umapi.table_keys import client_pk, clients_index_pk

    dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    client_id = dashboard_client_id(acme.org_id)
    # Given acme as it was before: no dashboard client, no listing entry
    dynamodb.delete_item(TableName="Table", Key={"PK": {"S": client_pk(client_id)}, "SK": {"S": "CLIENT"}})
    for item in dynamodb.scan(TableName="Table")["Items"]:
        if item["PK"]["S"] == clients_index_pk(acme.org_id) and item["client_id"]["S"] == client_id:
            dynamodb.delete_item(TableName="Table", Key={"PK": item["PK"], "SK": item["SK"]})
    assert acme.api.get(f"/clients/{client_id}", token=acme.access).status == 404

    script = load_script("migrate")
    session = SimpleNamespace(client=lambda *_, **__: dynamodb)
    arguments = ["--table", "Table", "--checkpoint", str(tmp_path / "d.json"), "dashboard-clients"]
    assert script.main(arguments, session) == 0
    dashboard = acme.api.get(f"/clients/{client_id}", token=acme.access).json()
    assert dashboard["dashboard"] is True
    assert client_id in {c["id"] for c in acme.api.get("/clients", token=acme.access).json()["data"]}
    assert script.main(arguments, session) == 0  # again: nothing changes
    assert acme.api.get(f"/clients/{client_id}", token=acme.access).json() == dashboard
