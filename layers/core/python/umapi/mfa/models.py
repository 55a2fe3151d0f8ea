"""Second factors: the API's request and response models (docs/api.md §11)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from umapi.api_model import ApiModel
from umapi.fields import NOT_BLANK
from umapi.users.models import MfaFactorResponse

FactorName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), Field(json_schema_extra=NOT_BLANK)
]
# A TOTP code (6 digits) or a recovery code (``xxxxx-xxxxx``); longer is never either.
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TotpEnrolRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: FactorName = "Authenticator app"


class CodeRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    code: Code


class PasskeyRequest(ApiModel):
    """``credential``: what ``navigator.credentials.create()`` answered, as JSON
    (``RegistrationResponseJSON``: ``id``, ``rawId``, ``type``, ``response``)."""

    model_config = ConfigDict(extra="forbid")

    name: FactorName = "Passkey"
    credential: Annotated[dict[str, Any], Field(max_length=16)]


class TotpEnrolment(ApiModel):
    """Shown once: the secret is never answered again."""

    factor_id: str
    secret: str
    otpauth_uri: str
    expires_in: int


class TotpConfirmation(ApiModel):
    factor: MfaFactorResponse
    recovery_codes: list[str]


class RecoveryCodes(ApiModel):
    recovery_codes: list[str]


class FactorList(ApiModel):
    mfa_enabled: bool
    data: list[MfaFactorResponse]


class RelyingPartyEntity(ApiModel):
    id: str
    name: str


class UserEntity(ApiModel):
    id: str  # base64url of the user's id
    name: str
    displayName: str  # noqa: N815 - WebAuthn's own member names


class CredentialParameters(ApiModel):
    type: str
    alg: int


class CredentialDescriptor(ApiModel):
    id: str
    type: str
    transports: list[str] | None = None


class AuthenticatorSelection(ApiModel):
    residentKey: str | None = None  # noqa: N815
    requireResidentKey: bool | None = None  # noqa: N815
    userVerification: str | None = None  # noqa: N815
    authenticatorAttachment: str | None = None  # noqa: N815


class PasskeyOptions(ApiModel):
    """``PublicKeyCredentialCreationOptionsJSON`` for ``navigator.credentials.create()``
    (``PublicKeyCredential.parseCreationOptionsFromJSON`` reads it as is)."""

    challenge: str
    rp: RelyingPartyEntity
    user: UserEntity
    pubKeyCredParams: list[CredentialParameters]  # noqa: N815
    timeout: int | None = None
    excludeCredentials: list[CredentialDescriptor] | None = None  # noqa: N815
    authenticatorSelection: AuthenticatorSelection | None = None  # noqa: N815
    attestation: str | None = None
    hints: list[str] | None = None
