"""What the users routes take and answer beyond their models: the shaping query parameters, the
documented shaped answers, and where verification links point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from umapi.http import public_base_url
from umapi.pagination import Page
from umapi.settings import get_settings
from umapi.users.models import UserView

Include = Annotated[str | None, Query(max_length=200, description="roles,permissions,audit_log")]
Fields = Annotated[str | None, Query(max_length=500, description="comma-separated fields; id is always included")]

# The shaped answers (include=, fields=) as the OpenAPI document shows them: typed views.
USER_VIEW: Any = {"description": "The user", "content": {"application/json": {"model": UserView}}}
USER_PAGE: Any = {"description": "A page of users", "content": {"application/json": {"model": Page[UserView]}}}
NOT_MODIFIED: Any = {"description": "Not modified (If-None-Match)"}


def verification_url(event: Mapping[str, Any]) -> str:
    """Where verification links point: ``VERIFICATION_URL``, else ``<API root>/verify-email``."""
    return get_settings().verification_url or f"{public_base_url(event)}/verify-email"
