"""How handlers get their services: cached per container, built lazily from settings.

Routes ask for ``Annotated[Principal, Depends(authenticated)]`` and
``Annotated[RequestMeta, Depends(current_request_meta)]``; services come from the cached
factories below. ``reset()`` forgets every cached object (tests call it after changing the
environment).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.request import Request

from umapi.audit import RequestMeta
from umapi.audit_log import AuditLogReader
from umapi.auth.login import LoginService
from umapi.auth.oauth import TokenService
from umapi.auth.principal import Authenticator, Principal
from umapi.auth.ratelimit import RateLimiter
from umapi.auth.sessions import SessionStore
from umapi.auth.signing import KeyRingStore, PublicKeyCache, SigningKeyCache
from umapi.aws import dynamodb_client, reset_clients, secretsmanager_client, ses_client, sqs_client
from umapi.clients.repository import ClientRepository
from umapi.clients.service import ClientService
from umapi.email import EmailSender
from umapi.http import issuer_for, request_meta
from umapi.observability import logger
from umapi.orgs.repository import OrgRepository
from umapi.orgs.service import OrgService
from umapi.pagination import CursorCodec
from umapi.roles.catalog import RoleCatalog
from umapi.roles.repository import RoleRepository
from umapi.roles.service import AssignmentService, RoleService
from umapi.settings import get_settings
from umapi.users.repository import UserRepository
from umapi.users.service import UserService
from umapi.webhooks.delivery import Deliverer
from umapi.webhooks.fanout import FanOut
from umapi.webhooks.queue import DeliveryQueue
from umapi.webhooks.repository import WebhookRepository
from umapi.webhooks.service import WebhookService


@cache
def public_keys() -> PublicKeyCache:
    return PublicKeyCache(dynamodb_client(), get_settings().table_name)


@cache
def signing_keys() -> SigningKeyCache:
    settings = get_settings()
    return SigningKeyCache(
        KeyRingStore(secretsmanager_client(), settings.signing_keys_secret, dynamodb_client(), settings.table_name)
    )


@cache
def cursor_codec() -> CursorCodec:
    secret = secretsmanager_client().get_secret_value(SecretId=get_settings().cursor_secret)["SecretString"]
    return CursorCodec(secret.encode())


@cache
def client_repository() -> ClientRepository:
    return ClientRepository(dynamodb_client(), get_settings().table_name)


@cache
def org_repository() -> OrgRepository:
    return OrgRepository(dynamodb_client(), get_settings().table_name)


@cache
def rate_limiter() -> RateLimiter:
    return RateLimiter(dynamodb_client(), get_settings().table_name)


@cache
def authenticator() -> Authenticator:
    settings = get_settings()
    return Authenticator(
        public_keys(),
        dynamodb_client(),
        settings.table_name,
        org_repository(),
        rate_limiter(),
        settings.rate_limit_per_minute,
        role_catalog(),
    )


@cache
def role_repository() -> RoleRepository:
    return RoleRepository(dynamodb_client(), get_settings().table_name)


def role_catalog() -> RoleCatalog:
    return RoleCatalog(role_repository())


def role_service() -> RoleService:
    return RoleService(role_repository(), role_catalog())


def assignment_service() -> AssignmentService:
    return AssignmentService(user_repository(), role_catalog())


def client_service() -> ClientService:
    return ClientService(client_repository(), cursor_codec())


def org_service() -> OrgService:
    return OrgService(org_repository(), cursor_codec())


@cache
def user_repository() -> UserRepository:
    return UserRepository(dynamodb_client(), get_settings().table_name)


def audit_log_reader() -> AuditLogReader:
    return AuditLogReader(dynamodb_client(), get_settings().table_name, cursor_codec())


def user_service() -> UserService:
    return UserService(
        user_repository(),
        role_catalog(),
        cursor_codec(),
        EmailSender(ses_client(), get_settings().mail_from),
        audit_log_reader(),
    )


@cache
def token_service() -> TokenService:
    settings = get_settings()
    return TokenService(
        client_repository(),
        signing_keys(),
        rate_limiter(),
        settings.rate_limit_per_minute,
        settings.access_token_ttl_seconds,
        session_store(),
        user_repository(),
        role_catalog(),
        settings.refresh_reuse_grace_seconds,
    )


@cache
def session_store() -> SessionStore:
    return SessionStore(dynamodb_client(), get_settings().table_name)


def login_service() -> LoginService:
    settings = get_settings()
    return LoginService(client_repository(), user_repository(), session_store(), dynamodb_client(), settings.table_name)


@cache
def webhook_repository() -> WebhookRepository:
    return WebhookRepository(dynamodb_client(), get_settings().table_name)


def delivery_queue() -> DeliveryQueue:
    settings = get_settings()
    return DeliveryQueue(sqs_client(), settings.webhook_queue_url, settings.webhook_dlq_url)


def webhook_service() -> WebhookService:
    return WebhookService(
        webhook_repository(), cursor_codec(), delivery_queue(), allow_loopback=get_settings().webhook_allow_loopback
    )


@cache
def fan_out() -> FanOut:
    return FanOut(webhook_repository(), delivery_queue())


@cache
def deliverer() -> Deliverer:
    settings = get_settings()
    return Deliverer(
        webhook_repository(),
        delivery_queue(),
        settings.webhook_retry_delays,
        allow_loopback=settings.webhook_allow_loopback,
        timeout=settings.webhook_timeout_seconds,
    )


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


def reset() -> None:
    for factory in (
        public_keys,
        signing_keys,
        cursor_codec,
        client_repository,
        org_repository,
        rate_limiter,
        authenticator,
        token_service,
        user_repository,
        session_store,
        role_repository,
        webhook_repository,
        fan_out,
        deliverer,
    ):
        factory.cache_clear()
    reset_clients()
