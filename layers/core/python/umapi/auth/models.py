"""What the token endpoint answers (RFC 6749 §5.1), as the OpenAPI document shows it."""

from __future__ import annotations

from typing import Any, Literal

from umapi.api_model import ApiModel


class TokenResponse(ApiModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None  # user sign-ins (authorization_code, refresh_token) only


TOKEN_ANSWER: Any = {
    "description": "The token (RFC 6749 §5.1)",
    "content": {"application/json": {"model": TokenResponse}},
}
