"""The sign-in's second step (docs/api.md §11): after the password (or a federated sign-in whose
identity provider did not assert MFA), a user with ``mfa_enabled`` answers a second page with a
TOTP code, a recovery code or a passkey; a user without a factor enrols one there first. No
authorization code exists before it passes.

    attempt   PK=MFAATTEMPT#<sha256(secret)>  SK=MFAATTEMPT   5 minutes (TTL, and checked on read)

The attempt holds the authorization request as it was validated, when and how the first factor
was given, the passkey challenge and the enrolment under way. Its secret lives in a
``SameSite=Strict`` cookie of this browser; the page posts back to ``/oauth/authorize``. The
attempt is deleted, on condition it still exists, in the transaction that issues the code.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.db import Guarded
from umapi.digests import sha256_hex
from umapi.errors import ValidationError
from umapi.ids import new_id
from umapi.mfa import passkeys, recovery, totp
from umapi.mfa.proofs import SecondFactors
from umapi.mfa.store import FactorSet, StoredFactor, refused_code
from umapi.table_keys import mfa_attempt_pk
from umapi.text import parse_json
from umapi.time import utc_now_iso
from umapi.users.entities import MfaFactor, User

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ATTEMPT_SECONDS = 300
ATTEMPT_COOKIE = "umapi_mfa"
ATTEMPT_SK = "MFAATTEMPT"
SECRET_CHARS = 64
CREDENTIAL_CHARS = 16_384  # a passkey's answer is about 1 KB; far longer is not one
TOTP_ISSUER = "User Management API"


class Attempt(NamedTuple):
    org_id: str
    user_id: str
    params: dict[str, str]  # the authorization request, as validated when the first factor passed
    auth_time: int
    amr: tuple[str, ...]  # the first factor's: ("pwd",), or the identity provider's
    idp: str | None
    session_version: int
    expires_epoch: int
    challenge: str | None = None  # the passkey challenge of this attempt
    enrol_factor_id: str | None = None  # the TOTP enrolment under way (a user without a factor)
    options: str | None = None  # the passkey request options shown with the challenge (JSON)


class SecondStepView(NamedTuple):
    """What the second page shows."""

    email: str
    error: str | None = None
    enrol_secret: str | None = None  # enrolment: the TOTP secret, as text and as a QR code
    enrol_qr_svg: str | None = None
    passkey_options: str | None = None  # JSON for navigator.credentials.get()
    codes: bool = True  # a TOTP code or a recovery code may be typed


class SecondStepPage(NamedTuple):
    """Show the second page (``secret``: a new attempt's, for the cookie)."""

    view: SecondStepView
    secret: str | None = None
    status: int = 200


class Checked(NamedTuple):
    """A second factor that passed: how (RFC 8176), the writes that spend it, and what changes on
    the user item with the sign-in."""

    amr: tuple[str, ...]
    items: list[Guarded]
    used_factor: str | None = None  # its last_used_at moves
    added_factor: MfaFactor | None = None  # enrolled on this page
    recovery_codes: list[str] | None = None  # shown once, after an enrolment


def _key(secret: str) -> dict[str, Any]:
    return {"PK": {"S": mfa_attempt_pk(sha256_hex(secret))}, "SK": {"S": ATTEMPT_SK}}


class SecondStep:
    def __init__(self, dynamodb: DynamoDBClient, table: str, factors: SecondFactors) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self.factors = factors
        self._store = factors.store

    # ------------------------------------------------------------------ the attempt
    def start(
        self,
        user: User,
        params: dict[str, str],
        auth_time: int,
        amr: tuple[str, ...],
        idp: str | None,
        issuer: str,
    ) -> SecondStepPage:
        secret = secrets.token_urlsafe(32)
        now = int(time.time())
        attempt = Attempt(
            user.org_id, user.id, params, auth_time, amr, idp, user.session_version, now + ATTEMPT_SECONDS
        )
        factors = self._store.factor_set(user.org_id, user.id)
        if not factors.confirmed:  # enrolment first: a TOTP key, confirmed by this page's code
            pending = self._enrol(user)
            attempt = attempt._replace(enrol_factor_id=pending.id)
            factors = factors._replace(factors=(*factors.factors, pending))
        passkeys_held = [f.credential_id for f in factors.of_type("webauthn") if f.credential_id]
        if passkeys_held:
            options, challenge = passkeys.authentication_options(passkeys.relying_party(issuer), passkeys_held)
            attempt = attempt._replace(challenge=challenge)
            attempt_options: dict[str, Any] | None = options
        else:
            attempt_options = None
        values = {
            **attempt._asdict(),
            "amr": " ".join(attempt.amr),
            "options": json.dumps(attempt_options) if attempt_options else None,
            "ttl": attempt.expires_epoch + 3600,
        }
        with db.translate_errors():
            self._dynamodb.put_item(TableName=self._table, Item={**_key(secret), **db.serialize(values)})
        options = values["options"]
        return SecondStepPage(self.view(attempt, user, factors, passkey_options=options), secret)

    def attempt(self, secret: str | None) -> Attempt | None:
        """The attempt this browser's cookie names, if it is unexpired."""
        if not secret or len(secret) > SECRET_CHARS:
            return None
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=_key(secret), ConsistentRead=True).get("Item")
        if item is None:
            return None
        v = db.deserialize(item)
        if int(v["expires_epoch"]) <= time.time():
            return None
        return Attempt(
            v["org_id"],
            v["user_id"],
            dict(v["params"]),
            int(v["auth_time"]),
            tuple(str(v.get("amr") or "").split()),
            v.get("idp"),
            int(v["session_version"]),
            int(v["expires_epoch"]),
            v.get("challenge"),
            v.get("enrol_factor_id"),
            v.get("options"),
        )

    def end_item(self, secret: str) -> Guarded:
        """Deletes the attempt, on condition it is still there: one code per attempt."""
        delete = {
            "Delete": {"TableName": self._table, "Key": _key(secret), "ConditionExpression": "attribute_exists(PK)"}
        }
        return delete, refused_code()

    # ------------------------------------------------------------------ the page
    def view(
        self,
        attempt: Attempt,
        user: User,
        factors: FactorSet | None = None,
        error: str | None = None,
        passkey_options: str | None = None,
    ) -> SecondStepView:
        factors = factors or self._store.factor_set(user.org_id, user.id)
        typed = bool(factors.of_type("totp")) or attempt.enrol_factor_id is not None
        view = SecondStepView(user.email, error, passkey_options=passkey_options, codes=typed)
        pending = next((f for f in factors.factors if f.id == attempt.enrol_factor_id), None)
        if pending is not None:
            key = self.factors.secret_of(user.org_id, user.id, pending)
            uri = totp.otpauth_uri(key, user.email, TOTP_ISSUER)
            view = view._replace(enrol_secret=key, enrol_qr_svg=_qr_svg(uri))
        return view

    # ------------------------------------------------------------------ the check
    def check(
        self, attempt: Attempt, user: User, factors: FactorSet, otp: str, credential: str, issuer: str
    ) -> Checked:
        """The second factor ``otp`` or ``credential`` names, among ``factors`` (the user's, as
        read for this request), or ``ValidationError`` (counted against the account by the
        caller's ``SecondFactors.attempt``)."""
        if credential:
            return self._passkey(attempt, user, factors, credential, issuer)
        if attempt.enrol_factor_id is not None and not factors.confirmed:
            return self._enrolment(attempt, user, factors, otp)
        proof = self.factors.check_code(user.org_id, user.id, factors, otp)
        if proof is None:
            raise refused_code()
        return Checked(proof.amr, [proof.spend], used_factor=proof.factor_id)

    def _passkey(self, attempt: Attempt, user: User, factors: FactorSet, credential: str, issuer: str) -> Checked:
        try:
            answer = parse_json(credential[:CREDENTIAL_CHARS])
        except ValueError:  # not JSON, or nested deeper than any passkey's answer
            raise refused_code() from None
        held = {f.credential_id: f for f in factors.of_type("webauthn")}
        credential_id = answer.get("id") if isinstance(answer, dict) else None
        factor = held.get(credential_id) if isinstance(credential_id, str) else None
        if factor is None or attempt.challenge is None or factor.public_key is None:
            raise refused_code()
        try:
            count = passkeys.verify_assertion(
                passkeys.relying_party(issuer), answer, attempt.challenge, factor.public_key, factor.sign_count
            )
        except passkeys.PasskeyError:
            raise refused_code() from None
        spend = self._store.counter_item(user.org_id, user.id, factor, count)
        return Checked(("hwk", "mfa"), [spend], used_factor=factor.id)

    def _enrolment(self, attempt: Attempt, user: User, factors: FactorSet, otp: str) -> Checked:
        pending = next((f for f in factors.factors if f.id == attempt.enrol_factor_id), None)
        if pending is None:
            raise ValidationError("The enrolment expired. Please sign in again.")
        step = totp.matching_step(self.factors.secret_of(user.org_id, user.id, pending), otp.strip(), time.time())
        if step is None:
            raise refused_code()
        codes = recovery.new_codes()
        hashes = [self.factors.recovery_hash(user.id, c) for c in codes]
        items = [
            self._store.confirm_item(user.org_id, user.id, pending, step),
            self._store.recovery_put(user.org_id, user.id, hashes),
        ]
        added = MfaFactor(pending.id, "totp", pending.name, utc_now_iso())
        return Checked(("otp", "mfa"), items, added_factor=added, recovery_codes=codes)

    def _enrol(self, user: User) -> StoredFactor:
        factor_id = new_id("mfa")
        key = totp.new_secret()
        sealed = self.factors.seal(user.org_id, user.id, factor_id, key)
        expires = int(time.time()) + ATTEMPT_SECONDS + 60
        pending = StoredFactor(factor_id, "totp", "Authenticator app", utc_now_iso(), False, expires, sealed)
        self._store.put_pending(user.org_id, user.id, pending)
        return pending


def _qr_svg(uri: str) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code, drawn here (no external service)."""
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title="QR code of the authenticator key"
    )
    return out.getvalue().decode()
