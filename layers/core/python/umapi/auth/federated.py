"""Federated sign-in, our half (docs/api.md §12): who the organization's identity provider
vouched for becomes a signed-in user of the client that asked, as a password sign-in would.

1. a user already linked to (connection, provider ``sub``) is that user;
2. else the user of the connection's organization with that email, linked on first use, and
   only if the provider says ``email_verified``;
3. else, with ``jit_provisioning``, a new active user with the connection's ``default_role``,
   written through the users' own path (email uniqueness, listings, the admin roster, audit
   entry and ``user.created`` event);
4. else the sign-in is refused.

An email outside the connection's domains is refused too: a provider vouches only for its own
organization's people. Links are ``PK=SSOLINK#<connection>#<sha256(sub)>``, written with
``attribute_not_exists``. The sign-in itself is §1's: the code for the original client, the
browser session, ``last_login``, a ``user.login`` audit entry and event carrying the
connection; the tokens carry ``idp`` (the connection) and the provider's ``amr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from umapi import db
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.auth.login import AuthorizeRequest, LoginRefusedError, LoginService, SignedIn
from umapi.auth.second_step import SecondStepPage
from umapi.digests import sha256_hex
from umapi.events import Event
from umapi.ids import new_id
from umapi.outbox import audit_put
from umapi.roles.catalog import RoleCatalog
from umapi.sso.entities import SsoConnection
from umapi.sso.federation import Vouched
from umapi.time import utc_now_iso
from umapi.users.entities import RoleAssignment, User
from umapi.users.holdings import active_roles, user_permissions
from umapi.users.models import UserResponse, UserRoleResponse
from umapi.users.repository import UserRepository
from umapi.users.sign_ins import SignInRecords

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def link_key(connection_id: str, subject: str) -> dict[str, Any]:
    return {"PK": {"S": f"SSOLINK#{connection_id}#{sha256_hex(subject)}"}, "SK": {"S": "SSOLINK"}}


class FederatedSignIn:
    def __init__(
        self,
        login: LoginService,
        users: UserRepository,
        records: SignInRecords,
        catalog: RoleCatalog,
        dynamodb: DynamoDBClient,
        table: str,
    ) -> None:
        self._login = login
        self._users = users
        self._records = records
        self._catalog = catalog
        self._dynamodb = dynamodb
        self._table = table

    def sign_in(
        self, request: AuthorizeRequest, vouched: Vouched, meta: RequestMeta, issuer: str = ""
    ) -> SignedIn | SecondStepPage:
        """The client's redirect with a code, the second page for a user with ``mfa_enabled``
        (unless the provider asserted MFA), or ``LoginRefusedError`` with a page's message."""
        connection = vouched.connection
        email = (vouched.email or "").strip()
        domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
        user = self._linked(vouched)
        if user is None:
            if domain not in connection.domains:
                raise LoginRefusedError(
                    "The identity provider vouched for an email outside this organization's domains.", 403
                )
            user = self._by_email(vouched, email, meta) or self._provisioned(vouched, email, meta)
        if user.status != "active":
            raise LoginRefusedError("This account cannot sign in. Contact your administrator.", 403)
        return self._login.federated(request, user, vouched.amr, connection.id, meta, issuer)

    def record_failure(self, connection: SsoConnection, message: str, meta: RequestMeta) -> None:
        """A federated sign-in that was refused: who refused it and why, in the audit log."""
        entry = AuditEntry.new(
            connection.org_id,
            Actor("system", connection.id),
            "user.login_failed",
            "sso_connection",
            connection.id,
            meta,
            {"reason": {"from": None, "to": message}},
        )
        with db.translate_errors():
            self._dynamodb.put_item(**audit_put(self._table, entry)["Put"])

    def _linked(self, vouched: Vouched) -> User | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=link_key(vouched.connection.id, vouched.subject), ConsistentRead=True
            ).get("Item")
        return self._users.get(vouched.connection.org_id, item["user_id"]["S"], consistent=True) if item else None

    def _link_put(self, vouched: Vouched, user: User) -> db.Guarded:
        item = {
            **link_key(vouched.connection.id, vouched.subject),
            **db.serialize({"entity": "sso_link", "org_id": user.org_id, "user_id": user.id}),
        }
        put = {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        return {"Put": put}, LoginRefusedError("This account was linked meanwhile. Please sign in again.", 409)

    def _by_email(self, vouched: Vouched, email: str, meta: RequestMeta) -> User | None:
        user = self._records.find_by_email(vouched.connection.org_id, email.lower()) if email else None
        if user is None:
            return None
        if not vouched.email_verified:
            raise LoginRefusedError(
                "An account with this email exists, and the identity provider did not verify the email: "
                "it cannot be linked.",
                403,
            )
        ceiling = vouched.connection.ceiling
        if ceiling is not None and not frozenset(user_permissions(user, self._catalog, utc_now_iso())) <= set(ceiling):
            raise LoginRefusedError(
                "This account holds permissions beyond those of the administrator who set up this single sign-on: "
                "it cannot be linked through it. Ask an administrator who holds them to save the connection again.",
                403,
            )
        linked = user._replace(sso_provider=vouched.connection.name, version=user.version + 1, updated_at=utc_now_iso())
        audit = AuditEntry.new(
            user.org_id,
            Actor("system", vouched.connection.id),
            "user.sso_linked",
            "user",
            user.id,
            meta,
            {"sso_provider": {"from": user.sso_provider, "to": vouched.connection.name}},
        )
        self._users.save(user, linked, audit, [], [self._link_put(vouched, user)])
        return linked

    def _provisioned(self, vouched: Vouched, email: str, meta: RequestMeta) -> User:
        connection = vouched.connection
        if not connection.jit_provisioning:
            raise LoginRefusedError("There is no account for this email. Ask your administrator to create one.", 403)
        role = self._catalog.resolve(connection.org_id, connection.default_role)
        if role is None:  # a custom role deleted since the connection named it
            raise LoginRefusedError(
                "This organization's single sign-on names a role that no longer exists. Contact your administrator.",
                403,
            )
        now = utc_now_iso()
        user = User(
            id=new_id("usr"),
            org_id=connection.org_id,
            email=email,
            name=(vouched.name or email.split("@", 1)[0])[:200],
            status="active",
            email_verified=vouched.email_verified,
            created_at=now,
            updated_at=now,
            roles=(RoleAssignment(role.id, now, None, connection.id),),
            sso_provider=connection.name,
        )
        actor = Actor("system", connection.id)
        roles = [
            UserRoleResponse(id=role.id, name=role.name, assigned_at=a.assigned_at, expires_at=a.expires_at)
            for role, a in active_roles(user, self._catalog, now)
        ]
        response = UserResponse.of(user, roles)
        audit = AuditEntry.new(
            user.org_id, actor, "user.created", "user", user.id, meta, {"via": {"from": None, "to": connection.id}}
        )
        event = Event.new(user.org_id, "user.created", {"user": response.model_dump()}, meta, connection.id)
        self._users.create(user, audit, event, [self._link_put(vouched, user)])
        return user
