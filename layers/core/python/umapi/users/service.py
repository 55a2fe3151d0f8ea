"""The user lifecycle (contract §4): create, read, list, merge-patch, archive, purge, suspend,
activate, email verification, permission checks and bulk creation.

Every change is one DynamoDB transaction holding the user, its email claim(s), its audit entry
and its outbox event(s). Emails go out after the transaction commits.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from umapi.access.principal import Principal
from umapi.audit import Actor, AuditEntry, RequestMeta, field_changes
from umapi.db import Guarded
from umapi.email import EmailSender, verification_email
from umapi.errors import (
    ConflictError,
    DomainError,
    ErrorDetail,
    GoneError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
    details_from_pydantic,
    error_body,
)
from umapi.events import Event
from umapi.http import etag_of
from umapi.ids import new_id
from umapi.pagination import CursorCodec, Page
from umapi.roles.catalog import RoleCatalog, active_roles, user_permissions
from umapi.sealing import sha256_hex
from umapi.time import utc_now_iso
from umapi.users.entities import RoleAssignment, User
from umapi.users.lookup import find_user
from umapi.users.models import (
    BulkCreateRequest,
    CreateUserRequest,
    DeactivateRequest,
    PermissionCheckResponse,
    UpdateUserRequest,
    UserResponse,
    UserRoleResponse,
    VerifyEmailRequest,
)
from umapi.users.passwords import hash_password
from umapi.users.repository import UserFilters, UserRepository

VERIFICATION_SECONDS = 24 * 3600
SELF_SERVICE_FIELDS = frozenset({"name", "phone", "avatar_url", "password"})
CREDENTIAL_FIELDS = frozenset({"password", "email", "status"})
PERSONAL_FIELDS = frozenset({"email", "pending_email", "name", "phone", "avatar_url", "metadata"})
INCLUDES = frozenset({"roles", "permissions", "audit_log"})
USER_FIELDS = frozenset(UserResponse.model_fields)


@dataclass(frozen=True)
class ListQuery:
    limit: int
    cursor: str | None
    status: str | None
    role: str | None
    department: str | None
    search: str | None
    sort: str
    order: str


MAX_METADATA_KEYS = 10


def merge_metadata(current: dict[str, str], patch: dict[str, str | None] | None) -> dict[str, str]:
    """RFC 7396 for ``metadata``: ``null`` clears it all; otherwise key by key, a ``null`` value
    removes the key, any other value sets it, and keys not named stay."""
    if patch is None:
        return {}
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field changes for the audit log; personal data is named, never copied (it outlives a purge)."""
    changes = field_changes(before, after)
    return {name: ({"changed": True} if name in PERSONAL_FIELDS else change) for name, change in changes.items()}


class UserService:
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

    # ================================================================== reads
    def to_response(self, user: User) -> UserResponse:
        now = utc_now_iso()
        roles = [
            UserRoleResponse(id=role.id, name=role.name, assigned_at=a.assigned_at, expires_at=a.expires_at)
            for role, a in active_roles(user, self._catalog, now)
        ]
        return UserResponse(
            id=user.id,
            org_id=user.org_id,
            email=user.email,
            name=user.name,
            roles=roles,
            status=user.status,  # type: ignore[arg-type]
            email_verified=user.email_verified,
            pending_email=user.pending_email,
            phone=user.phone,
            department=user.department,
            avatar_url=user.avatar_url,
            metadata=user.metadata,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login=user.last_login,
            archived_at=user.archived_at,
            version=user.version,
        )

    def representation(self, user: User, include: set[str], fields: set[str] | None) -> dict[str, Any]:
        """The user as the API shows it, with ``include=`` extras and only the ``fields=`` asked for."""
        body = self.to_response(user).model_dump()
        if "permissions" in include:
            body["permissions"] = sorted(user_permissions(user, self._catalog, utc_now_iso()))
        if "audit_log" in include and self._audit_reader is not None:  # parse_views checked audit:read
            body["audit_log"] = self._audit_reader.recent_for_target(user.org_id, user.id)
        if fields is not None:
            body = {name: value for name, value in body.items() if name in fields or name == "id"}
        return body

    @staticmethod
    def parse_views(principal: Principal, include: str | None, fields: str | None) -> tuple[set[str], set[str] | None]:
        wanted = {part.strip() for part in (include or "").split(",") if part.strip()}
        unknown = wanted - INCLUDES
        if unknown:
            raise ValidationError(
                "include names something unknown.",
                details=[
                    ErrorDetail(
                        "include",
                        f"Unknown: {', '.join(sorted(unknown))}; use {', '.join(sorted(INCLUDES))}.",
                        "invalid_include",
                    )
                ],
            )
        if "audit_log" in wanted:
            principal.require("audit:read")
        if fields is None:
            return wanted, None
        chosen = {part.strip() for part in fields.split(",") if part.strip()}
        unknown = chosen - USER_FIELDS - wanted
        if unknown:
            raise ValidationError(
                "fields names something the user object does not have.",
                details=[ErrorDetail("fields", f"Unknown: {', '.join(sorted(unknown))}.", "invalid_field")],
            )
        return wanted, chosen

    def get(self, principal: Principal, user_id: str) -> User:
        user = self._target(principal, user_id)
        if principal.subject != user.id:
            principal.require("users:read")
        return user

    def me(self, principal: Principal) -> User:
        if not principal.subject.startswith("usr_"):
            raise NotFoundError("This token belongs to an API client, not to a user: there is no /users/me.")
        return self.get(principal, principal.subject)

    def list_page(
        self, principal: Principal, query: ListQuery, include: set[str] | None = None, fields: set[str] | None = None
    ) -> Page[dict[str, Any]]:
        principal.require("users:read")
        archived = query.status == "archived"
        role_id = None
        if query.role:
            role = self._catalog.resolve(principal.org_id, query.role)
            if role is None:
                return Page[dict[str, Any]](data=[], pagination=self._cursors.page_info(query.limit, None, ""))
            role_id = role.id
        filters = UserFilters(
            status=None if archived else query.status,
            role_id=role_id,
            department=query.department,
            search=query.search or None,
        )
        listing = "users:" + json.dumps([principal.org_id, query.status, filters, query.sort, query.order], default=str)
        start = self._cursors.decode(query.cursor, listing) if query.cursor else None
        users, next_key = self._repository.list_page(
            principal.org_id,
            archived=archived,
            sort=query.sort,
            descending=query.order == "desc",
            limit=query.limit,
            start_key=start,
            filters=filters,
        )
        return Page[dict[str, Any]](
            data=[self.representation(user, include or set(), fields) for user in users],
            pagination=self._cursors.page_info(query.limit, next_key, listing),
        )

    def check_permission(self, principal: Principal, user_id: str, permission: str) -> PermissionCheckResponse:
        user = self.get(principal, user_id)
        via = user_permissions(user, self._catalog, utc_now_iso()).get(permission)
        if not via:
            raise NotFoundError(f"User {user_id} does not hold {permission}.")
        return PermissionCheckResponse(permission=permission, granted=True, via_roles=via)

    # ================================================================== create
    def create(
        self, principal: Principal, request: CreateUserRequest, meta: RequestMeta, verify_url: str
    ) -> UserResponse:
        principal.require("users:create")
        role = self._catalog.resolve(principal.org_id, request.role)
        if role is None:
            raise ValidationError(
                f"Role {request.role} does not exist in this organization.",
                details=[
                    ErrorDetail("role", "Unknown role: use admin, member, viewer or a custom role id.", "unknown_role")
                ],
            )
        principal.require_each(role.permissions, "a role")
        now = utc_now_iso()
        user = User(
            id=new_id("usr"),
            org_id=principal.org_id,
            email=request.email,
            name=request.name,
            status="pending_verification",
            email_verified=False,
            created_at=now,
            updated_at=now,
            roles=(RoleAssignment(role.id, now, None, principal.subject),),
            phone=request.phone,
            department=request.department,
            avatar_url=request.avatar_url,
            metadata=dict(request.metadata),
            password_hash=hash_password(request.password) if request.password else None,
        )
        extra: list[Guarded] = []
        token = None
        if request.send_welcome_email:
            token, put = self._new_verification(user, user.email)
            extra.append((put, None))
        response = self.to_response(user)
        self._repository.create(
            user,
            self._audit(principal.actor, meta, "user.created", user, audit_changes({}, user.public_fields())),
            self._event(principal, meta, "user.created", user, {"user": response.model_dump()}),
            extra,
        )
        if token:
            self._send_verification(user, user.email, token, verify_url)
        return response

    def bulk_create(
        self, principal: Principal, request: BulkCreateRequest, meta: RequestMeta, verify_url: str
    ) -> dict[str, Any]:
        principal.require("users:create")
        results: list[dict[str, Any]] = []
        for index, row in enumerate(request.users):
            try:
                created = self.create(principal, CreateUserRequest.model_validate(row), meta, verify_url)
            except PydanticValidationError as exc:
                error = ValidationError("The row is not valid.", details=details_from_pydantic(exc.errors()))
                results.append({"index": index, "status": "error", "error": error_body(error)})
            except DomainError as error:
                results.append({"index": index, "status": "error", "error": error_body(error)})
            else:
                results.append({"index": index, "status": "success", "user": created.model_dump()})
        successful = sum(1 for result in results if result["status"] == "success")
        return {
            "processed": len(results),
            "successful": successful,
            "failed": len(results) - successful,
            "results": results,
        }

    # ================================================================== change
    def update(
        self,
        principal: Principal,
        user_id: str,
        patch: UpdateUserRequest,
        if_match: str | None,
        meta: RequestMeta,
        verify_url: str,
    ) -> UserResponse:
        user = self._target(principal, user_id)
        sent = patch.model_fields_set
        if principal.subject != user.id or not sent <= SELF_SERVICE_FIELDS:
            principal.require("users:update")
        # No escalation: another user's credentials (password, email) and status, or one's own
        # email and status through a token narrower than oneself, need all the target holds.
        credentials = sent & (CREDENTIAL_FIELDS if principal.subject != user.id else CREDENTIAL_FIELDS - {"password"})
        if credentials:
            self.require_over(principal, user)
        self._not_archived(user)
        if if_match is not None and if_match.strip() not in ("*", etag_of(self.to_response(user).model_dump())):
            raise PreconditionFailedError("The user changed since you read it (If-Match); read it again.")
        for required in ("name", "email"):
            if required in sent and getattr(patch, required) is None:
                raise ValidationError(
                    f"{required} cannot be cleared.",
                    details=[ErrorDetail(required, "Cannot be null.", "null_not_allowed")],
                )

        now = utc_now_iso()
        changes: dict[str, Any] = {
            name: getattr(patch, name) for name in sent & {"name", "phone", "department", "avatar_url"}
        }
        if "metadata" in sent:
            merged = merge_metadata(user.metadata, patch.metadata)
            if len(merged) > MAX_METADATA_KEYS:
                raise ValidationError(
                    "metadata may hold at most 10 keys.",
                    details=[ErrorDetail("metadata", "More than 10 keys after the merge.", "too_many_keys")],
                )
            changes["metadata"] = merged
        event_types: list[str] = []
        token = None
        extra: list[Guarded] = []
        if "email" in sent and patch.email is not None and patch.email != user.email:
            if patch.email.lower() == user.email_key:
                changes["email"] = patch.email  # the same address, another spelling
            else:
                if self._repository.email_taken(user.org_id, patch.email.lower()):
                    raise ConflictError(
                        f"A user with email {patch.email} already exists in this organization.",
                        context={"conflicting_field": "email"},
                    )
                changes["pending_email"] = patch.email
                token, put = self._new_verification(user, patch.email)
                extra.append((put, None))
        if "password" in sent and patch.password is not None:
            changes["password_hash"] = hash_password(patch.password)
            changes["session_version"] = user.session_version + 1
            event_types.append("user.password_changed")
        if "status" in sent and patch.status is not None and patch.status != user.status:
            changes["status"] = patch.status
            if patch.status == "suspended":
                changes["session_version"] = user.session_version + 1
            event_types.append("user.activated" if patch.status == "active" else "user.deactivated")
        updated = replace(user, **changes, updated_at=now, version=user.version + 1)
        if set(changes) - {"password_hash", "session_version", "status"}:
            event_types.insert(0, "user.updated")
        if not event_types:
            return self.to_response(user)
        diff = audit_changes(user.public_fields(), updated.public_fields())
        if "password_hash" in changes:
            diff["password"] = {"changed": True}
        response = self.to_response(updated)
        events = [
            self._event(principal, meta, kind, updated, {"user": response.model_dump(), "changes": sorted(diff)})
            for kind in event_types
        ]
        audit = self._audit(principal.actor, meta, "user.updated", updated, diff)
        self._repository.save(user, updated, audit, events, extra)
        if token:
            self._send_verification(updated, patch.email or "", token, verify_url)
        return response

    def set_status(
        self,
        principal: Principal,
        user_id: str,
        status: str,
        meta: RequestMeta,
        request: DeactivateRequest | None = None,
    ) -> UserResponse:
        principal.require("users:update")
        user = self._target(principal, user_id)
        self.require_over(principal, user)
        self._not_archived(user)
        if user.status == status:
            return self.to_response(user)
        now = utc_now_iso()
        revoke = status == "suspended" and (request is None or request.revoke_sessions)
        updated = replace(
            user,
            status=status,
            updated_at=now,
            version=user.version + 1,
            session_version=user.session_version + 1 if revoke else user.session_version,
        )
        kind = "user.activated" if status == "active" else "user.deactivated"
        data: dict[str, Any] = {"user": self.to_response(updated).model_dump()}
        changes = audit_changes(user.public_fields(), updated.public_fields())
        if request is not None:
            data["reason"] = request.reason
            changes["reason"] = request.reason
        audit = self._audit(principal.actor, meta, kind, updated, changes)
        self._repository.save(user, updated, audit, [self._event(principal, meta, kind, updated, data)])
        return self.to_response(updated)

    def archive(self, principal: Principal, user_id: str, meta: RequestMeta) -> UserResponse:
        principal.require("users:delete")
        user = self._target(principal, user_id)
        self.require_over(principal, user)
        self._not_archived(user)
        now = utc_now_iso()
        archived = replace(
            user,
            status="archived",
            archived_at=now,
            updated_at=now,
            version=user.version + 1,
            session_version=user.session_version + 1,
        )
        response = self.to_response(archived)
        self._repository.save(
            user,
            archived,
            self._audit(
                principal.actor,
                meta,
                "user.archived",
                archived,
                audit_changes(user.public_fields(), archived.public_fields()),
            ),
            [
                self._event(
                    principal, meta, "user.deleted", archived, {"user": response.model_dump(), "permanent": False}
                )
            ],
        )
        return response

    def purge(self, principal: Principal, user_id: str, meta: RequestMeta) -> None:
        principal.require("users:delete")
        user = self._target(principal, user_id)
        self.require_over(principal, user)
        self._repository.purge(
            user,
            self._audit(principal.actor, meta, "user.purged", user, {}),
            self._event(
                principal,
                meta,
                "user.deleted",
                user,
                {"user": {"id": user.id, "org_id": user.org_id}, "permanent": True},
            ),
        )

    # ================================================================== verification
    def resend_verification(
        self, principal: Principal, user_id: str, meta: RequestMeta, verify_url: str
    ) -> dict[str, Any]:
        principal.require("users:update")
        user = self._target(principal, user_id)
        self._not_archived(user)
        address = user.pending_email or (None if user.email_verified else user.email)
        if address is None:
            raise ConflictError(f"User {user_id} has verified its email and has no pending change.")
        token, put = self._new_verification(user, address)
        audit = self._audit(principal.actor, meta, "user.verification_sent", user, {})
        self._repository.put_with_audit(put, audit)
        self._send_verification(user, address, token, verify_url)
        return {"message": "A verification email is on its way.", "expires_in": VERIFICATION_SECONDS}

    def verify_email(self, request: VerifyEmailRequest, meta: RequestMeta) -> UserResponse:
        invalid = ValidationError(
            "The verification token is unknown, used or expired.",
            details=[ErrorDetail("token", "Request a new verification email.", "invalid_token")],
        )
        token_hash = sha256_hex(request.token)
        record = self._repository.get_verification(token_hash)
        now_epoch = int(self._clock())
        if record is None or int(record["expires_epoch"]) <= now_epoch:
            raise invalid
        user = self._repository.get(record["org_id"], record["user_id"], consistent=True)
        if user is None or user.status == "archived":
            raise invalid
        now = utc_now_iso()
        changes: dict[str, Any] = {}
        extra: list[Guarded] = [(self._repository.verification_consume(token_hash, now_epoch), invalid)]
        address = record["email"]
        if address.lower() == user.email_key:
            changes["email_verified"] = True
        elif address == user.pending_email:
            changes.update(email=address, pending_email=None, email_verified=True)
            taken = ConflictError(
                f"{address} was taken by another user meanwhile; nothing was changed.",
                context={"conflicting_field": "email"},
            )
            extra += [
                (self._repository.claim_email(user.org_id, address.lower(), user.id), taken),
                (self._repository.release_email(user.org_id, user.email_key), None),
            ]
        else:
            raise invalid  # the pending change this token was for has been replaced
        event_types = ["user.updated"]
        if user.status == "pending_verification":
            changes["status"] = "active"
            event_types.append("user.activated")
        if request.password:
            changes["password_hash"] = hash_password(request.password)
            changes["session_version"] = user.session_version + 1
            event_types.append("user.password_changed")
        updated = replace(user, **changes, updated_at=now, version=user.version + 1)
        actor = Actor(type="user", id=user.id)
        response = self.to_response(updated)
        diff = audit_changes(user.public_fields(), updated.public_fields())
        events = [
            Event(org_id=user.org_id, type=kind, data={"user": response.model_dump()}, meta=meta, actor_id=user.id)
            for kind in event_types
        ]
        audit = self._audit(actor, meta, "user.email_verified", updated, diff)
        self._repository.save(user, updated, audit, events, extra)
        return response

    # ================================================================== helpers
    def require_over(self, principal: Principal, user: User) -> None:
        """No escalation (contract §2): acting on ``user``'s credentials, status or existence
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
        return AuditEntry(
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
        return Event(org_id=user.org_id, type=kind, data=data, meta=meta, actor_id=principal.subject)
