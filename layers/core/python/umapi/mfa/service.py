"""Second factors through the API (docs/api.md §11): a user's own TOTP enrolment and passkeys,
recovery codes, the removal of a factor, and an administrator's reset.

Each change is one transaction: the user item (``mfa_enabled``, the public side of its factors,
at its version), the factors' own items, the spending of the code that proved it, the audit
entry and the ``user.updated`` event. No secret reaches an audit entry, an event or a log."""

from __future__ import annotations

from typing import Any

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.db import Guarded
from umapi.errors import ConflictError, ErrorDetail, ForbiddenError, NotFoundError, ValidationError
from umapi.ids import new_id
from umapi.mfa import passkeys, recovery, totp
from umapi.mfa.models import FactorList, PasskeyRequest, RecoveryCodes, TotpConfirmation, TotpEnrolment
from umapi.mfa.proofs import Proof, SecondFactors
from umapi.mfa.store import PENDING_SECONDS, StoredFactor, refused_code
from umapi.outbox import audit_put
from umapi.time import utc_now_iso
from umapi.users.entities import MfaFactor, User
from umapi.users.mfa_items import MAX_FACTORS, reset_items
from umapi.users.models import MfaFactorResponse
from umapi.users.service_part import UserServicePart, audit_changes

TOTP_ISSUER = "User Management API"


class PasskeyFactor(MfaFactorResponse):
    """A new passkey; the first factor of a user also brings its recovery codes (shown once)."""

    recovery_codes: list[str] | None = None


class MfaService(UserServicePart):
    """``/users/me/mfa…`` and ``DELETE /users/{id}/mfa``."""

    def __init__(self, *parts: Any, factors: SecondFactors) -> None:
        super().__init__(*parts)
        self._factors = factors
        self._store = factors.store

    # ------------------------------------------------------------------ reads
    def me(self, principal: Principal) -> User:
        if not principal.subject.startswith("usr_"):
            raise NotFoundError("This token belongs to an API client, not to a user: it has no second factors.")
        user = self._repository.get(principal.home_org_id, principal.subject, consistent=True)
        if user is None:
            raise NotFoundError(f"User {principal.subject} not found.")
        self._not_archived(user)
        return user

    def list_factors(self, principal: Principal) -> FactorList:
        user = self.me(principal)
        return FactorList(mfa_enabled=user.mfa_enabled, data=[MfaFactorResponse.of(f) for f in user.mfa_factors])

    # ------------------------------------------------------------------ TOTP
    def enrol_totp(self, principal: Principal, name: str) -> TotpEnrolment:
        user = self.me(principal)
        self._room_for_one_more(principal, user)
        factor_id = new_id("mfa")
        secret = totp.new_secret()
        expires = int(self._clock()) + PENDING_SECONDS
        sealed = self._factors.seal(user.org_id, user.id, factor_id, secret)
        pending = StoredFactor(factor_id, "totp", name, utc_now_iso(), False, expires, sealed)
        self._store.put_pending(user.org_id, user.id, pending)
        return TotpEnrolment(
            factor_id=factor_id,
            secret=secret,
            otpauth_uri=totp.otpauth_uri(secret, user.email, TOTP_ISSUER),
            expires_in=PENDING_SECONDS,
        )

    def confirm_totp(self, principal: Principal, factor_id: str, code: str, meta: RequestMeta) -> TotpConfirmation:
        user = self.me(principal)
        pending = self._store.get_factor(user.org_id, user.id, factor_id) if factor_id.startswith("mfa_") else None
        if (
            pending is None
            or pending.type != "totp"
            or pending.confirmed
            or (pending.expires_epoch or 0) <= self._clock()
        ):
            raise NotFoundError(
                f"No TOTP enrolment {factor_id} is waiting for confirmation (an enrolment lasts 10 minutes)."
            )
        self._room_for_one_more(principal, user)
        step = totp.matching_step(self._factors.secret_of(user.org_id, user.id, pending), code.strip(), self._clock())
        if step is None:
            raise refused_code()
        factor = MfaFactor(pending.id, "totp", pending.name, utc_now_iso())
        codes, codes_item = self._new_recovery_codes(user)  # a new set, replacing any
        confirm = self._store.confirm_item(user.org_id, user.id, pending, step)
        self._add_factor(principal, meta, user, factor, [confirm, codes_item])
        return TotpConfirmation(factor=MfaFactorResponse.of(factor), recovery_codes=codes)

    # ------------------------------------------------------------------ passkeys
    def passkey_options(self, principal: Principal, issuer: str) -> dict[str, Any]:
        user = self.me(principal)
        self._room_for_one_more(principal, user)
        existing = [f.credential_id for f in self._store.factor_set(user.org_id, user.id).of_type("webauthn")]
        options, challenge = passkeys.registration_options(
            passkeys.relying_party(issuer), user.id, user.email, user.name, [c for c in existing if c]
        )
        self._store.challenge_put(user.org_id, user.id, challenge)
        return options

    def add_passkey(
        self, principal: Principal, request: PasskeyRequest, issuer: str, meta: RequestMeta
    ) -> PasskeyFactor:
        user = self.me(principal)
        self._room_for_one_more(principal, user)
        challenge = passkeys.challenge_of(request.credential)
        if challenge is None or not self._store.challenge_spend(user.org_id, user.id, challenge):
            raise _credential_error(
                "This passkey answers no challenge given to you: ask for new options (they are single use "
                "and last 5 minutes)."
            )
        try:
            new = passkeys.verify_registration(passkeys.relying_party(issuer), request.credential, challenge)
        except passkeys.PasskeyError as problem:
            raise _credential_error(f"The passkey could not be verified: {problem}") from None
        known = self._store.factor_set(user.org_id, user.id).of_type("webauthn")
        if any(f.credential_id == new.credential_id for f in known):
            raise ConflictError("This passkey is registered already.", context={"conflicting_field": "credential"})
        now = utc_now_iso()
        stored = StoredFactor(
            new_id("mfa"),
            "webauthn",
            request.name,
            now,
            True,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=new.transports,
        )
        factor = MfaFactor(stored.id, "webauthn", stored.name, now)
        extra = [self._store.factor_put(user.org_id, user.id, stored)]
        codes = None
        if not user.mfa_factors:  # the first factor: recovery codes come with it
            codes, codes_item = self._new_recovery_codes(user)
            extra.append(codes_item)
        self._add_factor(principal, meta, user, factor, extra)
        return PasskeyFactor(**MfaFactorResponse.of(factor).model_dump(), recovery_codes=codes)

    # ------------------------------------------------------------------ removal and recovery codes
    def delete_factor(self, principal: Principal, factor_id: str, code: str, meta: RequestMeta) -> None:
        user = self.me(principal)
        if not any(f.id == factor_id for f in user.mfa_factors):
            raise NotFoundError(f"Factor {factor_id} not found.")
        factors = self._store.factor_set(user.org_id, user.id)
        with self._factors.attempt(user.org_id, user.id):
            proof = self._factors.require_code(user.org_id, user.id, factors, code)
            remaining = tuple(f for f in user.mfa_factors if f.id != factor_id)
            items: list[Guarded] = []
            if proof.factor_id == factor_id:  # its own code: the delete spends it
                items.append(self._store.factor_delete(user.org_id, user.id, factor_id, proof.step))
            else:
                items.append(self._store.factor_delete(user.org_id, user.id, factor_id))
                if remaining or proof.method != "recovery":
                    items.append(proof.spend)
            if not remaining:  # the last factor: MFA is off, and the recovery codes go too
                items.append(self._spent_recovery_delete(user, proof))
            updated = user._replace(
                mfa_factors=remaining, mfa_enabled=user.mfa_enabled and bool(remaining), **self._next(user)
            )
            changes = {"mfa_factors": {"removed": factor_id}}
            self._save(principal, meta, "user.mfa_factor_removed", user, updated, changes, items)

    def replace_recovery_codes(self, principal: Principal, code: str, meta: RequestMeta) -> RecoveryCodes:
        user = self.me(principal)
        if not user.mfa_factors:
            raise ConflictError("You have no second factor: recovery codes come with your first one.")
        factors = self._store.factor_set(user.org_id, user.id)
        with self._factors.attempt(user.org_id, user.id):
            proof = self._factors.require_code(user.org_id, user.id, factors, code)
            codes = recovery.new_codes()
            hashes = [self._factors.recovery_hash(user.id, c) for c in codes]
            if proof.method == "recovery":  # the old set goes, on condition the code was in it
                spent = proof.spend[0]["Update"]["ExpressionAttributeValues"][":spent"]["S"]
                items = [self._store.recovery_put(user.org_id, user.id, hashes, spent)]
            else:
                items = [proof.spend, self._store.recovery_put(user.org_id, user.id, hashes)]
            audit = self._audit(principal.actor, meta, "user.recovery_codes_replaced", user, {})
            self._store.transact([*items, (audit_put(self._store.table, audit), None)])
        return RecoveryCodes(recovery_codes=codes)

    # ------------------------------------------------------------------ administrators
    def reset(self, principal: Principal, user_id: str, meta: RequestMeta) -> None:
        """``DELETE /users/{id}/mfa``: every factor and recovery code goes, and ``mfa_enabled`` is off."""
        principal.require("users:update")
        user = self._target(principal, user_id)
        self.require_over(principal, user)
        self._not_archived(user)
        if not user.mfa_enabled and not user.mfa_factors:
            return
        updated = user._replace(mfa_enabled=False, mfa_factors=(), **self._next(user))
        removed = [f.id for f in user.mfa_factors]
        items = reset_items(self._store.table, user)
        changes = {"mfa_factors": {"removed": removed}}
        self._save(principal, meta, "user.mfa_reset", user, updated, changes, items, event_fields=["mfa_enabled"])

    # ------------------------------------------------------------------ helpers
    def _room_for_one_more(self, principal: Principal, user: User) -> None:
        """Another factor may be added: fewer than ``MAX_FACTORS``, and for a user who has one
        already, only through a token of a sign-in that used one (``amr`` ``mfa``): otherwise a
        stolen token, or a password alone, could add a factor of its own and keep it."""
        if user.mfa_factors and "mfa" not in principal.amr:
            raise ForbiddenError(
                "Your account has a second factor: adding another needs a token from a sign-in that used one. "
                "Sign in again with your second factor.",
                context={"required_amr": "mfa"},
            )
        if len(user.mfa_factors) >= MAX_FACTORS:
            raise ConflictError(f"A user has at most {MAX_FACTORS} second factors: remove one first.")

    def _next(self, user: User) -> dict[str, Any]:
        return {"updated_at": utc_now_iso(), "version": user.version + 1}

    def _new_recovery_codes(self, user: User) -> tuple[list[str], Guarded]:
        codes = recovery.new_codes()
        hashes = [self._factors.recovery_hash(user.id, c) for c in codes]
        return codes, self._store.recovery_put(user.org_id, user.id, hashes)

    def _spent_recovery_delete(self, user: User, proof: Proof) -> Guarded:
        delete, error = self._store.recovery_delete(user.org_id, user.id)
        if proof.method == "recovery":
            spend = proof.spend[0]["Update"]
            delete["Delete"]["ConditionExpression"] = spend["ConditionExpression"]
            delete["Delete"]["ExpressionAttributeValues"] = {":spent": spend["ExpressionAttributeValues"][":spent"]}
            error = proof.spend[1]
        return delete, error

    def _add_factor(
        self, principal: Principal, meta: RequestMeta, user: User, factor: MfaFactor, items: list[Guarded]
    ) -> None:
        updated = user._replace(mfa_enabled=True, mfa_factors=(*user.mfa_factors, factor), **self._next(user))
        changes = {"mfa_factors": {"added": factor.id, "type": factor.type}}
        self._save(principal, meta, "user.mfa_factor_added", user, updated, changes, items)

    def _save(
        self,
        principal: Principal,
        meta: RequestMeta,
        action: str,
        user: User,
        updated: User,
        changes: dict[str, Any],
        items: list[Guarded],
        *,
        event_fields: list[str] | None = None,
    ) -> None:
        """The change, its audit entry (``action``) and ``user.updated`` naming the changed fields
        (``event_fields``: only these)."""
        diff = {**audit_changes(user.public_fields(), updated.public_fields()), **changes}
        data = {"user": self.to_response(updated).model_dump(), "changes": event_fields or sorted(diff)}
        event = self._event(principal, meta, "user.updated", updated, data)
        audit = self._audit(principal.actor, meta, action, updated, diff)
        self._repository.save(user, updated, audit, [event], items)


def _credential_error(message: str) -> ValidationError:
    return ValidationError(message, details=[ErrorDetail("credential", message, "invalid_credential")])
