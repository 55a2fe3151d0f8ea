"""A user's role assignments (``/users/{id}/roles``, ``/users/bulk/roles``): assigning with an
optional expiry, removing, in bulk. An assignment is a change of the user, written by the user
repository in one transaction with what it implies: the role's holder item, the admin roster
that keeps an organization from losing its last admin, the audit entry and the
``role.assigned``/``role.removed`` event (see ``UserWriter``)."""

from __future__ import annotations

from typing import Any

from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta
from umapi.db import RowGuard
from umapi.errors import (
    ConflictError,
    DomainError,
    GoneError,
    NotFoundError,
    UserSuspendedError,
    row_error_body,
)
from umapi.events import Event
from umapi.roles.catalog import RoleCatalog
from umapi.roles.entities import ADMIN_ROLE_ID, Role, is_custom_role_id, system_role
from umapi.time import utc_now_iso
from umapi.users.admin_roster import RosterState
from umapi.users.assignment_models import (
    AssignmentResponse,
    AssignRoleRequest,
    BulkRolesRequest,
    BulkRolesResponse,
    UserRoleEntry,
    UserRoleList,
)
from umapi.users.entities import RoleAssignment, User
from umapi.users.holdings import active_roles, unexpired, user_permissions
from umapi.users.lookup import find_user, user_org
from umapi.users.repository import UserChange, UserRepository


# Refusals of one user's assignment change, with the codes bulk results give them.
class UnknownUserError(NotFoundError):
    row_code = "user_not_found"


class UserArchivedError(GoneError):
    row_code = "user_archived"


class AlreadyAssignedError(ConflictError):
    row_code = "already_assigned"


class NotAssignedError(NotFoundError):
    row_code = "not_assigned"


class AssignmentService:
    """``/users/{id}/roles`` and ``/users/bulk/roles``."""

    def __init__(self, users: UserRepository, catalog: RoleCatalog) -> None:
        self._users = users
        self._catalog = catalog

    def list(self, principal: Principal, user_id: str) -> UserRoleList:
        user = find_user(self._users, principal, user_id)
        if principal.subject != user.id:
            principal.require("users:read")
        return UserRoleList(
            data=[
                UserRoleEntry(
                    role_id=role.id,
                    role_name=role.name,
                    assigned_at=assignment.assigned_at,
                    expires_at=assignment.expires_at,
                    permissions=sorted(role.permissions),
                )
                for role, assignment in active_roles(user, self._catalog, utc_now_iso())
            ]
        )

    def assign(
        self,
        principal: Principal,
        user_id: str,
        request: AssignRoleRequest,
        meta: RequestMeta,
        guard: RowGuard | None = None,
    ) -> AssignmentResponse:
        """``POST /users/{id}/roles``; ``guard``: a job row's unit of work, joining the transaction."""
        principal.require("users:update")
        user, role, roster = self._user_and_role(principal, user_id, request.role_id)
        if role is None:
            raise NotFoundError(f"Role {request.role_id} not found.")
        principal.require_each(role.permissions, "a role")
        if user is None:
            raise UnknownUserError(f"User {user_id} not found.")
        change, assignment = self._assignment(principal, user, role, request.expires_at, request.assigned_by, meta)
        self._users.commit(change._replace(roster=roster), guard)
        return AssignmentResponse(
            user_id=user.id,
            role_id=role.id,
            role_name=role.name,
            assigned_at=assignment.assigned_at,
            expires_at=assignment.expires_at,
            assigned_by=assignment.assigned_by,
        )

    def remove(
        self, principal: Principal, user_id: str, role_ref: str, meta: RequestMeta, guard: RowGuard | None = None
    ) -> None:
        """``DELETE /users/{id}/roles/{role}``; ``guard``: a job row's unit of work, joining."""
        principal.require("users:update")
        user, role, roster = self._user_and_role(principal, user_id, role_ref)
        if user is None:
            raise UnknownUserError(f"User {user_id} not found.")
        if role is None:
            raise NotFoundError(f"User {user_id} does not hold role {role_ref}.")
        self._users.commit(self._removal(principal, user, role, meta)._replace(roster=roster), guard)

    def bulk(self, principal: Principal, request: BulkRolesRequest, meta: RequestMeta) -> BulkRolesResponse:
        principal.require("users:update")
        role = self._role(principal, request.role_id)
        users = self._users.get_many(principal.org_id, [i for i in request.user_ids if i.startswith("usr_")])
        errors: dict[str, DomainError] = {}
        changes: list[tuple[str, UserChange]] = []
        for user_id in request.user_ids:
            user = users.get(user_id)
            try:
                if user is None:
                    raise UnknownUserError(f"User {user_id} not found.")
                if request.action == "assign":
                    change, _ = self._assignment(principal, user, role, request.expires_at, None, meta)
                else:
                    change = self._removal(principal, user, role, meta)
            except DomainError as error:
                errors[user_id] = error
            else:
                changes.append((user_id, change))
        outcomes = self._users.commit_many([change for _, change in changes])
        for (user_id, _), outcome in zip(changes, outcomes, strict=True):
            if outcome is not None:
                errors[user_id] = outcome if isinstance(outcome, DomainError) else ConflictError(str(outcome))
        done = "Role assigned successfully." if request.action == "assign" else "Role removed successfully."
        results: list[dict[str, Any]] = []
        for user_id in request.user_ids:
            refusal = errors.get(user_id)
            if refusal is None:
                results.append({"user_id": user_id, "status": "success", "message": done})
            else:
                refused = row_error_body(refusal)
                results.append(
                    {
                        "user_id": user_id,
                        "status": "error",
                        "error": {"code": refused["code"], "message": refused["message"]},
                    }
                )
        return BulkRolesResponse.model_validate(
            {
                "processed": len(results),
                "successful": len(results) - len(errors),
                "failed": len(errors),
                "results": results,
            }
        )

    # ------------------------------------------------------------------ one user's change
    def _user_and_role(
        self, principal: Principal, user_id: str, role_ref: str
    ) -> tuple[User | None, Role | None, RosterState | None]:
        """The user (as ``find_user`` finds it), the role of the user's organization that
        ``role_ref`` names and, for the admin role, the admin roster the change will be checked
        against, read together: one consistent ``BatchGetItem`` (system roles are in memory)."""
        if not user_id.startswith("usr_"):
            return None, self._catalog.resolve(principal.org_id, role_ref), None
        org_id = user_org(self._users, principal, user_id)
        role = system_role(role_ref)
        custom = role_ref if role is None and is_custom_role_id(role_ref) else None
        admin = role is not None and role.id == ADMIN_ROLE_ID
        user, found, roster = self._users.get_with_role(org_id, user_id, custom, roster=admin)
        return user, role or found, roster

    def _role(self, principal: Principal, ref: str) -> Role:
        role = self._catalog.resolve(principal.org_id, ref)
        if role is None:
            raise NotFoundError(f"Role {ref} not found.")
        principal.require_each(role.permissions, "a role")
        return role

    def _assignment(
        self,
        principal: Principal,
        user: User,
        role: Role,
        expires_at: str | None,
        assigned_by: str | None,
        meta: RequestMeta,
    ) -> tuple[UserChange, RoleAssignment]:
        if user.status == "archived":
            raise UserArchivedError(f"User {user.id} is archived and can no longer be changed.")
        if user.status == "suspended":
            raise UserSuspendedError(f"User {user.id} is suspended; activate it before assigning roles.")
        now = utc_now_iso()
        if not principal.holds_everything:
            principal.require_over(user_permissions(user, self._catalog, now), f"user {user.id}")
        if any(a.role_id == role.id for a in unexpired(user, now)):
            raise AlreadyAssignedError(f"User {user.id} already holds role {role.name}.")
        assignment = RoleAssignment(role.id, now, expires_at, assigned_by or principal.subject)
        roles = (*(a for a in user.roles if a.role_id != role.id), assignment)  # an expired one is replaced
        updated = user._replace(roles=roles, updated_at=now, version=user.version + 1)
        data = {
            "user_id": user.id,
            "role_id": role.id,
            "role_name": role.name,
            "assigned_at": now,
            "expires_at": expires_at,
            "assigned_by": assignment.assigned_by,
        }
        changes = {"role_id": role.id, "expires_at": expires_at}
        return self._change(principal, meta, "role.assigned", user, updated, data, changes), assignment

    def _removal(self, principal: Principal, user: User, role: Role, meta: RequestMeta) -> UserChange:
        if user.status == "archived":
            raise UserArchivedError(f"User {user.id} is archived and can no longer be changed.")
        if not any(a.role_id == role.id for a in unexpired(user, utc_now_iso())):
            raise NotAssignedError(f"User {user.id} does not hold role {role.name}.")
        principal.require_each(role.permissions, "or take away a role")
        now = utc_now_iso()
        if not principal.holds_everything:
            principal.require_over(user_permissions(user, self._catalog, now), f"user {user.id}")
        updated = user._replace(
            roles=tuple(a for a in user.roles if a.role_id != role.id),
            updated_at=now,
            version=user.version + 1,
        )
        data = {"user_id": user.id, "role_id": role.id, "role_name": role.name}
        return self._change(principal, meta, "role.removed", user, updated, data, {"role_id": role.id})

    @staticmethod
    def _change(
        principal: Principal,
        meta: RequestMeta,
        kind: str,
        before: User,
        after: User,
        data: dict[str, Any],
        changes: dict[str, Any],
    ) -> UserChange:
        audit = AuditEntry.new(after.org_id, principal.actor, kind, "user", after.id, meta, changes)
        event = Event.new(org_id=after.org_id, type=kind, data=data, meta=meta, actor_id=principal.subject)
        return UserChange(before, after, audit, [event])
