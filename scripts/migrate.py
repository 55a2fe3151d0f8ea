#!/usr/bin/env python3
"""Data migrations of a deployed table, resumable.

    .venv/bin/python scripts/migrate.py --table <TableName> listing-entries
    .venv/bin/python scripts/migrate.py --table <TableName> history-indexes
    .venv/bin/python scripts/migrate.py --table <TableName> client-listing
    .venv/bin/python scripts/migrate.py --table <TableName> dashboard-clients

``listing-entries`` writes the search and filter entries (GET /users' search, status,
department and role) of users created before they existed. Each user's entries go out in one
transaction on the condition that the user is unchanged since it was read, so a change made
meanwhile (which writes its own entries) is never overwritten. The position in the table is
saved after each page to ``--checkpoint``; run the same command again to go on from there.
Entries are keyed by the user, so running it twice writes nothing new.

``history-indexes`` gives audit entries written before GET /audit-log?action= had its index
their GSI3 keys, and webhook events written before GET /webhooks/events?type= had its index
their GSI2 keys (conditional updates: an item that has them is left alone).

``client-listing`` moves clients created when they were listed on GSI1 to listing entries
(``PK=ORG#<org>#CLIENTS``): each client's entry is written and its GSI1 keys removed in one
transaction, on the condition that the client still has them. Until it ran, GET /clients
shows only the clients created since the deploy; a client changed meanwhile moves itself.

``dashboard-clients`` gives every organization created before the developer dashboard its
dashboard client (docs/api.md §13): the client, its listing entry and a ``client.created``
audit entry in one transaction, on the condition that the client does not exist yet (running
it twice writes nothing new). The platform organization's gets the organizations' scopes; its
administrators use their platform client for ``platform:admin``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

sys.path.append(str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python"))

from umapi import db
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.clients.dashboard import dashboard_client
from umapi.clients.repository import ClientRepository, client_from_item, listing_entry
from umapi.ids import new_id
from umapi.outbox import audit_put
from umapi.table_keys import ORG_SK, audit_action_pk, events_type_pk, org_id_of
from umapi.time import utc_now_iso
from umapi.users.entries import listing_entries
from umapi.users.items import user_from_item, user_key

PAGE = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/migrate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the DynamoDB table (the stack's TableName output)")
    parser.add_argument("--region", help="AWS region [from your AWS configuration]")
    parser.add_argument("--profile", help="AWS profile [from your AWS configuration]")
    parser.add_argument("--endpoint-url", help="a local DynamoDB (e.g. make backend's http://127.0.0.1:5000)")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=Path(".migrate-checkpoint.json"),
        help="where the position is saved between pages [%(default)s]",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("listing-entries", help="write the search and filter entries of existing users")
    commands.add_parser("history-indexes", help="index keys of existing audit entries (action) and events (type)")
    commands.add_parser("client-listing", help="list clients created before listing entries by entries")
    commands.add_parser("dashboard-clients", help="give organizations made before the dashboard their dashboard client")
    return parser.parse_args(argv)


def backfill(
    dynamodb: Any, table: str, checkpoint: Path, entities: tuple[str, ...], write: Any = None
) -> tuple[int, int]:
    """(items seen, items written) of the ``entities`` given; resumes from ``checkpoint``."""
    write = write or _write_entries
    start = json.loads(checkpoint.read_text()) if checkpoint.exists() else None
    seen = written = 0
    names = {f":e{i}": {"S": entity} for i, entity in enumerate(entities)}
    while True:
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": f"entity IN ({', '.join(names)})",
            "ExpressionAttributeValues": names,
            "Limit": PAGE,
        }
        if start:
            request["ExclusiveStartKey"] = start
        answer = dynamodb.scan(**request)
        for item in answer["Items"]:
            seen += 1
            written += write(dynamodb, table, item)
        start = answer.get("LastEvaluatedKey")
        print(f"\r{seen} items read, {written} written", end="", file=sys.stderr, flush=True)
        if not start:
            checkpoint.unlink(missing_ok=True)
            print(file=sys.stderr)
            return seen, written
        checkpoint.write_text(json.dumps(start))


def _write_entries(dynamodb: Any, table: str, item: dict[str, Any]) -> int:
    user = user_from_item(item)
    entries = [{"Put": {"TableName": table, "Item": db.serialize(e)}} for e in listing_entries(user).values()]
    unchanged = {
        "ConditionCheck": {
            "TableName": table,
            "Key": user_key(user.org_id, user.id),
            "ConditionExpression": "version = :version",
            "ExpressionAttributeValues": {":version": {"N": str(user.version)}},
        }
    }
    try:
        dynamodb.transact_write_items(TransactItems=[unchanged, *entries])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return 0  # changed meanwhile: that change wrote its own entries
    return 1


def _write_index_keys(dynamodb: Any, table: str, item: dict[str, Any]) -> int:
    org_id = org_id_of(item["PK"]["S"])  # ORG#<org>#AUDIT or ORG#<org>#EVENTS
    if item["entity"]["S"] == "audit":
        keys = {"GSI3PK": audit_action_pk(org_id, item["action"]["S"]), "GSI3SK": item["SK"]["S"]}
    else:
        keys = {"GSI2PK": events_type_pk(org_id, item["type"]["S"]), "GSI2SK": item["SK"]["S"]}
    name = next(iter(keys))
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET " + ", ".join(f"{key} = :{key}" for key in keys),
            ConditionExpression=f"attribute_exists(PK) AND attribute_not_exists({name})",
            ExpressionAttributeValues={f":{key}": {"S": value} for key, value in keys.items()},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return 0
    return 1


def _list_client(dynamodb: Any, table: str, item: dict[str, Any]) -> int:
    if "GSI1PK" not in item:
        return 0  # listed by its entry already
    moved = {
        "Update": {
            "TableName": table,
            "Key": {"PK": item["PK"], "SK": item["SK"]},
            "UpdateExpression": "REMOVE GSI1PK, GSI1SK",
            "ConditionExpression": "attribute_exists(GSI1PK)",
        }
    }
    entry = {"Put": {"TableName": table, "Item": listing_entry(client_from_item(item))}}
    try:
        dynamodb.transact_write_items(TransactItems=[moved, entry])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return 0  # moved meanwhile (by a change of the client, or another run)
    return 1


def _give_dashboard(dynamodb: Any, table: str, item: dict[str, Any]) -> int:
    if item["SK"]["S"] != ORG_SK:
        return 0
    org_id = item["id"]["S"]
    now = utc_now_iso()
    client = dashboard_client(org_id, now)
    meta = RequestMeta(request_id=new_id("req"), user_agent="scripts/migrate.py dashboard-clients")
    audit = AuditEntry.new(org_id, Actor("system", "migration"), "client.created", "client", client.id, meta, {})
    writer = ClientRepository(dynamodb, table)
    try:
        dynamodb.transact_write_items(TransactItems=[*writer.create_items(client), audit_put(table, audit)])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return 0  # it has one already
    return 1


def main(argv: list[str] | None = None, session: Any = None) -> int:
    args = parse_args(argv)
    session = session or boto3.session.Session(region_name=args.region, profile_name=args.profile)
    dynamodb = session.client("dynamodb", endpoint_url=args.endpoint_url)
    if args.command == "listing-entries":
        seen, written = backfill(dynamodb, args.table, args.checkpoint, ("user",))
        print(f"Done: {seen} users, entries written for {written}.")
    elif args.command == "dashboard-clients":
        seen, written = backfill(dynamodb, args.table, args.checkpoint, ("org",), _give_dashboard)
        print(f"Done: {seen} organizations, {written} given their dashboard client.")
    elif args.command == "client-listing":
        seen, written = backfill(dynamodb, args.table, args.checkpoint, ("client",), _list_client)
        print(f"Done: {seen} clients, {written} moved to listing entries.")
    else:
        seen, written = backfill(dynamodb, args.table, args.checkpoint, ("audit", "event"), _write_index_keys)
        print(f"Done: {seen} audit entries and events, {written} indexed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
