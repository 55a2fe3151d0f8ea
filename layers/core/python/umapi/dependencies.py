"""Route dependencies: who is asking, what the route requires of them, and the request's audit
metadata.

Every authenticated route declares its permissions once, in its caller parameter:
``caller: Annotated[Principal, Depends(requires("users:create"))]``. The dependency checks them
before the route (and before an idempotent replay) runs; ``scripts/openapi.py`` publishes the
same declaration as ``x-required-permissions`` and the authorization-matrix test reads it for
every route of ``template.yaml``. Services come from the lazy, cached factories in
``umapi.services``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_type_hints

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.http import issuer_for, public_base_url, request_meta
from umapi.observability import logger
from umapi.services import authenticator
from umapi.settings import get_settings


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


def verification_link(request: Request) -> str:
    """Route dependency: where verification links point: ``VERIFICATION_URL``, else
    ``<API root>/verify-email``."""
    return get_settings().verification_url or f"{public_base_url(request.resolved_event.raw_event)}/verify-email"


class PermissionDeclaration:
    """What a route requires: every one of ``permissions``, except from the user named by the
    path parameter ``unless_self`` (a user reading or editing itself); ``by_type``: and the
    permission of the job type the request names or acts on (the service checks it, from
    this same table, once the type is known)."""

    def __init__(
        self, permissions: tuple[str, ...], unless_self: str | None, by_type: Mapping[str, str] | None = None
    ) -> None:
        self.permissions = permissions
        self.unless_self = unless_self
        self.by_type = dict(by_type or {})


def requires(
    *permissions: str, unless_self: str | None = None, by_type: Mapping[str, str] | None = None
) -> Callable[..., Principal]:
    """Route dependency: the verified caller, once it holds ``permissions`` (403 otherwise).
    ``requires()`` declares a route any authenticated caller may use."""
    declaration = PermissionDeclaration(tuple(permissions), unless_self, by_type)

    def caller_with_permissions(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if unless_self is None or request.path_parameters.get(unless_self) != principal.subject:
            for permission in permissions:
                principal.require(permission)
        return principal

    caller_with_permissions.declaration = declaration  # type: ignore[attr-defined]
    return caller_with_permissions


def declared_permissions(route: Callable[..., Any]) -> PermissionDeclaration | None:
    """The declaration of a route function (``None``: a public route, no caller)."""
    for hint in get_type_hints(route, include_extras=True).values():
        for meta in getattr(hint, "__metadata__", ()):
            declaration = getattr(getattr(meta, "dependency", None), "declaration", None)
            if isinstance(declaration, PermissionDeclaration):
                return declaration
    return None
