"""What the token, introspection and userinfo endpoints answer (RFC 6749 §5.1, RFC 7662 §2.2,
OIDC Core §5.3.2), as the OpenAPI document shows it."""

from __future__ import annotations

from typing import Any, Literal

from umapi.api_model import ApiModel


class TokenResponse(ApiModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None  # user sign-ins (authorization_code, refresh_token) only
    id_token: str | None = None  # user sign-ins that were granted the openid scope


class IntrospectionResponse(ApiModel):
    """``{"active": false}`` alone for anything not active, unknown or another organization's."""

    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    token_type: str | None = None
    org_id: str | None = None


class UserInfoResponse(ApiModel):
    sub: str
    org_id: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None


TOKEN_ANSWER: Any = {
    "description": "The token (RFC 6749 §5.1)",
    "content": {"application/json": {"model": TokenResponse}},
}
INTROSPECTION_ANSWER: Any = {
    "description": "What the token is, if it is active (RFC 7662 §2.2)",
    "content": {"application/json": {"model": IntrospectionResponse}},
}
USERINFO_ANSWER: Any = {
    "description": "The signed-in user's claims, as the token's scopes release them (OIDC Core §5.3)",
    "content": {"application/json": {"model": UserInfoResponse}},
}
