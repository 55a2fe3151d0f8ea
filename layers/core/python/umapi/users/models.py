"""Users: the API's request and response models (docs/api.md §4). The entity is in ``entities``;
an answer is built from it by the response model's ``of``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints

from umapi.api_model import ApiModel
from umapi.audit_log import AuditEntryResponse
from umapi.error_models import ErrorObject
from umapi.fields import NOT_BLANK, Omittable

if TYPE_CHECKING:
    from umapi.users.entities import MfaFactor, User

UserStatus = Literal["pending_verification", "active", "suspended", "archived"]

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_PASSWORD_CLASSES = (
    (re.compile(r"[A-Z]"), "an upper-case letter"),
    (re.compile(r"[a-z]"), "a lower-case letter"),
    (re.compile(r"\d"), "a digit"),
    (re.compile(r"[^A-Za-z0-9]"), "a special character"),
)


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value) or len(value.split("@")[0]) > 64:
        raise ValueError("must be a valid email address of at most 254 characters")
    return value


def _password(value: str) -> str:
    missing = [name for pattern, name in _PASSWORD_CLASSES if not pattern.search(value)]
    if missing:
        raise ValueError(f"must contain {', '.join(missing)}")
    return value


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 number such as +14155550123")
    return value


def _https(value: str) -> str:
    if not re.match(r"^https://[^\s/?#]+[^\s]*$", value):
        raise ValueError("must be an https URL")
    return value


def _metadata(value: dict[str, str | None]) -> dict[str, str | None]:
    if len(value) > 10:
        raise ValueError("may hold at most 10 keys")
    return value


# Where a validator does the work, the schema says the same as a pattern (documentation only),
# so generated clients and schemathesis send what the API accepts.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email", "pattern": _EMAIL.pattern}),
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=128),
    AfterValidator(_password),
    Field(json_schema_extra={"pattern": r"^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*[^A-Za-z0-9]).{8,128}$"}),
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_phone),
    Field(json_schema_extra={"pattern": _E164.pattern}),
]
AvatarUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(_https),
    Field(json_schema_extra={"pattern": r"^https://[^\s/?#]+[^\s]*$"}),
]
Department = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]
RoleRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CreateUserRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    role: RoleRef = "member"
    password: Password | None = None
    phone: Phone | None = None
    department: Department | None = None
    avatar_url: AvatarUrl | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue], AfterValidator(_metadata)] = Field(default_factory=dict)
    send_welcome_email: StrictBool = True


class UpdateUserRequest(ApiModel):
    """JSON Merge Patch (RFC 7396): omitted fields stay, ``null`` clears, ``metadata`` merges per key."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[Name] = None
    email: Omittable[Email] = None
    password: Password | None = None
    phone: Phone | None = None
    department: Department | None = None
    avatar_url: AvatarUrl | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue | None], AfterValidator(_metadata)] | None = None
    status: Literal["active", "suspended"] | None = None
    # docs/api.md §11: true makes the next sign-in enrol a factor; false removes every factor.
    mfa_enabled: Omittable[StrictBool] = None


class DeactivateRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    revoke_sessions: StrictBool = True


class VerifyEmailRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Password | None = None


class BulkCreateRequest(ApiModel):
    """Rows are validated one by one, so one bad row never blocks the others."""

    model_config = ConfigDict(extra="forbid")

    users: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=100)]


class UserRoleResponse(ApiModel):
    id: str
    name: str
    assigned_at: str
    expires_at: str | None


class MfaFactorResponse(ApiModel):
    """A confirmed second factor (docs/api.md §11): never its secret."""

    id: str
    type: Literal["totp", "webauthn"]
    name: str
    created_at: str
    last_used_at: str | None

    @classmethod
    def of(cls, factor: MfaFactor) -> MfaFactorResponse:
        return cls(
            id=factor.id,
            type=factor.type,  # type: ignore[arg-type]
            name=factor.name,
            created_at=factor.created_at,
            last_used_at=factor.last_used_at,
        )


class UserResponse(ApiModel):
    id: str
    org_id: str
    email: str
    name: str
    roles: list[UserRoleResponse]
    status: UserStatus
    email_verified: bool
    pending_email: str | None
    phone: str | None
    department: str | None
    avatar_url: str | None
    metadata: dict[str, str]
    created_at: str
    updated_at: str
    last_login: str | None
    archived_at: str | None
    version: int
    sso_provider: str | None = None  # the SSO connection the user signs in through (docs/api.md §12)
    mfa_enabled: bool = False  # every sign-in needs a second factor (docs/api.md §11)
    mfa_factors: list[MfaFactorResponse] = []  # noqa: RUF012 - pydantic copies defaults

    @classmethod
    def of(cls, user: User, roles: list[UserRoleResponse]) -> UserResponse:
        """``user`` as the API shows it, with ``roles``: its unexpired roles that still exist."""
        return cls(
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
            sso_provider=user.sso_provider,
            mfa_enabled=user.mfa_enabled,
            mfa_factors=[MfaFactorResponse.of(factor) for factor in user.mfa_factors],
        )


class PermissionCheckResponse(ApiModel):
    permission: str
    granted: bool
    via_roles: list[str]


class UserView(ApiModel):
    """A user as ``fields=`` and ``include=`` shape it: ``id`` always, every other field when
    chosen (all of them without ``fields=``), and ``permissions`` / ``audit_log`` when included."""

    id: str
    org_id: str | None = None
    email: str | None = None
    name: str | None = None
    roles: list[UserRoleResponse] | None = None
    status: UserStatus | None = None
    email_verified: bool | None = None
    pending_email: str | None = None
    phone: str | None = None
    department: str | None = None
    avatar_url: str | None = None
    metadata: dict[str, str] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_login: str | None = None
    archived_at: str | None = None
    version: int | None = None
    sso_provider: str | None = None
    mfa_enabled: bool | None = None
    mfa_factors: list[MfaFactorResponse] | None = None
    permissions: list[str] | None = None
    audit_log: list[AuditEntryResponse] | None = None


class BulkRow(ApiModel):
    index: int
    status: Literal["success", "error"]
    user: UserResponse | None = None
    error: ErrorObject | None = None


class BulkCreateResult(ApiModel):
    processed: int
    successful: int
    failed: int
    results: list[BulkRow]


class VerificationSent(ApiModel):
    message: str
    expires_in: int
