"""Email verification (docs/api.md §4): re-sending the email, and consuming its single-use token."""

from __future__ import annotations

from typing import Any

from umapi.access.principal import Principal
from umapi.audit import Actor, RequestMeta
from umapi.db import Guarded
from umapi.digests import sha256_hex
from umapi.errors import (
    ConflictError,
    ErrorDetail,
    ValidationError,
)
from umapi.events import Event
from umapi.time import utc_now_iso
from umapi.users.models import (
    UserResponse,
    VerifyEmailRequest,
)
from umapi.users.passwords import hash_password
from umapi.users.service_part import VERIFICATION_SECONDS, UserServicePart, audit_changes


class UserVerification(UserServicePart):
    """Re-send the verification email; consume its single-use token."""

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
        updated = user._replace(**changes, updated_at=now, version=user.version + 1)
        actor = Actor(type="user", id=user.id)
        response = self.to_response(updated)
        diff = audit_changes(user.public_fields(), updated.public_fields())
        events = [
            Event.new(org_id=user.org_id, type=kind, data={"user": response.model_dump()}, meta=meta, actor_id=user.id)
            for kind in event_types
        ]
        audit = self._audit(actor, meta, "user.email_verified", updated, diff)
        self._repository.save(user, updated, audit, events, extra)
        return response
