"""First-run set-up shared by the local runtime and the deploy-time bootstrap command:
the first signing key, and a platform organization with a platform-admin client."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from umapi import db
from umapi.access.permissions import SCOPES
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.clients.credentials import hash_secret, new_secret
from umapi.clients.dashboard import dashboard_client
from umapi.clients.entities import Client
from umapi.clients.repository import ClientRepository
from umapi.ids import new_id
from umapi.orgs.entities import Organization
from umapi.orgs.repository import OrgRepository
from umapi.time import utc_now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PLATFORM_ORG_NAME = "Platform"
BOOTSTRAP_KEY = {"PK": {"S": "BOOTSTRAP"}, "SK": {"S": "PLATFORM_ADMIN"}}
SYSTEM = Actor(type="system", id="bootstrap")


class AdminCredentials(NamedTuple):
    org_id: str
    client_id: str
    client_secret: str


def create_platform_admin(
    orgs: OrgRepository, clients: ClientRepository, *, client_id: str | None = None, client_secret: str | None = None
) -> AdminCredentials:
    """A new platform organization and a client in it holding every scope, ``platform:admin`` included."""
    meta = RequestMeta(request_id=new_id("req"), user_agent="bootstrap")
    now = utc_now_iso()
    org = Organization(id=new_id("org"), name=PLATFORM_ORG_NAME, created_at=now, updated_at=now)
    dashboard = dashboard_client(org.id, now, platform=True)
    orgs.create(
        org,
        AuditEntry.new(org.id, SYSTEM, "org.created", "org", org.id, meta, {"name": {"from": None, "to": org.name}}),
        clients.create_items(dashboard),
    )
    secret = client_secret or new_secret()
    client = Client(
        id=client_id or new_id("cli"),
        org_id=org.id,
        name="Platform admin",
        grant_types=["client_credentials"],
        scopes=list(SCOPES),
        redirect_uris=[],
        public=False,
        rate_limit_per_minute=None,
        created_at=now,
        updated_at=now,
        secret_hash=hash_secret(secret),
    )
    clients.create(client, AuditEntry.new(org.id, SYSTEM, "client.created", "client", client.id, meta, {}))
    return AdminCredentials(org_id=org.id, client_id=client.id, client_secret=secret)


def claim_bootstrap(dynamodb: DynamoDBClient, table: str) -> bool:
    """Record that the stack is being bootstrapped; ``False`` if it was before (a conditional put)."""
    claimed, _ = db.write_if(
        dynamodb.put_item,
        TableName=table,
        Item={**BOOTSTRAP_KEY, "created_at": {"S": utc_now_iso()}},
        ConditionExpression="attribute_not_exists(PK)",
    )
    return claimed
