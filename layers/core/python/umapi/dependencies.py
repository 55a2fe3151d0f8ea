"""Route dependencies: who is asking, and the request's audit metadata.

Routes ask for ``Annotated[Principal, Depends(authenticated)]`` and
``Annotated[RequestMeta, Depends(current_request_meta)]``; services come from the lazy,
cached factories in ``umapi.services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.request import Request

from umapi.audit import RequestMeta
from umapi.auth.principal import Principal
from umapi.http import issuer_for, request_meta
from umapi.observability import logger
from umapi.services import authenticator


def authenticate_event(event: Mapping[str, Any], context: dict[str, Any]) -> Principal:
    """The verified caller of an API event (401/403/404/429 otherwise). ``create_app`` runs it
    before the request is validated; routes receive the result through ``authenticated``."""
    headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items()}
    principal = authenticator().authenticate(
        headers,
        event.get("queryStringParameters") or {},
        issuer_for(event),
        context["response_headers"],
    )
    # Every later log line of this request says who asked, and in which organization.
    logger.append_keys(org_id=principal.org_id, client_id=principal.client_id, subject=principal.subject)
    return principal


def authenticated(request: Request) -> Principal:
    """Route dependency: the caller ``create_app(authenticate=authenticate_event)`` verified."""
    principal = request.context.get("principal")
    if isinstance(principal, Principal):
        return principal
    return authenticate_event(request.resolved_event.raw_event, request.context)


def current_request_meta(request: Request) -> RequestMeta:
    """Route dependency: request id, IP and user agent, for audit entries."""
    return request_meta(request.resolved_event.raw_event, request.context["request_id"])
