"""Users: the domain entity, plain records (no pydantic: cheap to import for ``umapi.auth``).

Records across the package are ``NamedTuple``s: immutable, typed, and ten times cheaper to
declare than a frozen dataclass, which compiles its methods at import (~1 ms each on Lambda).
A change is a new record (``_replace``)."""

from __future__ import annotations

from typing import Any, NamedTuple


class RoleAssignment(NamedTuple):
    role_id: str
    assigned_at: str
    expires_at: str | None = None
    assigned_by: str | None = None


class MfaFactor(NamedTuple):
    """A confirmed second factor as the user object shows it (docs/api.md §11): never a secret.
    Its secret (a TOTP key, a passkey's public key) is stored apart, in ``users.mfa_items``."""

    id: str
    type: str  # "totp" | "webauthn"
    name: str
    created_at: str
    last_used_at: str | None = None


class User(NamedTuple):
    id: str
    org_id: str
    email: str
    name: str
    status: str
    email_verified: bool
    created_at: str
    updated_at: str
    roles: tuple[RoleAssignment, ...] = ()
    pending_email: str | None = None
    phone: str | None = None
    department: str | None = None
    avatar_url: str | None = None
    metadata: dict[str, str] = {}  # noqa: RUF012 - a shared default, never changed: records are replaced
    last_login: str | None = None
    archived_at: str | None = None
    version: int = 1
    password_hash: str | None = None  # never in repr (below), audit entries or events
    # Moves on whenever the user's sessions end (password change, suspension, archive); tokens and
    # refresh families carry the version they were issued at and stop working once it moves.
    session_version: int = 0
    sso_provider: str | None = None  # the SSO connection's name once the user signed in through it
    # Every sign-in needs a second factor (docs/api.md §11); with no factor yet, it enrols one first.
    mfa_enabled: bool = False
    mfa_factors: tuple[MfaFactor, ...] = ()

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, org_id={self.org_id!r}, status={self.status!r}, version={self.version!r})"

    @property
    def email_key(self) -> str:
        """Emails are unique per organization, compared case-insensitively."""
        return self.email.lower()

    def public_fields(self) -> dict[str, Any]:
        """What audit entries and events may show of a user: never the password hash."""
        return {
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "email_verified": self.email_verified,
            "pending_email": self.pending_email,
            "phone": self.phone,
            "department": self.department,
            "avatar_url": self.avatar_url,
            "metadata": self.metadata,
            "roles": [role.role_id for role in self.roles],
            "mfa_enabled": self.mfa_enabled,
        }
