"""Who is calling, acting in which organization, with which permissions (docs/api.md §1, §2), and
the rule no caller escapes: nobody obtains, grants, replays, resets or takes over a credential
or identity that can do more than themselves (docs/api.md §2, "No escalation").

``umapi.auth.authenticator`` turns a bearer token into a ``Principal``; every service asks it
with ``require`` (a permission), ``require_each`` (what is being given) and ``require_over``
(what the target of an action holds).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from umapi.access.permissions import PERMISSIONS, PLATFORM_ADMIN
from umapi.audit import Actor
from umapi.errors import ForbiddenError


@dataclass(frozen=True)
class Principal:
    """The caller of one request. Every permission check goes through ``require``/``require_each``,
    which also records what the request needed (``checked``), so an idempotent replay can be
    refused to a caller who would be refused the request itself now."""

    subject: str  # cli_… for client tokens, usr_… for user tokens
    client_id: str
    home_org_id: str  # the organization the token was issued in
    org_id: str  # the organization this request acts in (differs only for platform admins)
    permissions: frozenset[str]
    token_id: str
    # User tokens: the session the token belongs to (the user's session version at sign-in and
    # the sign-in's refresh family), so work that outlives the request (a job) can stop with it.
    session_version: int | None = None
    session_id: str | None = None
    # The token's scope as issued, OpenID Connect's scopes included (they grant no permission).
    scopes: frozenset[str] = frozenset()
    # User tokens: how the user signed in (RFC 8176 ``amr``: "pwd", "otp", "hwk", "mfa").
    amr: frozenset[str] = frozenset()
    checked: set[str] = field(default_factory=set, compare=False, repr=False)

    @property
    def is_platform_admin(self) -> bool:
        return PLATFORM_ADMIN in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(type="user" if self.subject.startswith("usr_") else "client", id=self.subject)

    def holds(self, permission: str) -> bool:
        """Platform admins hold every permission, in every organization."""
        return permission in self.permissions or self.is_platform_admin

    @property
    def holds_everything(self) -> bool:
        """Whether no target can hold more than this caller (spares computing the target's permissions)."""
        return self.is_platform_admin or self.permissions >= frozenset(PERMISSIONS)

    def missing(self, permissions: Iterable[str]) -> list[str]:
        """Which of ``permissions`` this caller lacks, in a stable order."""
        return sorted(permission for permission in set(permissions) if not self.holds(permission))

    def require(self, permission: str) -> None:
        self.checked.add(permission)
        if not self.holds(permission):
            raise ForbiddenError(
                f"This token lacks the {permission} permission.", context={"required_permission": permission}
            )

    def require_each(self, permissions: Iterable[str], what: str) -> None:
        """No escalation, when giving: ``what`` (e.g. "a role", "a client") may carry only
        permissions this caller holds."""
        wanted = set(permissions)
        self.checked.update(wanted)
        for permission in self.missing(wanted):
            raise ForbiddenError(
                f"You cannot give {what} with {permission}: this token does not hold it.",
                context={"required_permission": permission},
            )

    def require_over(self, target_permissions: Iterable[str], what: str) -> None:
        """No escalation, when acting on a credential or identity (docs/api.md §2): rotating,
        changing or deleting ``what`` (a client, a user) needs every permission it holds, so
        nobody takes over something that can do more than themselves."""
        held = set(target_permissions)
        self.checked.update(held)
        for permission in self.missing(held):
            raise ForbiddenError(
                f"You cannot act on {what}: it holds {permission}, which this token does not.",
                context={"required_permission": permission},
            )

    def require_platform_admin(self) -> None:
        self.require(PLATFORM_ADMIN)
