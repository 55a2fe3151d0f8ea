"""What routes ask for in their signatures: ``Annotated[..., Depends(...)]`` aliases.

A route names the services it uses as parameters (``users: Users``) instead of fetching them
in its body; tests swap any of them with Powertools' ``app.dependency_overrides[user_service]``.
Query parameters shared by many routes (``Limit``, ``Cursor``, ``Instant``), the request's audit
metadata (``Meta``) and where its verification links point (``VerifyUrl``) live here too; the
caller and its declared permissions come from ``umapi.dependencies.requires``.

The services are built lazily (``umapi.services``), so a function imports only the services its
routes use: for the type checker each alias names its service's class, at run time only the
dependency matters and the class is not imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from umapi import services
from umapi.audit import RequestMeta
from umapi.dependencies import current_request_meta, verification_link
from umapi.pagination import MAX_LIMIT
from umapi.time import parse_rfc3339


def _rfc3339(value: object) -> object:
    """Only RFC 3339 date-times (pydantic alone would also read ``0.5`` as a Unix time)."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time such as 2026-11-23T12:00:00Z")
    return parse_rfc3339(value)


Meta = Annotated[RequestMeta, Depends(current_request_meta)]
VerifyUrl = Annotated[str, Depends(verification_link)]  # where this request's verification links point
Instant = Annotated[datetime, BeforeValidator(_rfc3339)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]

if TYPE_CHECKING:
    from umapi.audit_log import AuditLogReader
    from umapi.auth.federated import FederatedSignIn
    from umapi.auth.login import LoginService
    from umapi.auth.logout import LogoutService
    from umapi.auth.oauth import TokenService
    from umapi.auth.oidc import UserInfo
    from umapi.auth.signing import PublicKeyCache
    from umapi.clients.service import ClientService
    from umapi.jobs.service import JobService
    from umapi.mfa.service import MfaService
    from umapi.orgs.service import OrgService
    from umapi.roles.service import RoleService
    from umapi.sso.federation import Federation as FederationService
    from umapi.sso.service import SsoService
    from umapi.users.assignments import AssignmentService
    from umapi.users.service import UserService
    from umapi.webhooks.service import WebhookService

    Users = Annotated[UserService, Depends(services.user_service)]
    Roles = Annotated[RoleService, Depends(services.role_service)]
    Assignments = Annotated[AssignmentService, Depends(services.assignment_service)]
    Clients = Annotated[ClientService, Depends(services.client_service)]
    Orgs = Annotated[OrgService, Depends(services.org_service)]
    AuditLog = Annotated[AuditLogReader, Depends(services.audit_log_reader)]
    Webhooks = Annotated[WebhookService, Depends(services.webhook_service)]
    Login = Annotated[LoginService, Depends(services.login_service)]
    Federated = Annotated[FederatedSignIn, Depends(services.federated_sign_in)]
    Federation = Annotated[FederationService, Depends(services.federation)]
    Logout = Annotated[LogoutService, Depends(services.logout_service)]
    Tokens = Annotated[TokenService, Depends(services.token_service)]
    UserInfoClaims = Annotated[UserInfo, Depends(services.user_info)]
    PublicKeys = Annotated[PublicKeyCache, Depends(services.public_keys)]
    Jobs = Annotated[JobService, Depends(services.job_service)]
    SsoConnections = Annotated[SsoService, Depends(services.sso_service)]
    Mfa = Annotated[MfaService, Depends(services.mfa_service)]
else:
    Users = Annotated[object, Depends(services.user_service)]
    Roles = Annotated[object, Depends(services.role_service)]
    Assignments = Annotated[object, Depends(services.assignment_service)]
    Clients = Annotated[object, Depends(services.client_service)]
    Orgs = Annotated[object, Depends(services.org_service)]
    AuditLog = Annotated[object, Depends(services.audit_log_reader)]
    Webhooks = Annotated[object, Depends(services.webhook_service)]
    Login = Annotated[object, Depends(services.login_service)]
    Federated = Annotated[object, Depends(services.federated_sign_in)]
    Federation = Annotated[object, Depends(services.federation)]
    Logout = Annotated[object, Depends(services.logout_service)]
    Tokens = Annotated[object, Depends(services.token_service)]
    UserInfoClaims = Annotated[object, Depends(services.user_info)]
    PublicKeys = Annotated[object, Depends(services.public_keys)]
    Jobs = Annotated[object, Depends(services.job_service)]
    SsoConnections = Annotated[object, Depends(services.sso_service)]
    Mfa = Annotated[object, Depends(services.mfa_service)]
