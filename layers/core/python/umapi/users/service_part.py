"""What every part of the user service shares (docs/api.md §4): collaborators, the API shape of a user, and
what every change needs (the target, the no-escalation check, audit entries, events, emails)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from umapi.access.principal import Principal
from umapi.audit import Actor, AuditEntry, RequestMeta, field_changes
from umapi.digests import sha256_hex
from umapi.email import EmailSender, verification_email
from umapi.errors import (
    GoneError,
)
from umapi.events import Event
from umapi.pagination import CursorCodec
from umapi.roles.catalog import RoleCatalog
from umapi.time import utc_now_iso
from umapi.users.entities import User
from umapi.users.holdings import active_roles, user_permissions
from umapi.users.lookup import find_user
from umapi.users.models import (
    UserResponse,
    UserRoleResponse,
)
from umapi.users.repository import UserRepository

VERIFICATION_SECONDS = 24 * 3600
PERSONAL_FIELDS = frozenset({"email", "pending_email", "name", "phone", "avatar_url", "metadata"})


def audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field changes for the audit log; personal data is named, never copied (it outlives a purge)."""
    changes = field_changes(before, after)
    return {name: ({"changed": True} if name in PERSONAL_FIELDS else change) for name, change in changes.items()}


class UserServicePart:
    """The base class of each part of ``UserService`` (reads, lifecycle, profile, verification):
    the collaborators they share, the API shape of a user, and the no-escalation check,
    targets, audit entries and events of a change. ``UserService`` is the union of the parts."""

    def __init__(
        self,
        repository: UserRepository,
        catalog: RoleCatalog,
        cursors: CursorCodec,
        emails: EmailSender,
        audit_reader: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._repository = repository
        self._catalog = catalog
        self._cursors = cursors
        self._emails = emails
        self._audit_reader = audit_reader

    def to_response(self, user: User) -> UserResponse:
        now = utc_now_iso()
        roles = [
            UserRoleResponse(id=role.id, name=role.name, assigned_at=a.assigned_at, expires_at=a.expires_at)
            for role, a in active_roles(user, self._catalog, now)
        ]
        return UserResponse.of(user, roles)

    def require_over(self, principal: Principal, user: User) -> None:
        """No escalation (docs/api.md §2): acting on ``user``'s credentials, status or existence
        needs every permission ``user`` holds."""
        if not principal.holds_everything:
            principal.require_over(user_permissions(user, self._catalog, utc_now_iso()), f"user {user.id}")

    def _target(self, principal: Principal, user_id: str) -> User:
        return find_user(self._repository, principal, user_id)

    @staticmethod
    def _not_archived(user: User) -> None:
        if user.status == "archived":
            raise GoneError(f"User {user.id} is archived and can no longer be changed.")

    def _new_verification(self, user: User, address: str) -> tuple[str, dict[str, Any]]:
        token = secrets.token_urlsafe(32)
        now = int(self._clock())
        put = self._repository.verification_put(
            sha256_hex(token),
            {
                "org_id": user.org_id,
                "user_id": user.id,
                "email": address,
                "expires_epoch": now + VERIFICATION_SECONDS,
                "ttl": now + VERIFICATION_SECONDS + 3600,
            },
        )
        return token, put

    def _send_verification(self, user: User, address: str, token: str, verify_url: str) -> None:
        subject, text = verification_email(user.name, f"{verify_url}?token={token}")
        self._emails.send(address, subject, text)

    @staticmethod
    def _audit(actor: Actor, meta: RequestMeta, action: str, user: User, changes: dict[str, Any]) -> AuditEntry:
        return AuditEntry.new(
            org_id=user.org_id,
            actor=actor,
            action=action,
            target_type="user",
            target_id=user.id,
            meta=meta,
            changes=changes,
        )

    @staticmethod
    def _event(principal: Principal, meta: RequestMeta, kind: str, user: User, data: dict[str, Any]) -> Event:
        return Event.new(org_id=user.org_id, type=kind, data=data, meta=meta, actor_id=principal.subject)
