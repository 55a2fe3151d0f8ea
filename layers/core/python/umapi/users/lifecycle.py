"""A user's life (docs/api.md §4): created (one or in bulk), suspended and activated, archived, purged."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.db import Guarded, RowGuard
from umapi.errors import (
    DomainError,
    ErrorDetail,
    ValidationError,
    details_from_pydantic,
    error_body,
)
from umapi.ids import new_id
from umapi.time import utc_now_iso
from umapi.users.entities import RoleAssignment, User
from umapi.users.models import (
    BulkCreateRequest,
    CreateUserRequest,
    DeactivateRequest,
    UserResponse,
)
from umapi.users.passwords import hash_password
from umapi.users.service_part import UserServicePart, audit_changes


class UserLifecycle(UserServicePart):
    """Create (one or in bulk), suspend and activate, archive, purge."""

    def create(
        self,
        principal: Principal,
        request: CreateUserRequest,
        meta: RequestMeta,
        verify_url: str,
        guard: RowGuard | None = None,
    ) -> UserResponse:
        """``POST /users``; ``guard``: a job row's unit of work, joining the user's transaction."""
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
            guard,
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
        updated = user._replace(
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
        archived = user._replace(
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
