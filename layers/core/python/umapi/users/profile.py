"""Changing a user (docs/api.md §4): JSON Merge Patch of the profile, email changes that wait for
verification, password changes that end sessions, status changes, ``If-Match``."""

from __future__ import annotations

from typing import Any

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.db import Guarded, RowGuard
from umapi.errors import (
    ConflictError,
    ErrorDetail,
    PreconditionFailedError,
    ValidationError,
)
from umapi.http import etag_of
from umapi.time import utc_now_iso
from umapi.users.mfa_items import reset_items
from umapi.users.models import UpdateUserRequest, UserResponse
from umapi.users.passwords import hash_password
from umapi.users.service_part import UserServicePart, audit_changes

SELF_SERVICE_FIELDS = frozenset({"name", "phone", "avatar_url", "password"})
CREDENTIAL_FIELDS = frozenset({"password", "email", "status", "mfa_enabled"})
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


class UserProfile(UserServicePart):
    """JSON Merge Patch of a user: profile, email (verified first), password, status."""

    def update(
        self,
        principal: Principal,
        user_id: str,
        patch: UpdateUserRequest,
        if_match: str | None,
        meta: RequestMeta,
        verify_url: str,
        guard: RowGuard | None = None,
    ) -> UserResponse:
        """``PATCH /users/{id}``; ``guard``: a job row's unit of work, joining the change's transaction."""
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
        if "mfa_enabled" in sent and patch.mfa_enabled is not None:
            if patch.mfa_enabled and not user.mfa_enabled:
                changes["mfa_enabled"] = True  # the next sign-in enrols a factor before it completes
            elif not patch.mfa_enabled and (user.mfa_enabled or user.mfa_factors):
                changes["mfa_enabled"] = False  # and every factor and recovery code goes
                changes["mfa_factors"] = ()
                extra += reset_items(self._repository.table, user)
        updated = user._replace(**changes, updated_at=now, version=user.version + 1)
        if set(changes) - {"password_hash", "session_version", "status", "mfa_factors"}:
            event_types.insert(0, "user.updated")
        if not event_types:
            return self.to_response(user)
        diff = audit_changes(user.public_fields(), updated.public_fields())
        if "password_hash" in changes:
            diff["password"] = {"changed": True}
        changed_fields = sorted(diff)  # the user's fields that changed (never a secret)
        if changes.get("mfa_factors") == () and user.mfa_factors:
            diff["mfa_factors"] = {"removed": [factor.id for factor in user.mfa_factors]}
        response = self.to_response(updated)
        events = [
            self._event(principal, meta, kind, updated, {"user": response.model_dump(), "changes": changed_fields})
            for kind in event_types
        ]
        audit = self._audit(principal.actor, meta, "user.updated", updated, diff)
        self._repository.save(user, updated, audit, events, extra, guard)
        if token:
            self._send_verification(updated, patch.email or "", token, verify_url)
        return response
