"""The services handlers use: built lazily from settings, cached per container.

Each factory imports its service when first called, so a function loads only the code its
routes use (cold starts; ``make bench`` measures them). ``reset()`` forgets every cached
object (tests call it after changing the environment).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from umapi.aws import dynamodb_client, s3_client, secretsmanager_client, ses_client, sqs_client
from umapi.settings import get_settings

if TYPE_CHECKING:
    from umapi.audit_log import AuditLogReader
    from umapi.auth.authenticator import Authenticator
    from umapi.auth.browser_sessions import BrowserSessions
    from umapi.auth.federated import FederatedSignIn
    from umapi.auth.login import LoginService
    from umapi.auth.logout import LogoutService
    from umapi.auth.oauth import TokenService
    from umapi.auth.oidc import UserInfo
    from umapi.auth.ratelimit import RateLimiter
    from umapi.auth.sessions import SessionStore
    from umapi.auth.signing import PublicKeyCache, SigningKeyCache
    from umapi.clients.repository import ClientRepository
    from umapi.clients.service import ClientService
    from umapi.jobs.chunks import ChunkRepository
    from umapi.jobs.entities import Job
    from umapi.jobs.export import Exporter
    from umapi.jobs.messages import JobQueue
    from umapi.jobs.repository import JobRepository
    from umapi.jobs.service import JobService
    from umapi.jobs.worker import CallbackSender, JobWorker
    from umapi.mfa.proofs import SecondFactors
    from umapi.mfa.service import MfaService
    from umapi.orgs.repository import OrgRepository
    from umapi.orgs.service import OrgService
    from umapi.pagination import CursorCodec
    from umapi.roles.catalog import RoleCatalog
    from umapi.roles.repository import RoleRepository
    from umapi.roles.service import RoleService
    from umapi.sealing import Sealer
    from umapi.sso.entities import SsoConnection
    from umapi.sso.federation import Federation
    from umapi.sso.id_tokens import KeySets
    from umapi.sso.service import SsoService
    from umapi.users.assignments import AssignmentService
    from umapi.users.repository import UserRepository
    from umapi.users.service import UserService
    from umapi.users.sign_ins import SignInRecords
    from umapi.webhooks.deliveries import DeliveryRepository
    from umapi.webhooks.delivery import Deliverer
    from umapi.webhooks.event_store import EventRepository
    from umapi.webhooks.fanout import FanOut
    from umapi.webhooks.queue import DeliveryQueue
    from umapi.webhooks.service import WebhookService
    from umapi.webhooks.subscriptions import WebhookRepository


@cache
def public_keys() -> PublicKeyCache:
    from umapi.auth.signing import PublicKeyCache

    return PublicKeyCache(dynamodb_client(), get_settings().table_name)


@cache
def signing_keys() -> SigningKeyCache:
    from umapi.auth.signing import KeyRingStore, SigningKeyCache

    settings = get_settings()
    return SigningKeyCache(
        KeyRingStore(secretsmanager_client(), settings.signing_keys_secret, dynamodb_client(), settings.table_name)
    )


@cache
def sealer() -> Sealer:
    """Encryption and MACs keyed from the service's data key (``CURSOR_SECRET``), read once."""
    from umapi.sealing import Sealer

    secret = secretsmanager_client().get_secret_value(SecretId=get_settings().cursor_secret)["SecretString"]
    return Sealer(secret.encode())


@cache
def cursor_codec() -> CursorCodec:
    from umapi.pagination import CursorCodec

    return CursorCodec(sealer())


@cache
def client_repository() -> ClientRepository:
    from umapi.clients.repository import ClientRepository

    return ClientRepository(dynamodb_client(), get_settings().table_name)


@cache
def org_repository() -> OrgRepository:
    from umapi.orgs.repository import OrgRepository

    return OrgRepository(dynamodb_client(), get_settings().table_name)


@cache
def rate_limiter() -> RateLimiter:
    from umapi.auth.ratelimit import RateLimiter

    return RateLimiter(dynamodb_client(), get_settings().table_name)


@cache
def authenticator() -> Authenticator:
    from umapi.auth.authenticator import Authenticator

    settings = get_settings()
    return Authenticator(
        public_keys(),
        user_repository(),
        org_repository(),
        rate_limiter(),
        settings.rate_limit_per_minute,
        role_catalog(),
    )


@cache
def role_repository() -> RoleRepository:
    from umapi.roles.repository import RoleRepository

    return RoleRepository(dynamodb_client(), get_settings().table_name)


def role_catalog() -> RoleCatalog:
    from umapi.roles.catalog import RoleCatalog

    return RoleCatalog(role_repository())


def role_service() -> RoleService:
    from umapi.roles.service import RoleService

    return RoleService(role_repository(), role_catalog())


def assignment_service() -> AssignmentService:
    from umapi.users.assignments import AssignmentService

    return AssignmentService(user_repository(), role_catalog())


def client_service() -> ClientService:
    from umapi.clients.service import ClientService

    return ClientService(client_repository(), cursor_codec())


def org_service() -> OrgService:
    from umapi.orgs.service import OrgService

    return OrgService(org_repository(), cursor_codec(), client_repository())


@cache
def user_repository() -> UserRepository:
    from umapi.users.admin_roster import AdminRoster
    from umapi.users.repository import UserRepository

    table = get_settings().table_name
    return UserRepository(dynamodb_client(), table, role_repository(), AdminRoster(dynamodb_client(), table))


def audit_log_reader() -> AuditLogReader:
    from umapi.audit_log import AuditLogReader

    return AuditLogReader(dynamodb_client(), get_settings().table_name, cursor_codec())


def user_service() -> UserService:
    from umapi.email import EmailSender
    from umapi.users.service import UserService

    return UserService(
        user_repository(),
        role_catalog(),
        cursor_codec(),
        EmailSender(ses_client(), get_settings().mail_from),
        audit_log_reader(),
    )


@cache
def second_factors() -> SecondFactors:
    from umapi.mfa.proofs import SecondFactors
    from umapi.mfa.store import MfaStore
    from umapi.throttle import AttemptThrottle

    table = get_settings().table_name
    return SecondFactors(MfaStore(dynamodb_client(), table), sealer(), AttemptThrottle(dynamodb_client(), table))


def mfa_service() -> MfaService:
    from umapi.email import EmailSender
    from umapi.mfa.service import MfaService

    return MfaService(
        user_repository(),
        role_catalog(),
        cursor_codec(),
        EmailSender(ses_client(), get_settings().mail_from),
        factors=second_factors(),
    )


@cache
def token_service() -> TokenService:
    from umapi.auth.introspection import Introspector
    from umapi.auth.oauth import TokenService

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
        Introspector(public_keys(), session_store(), user_repository(), client_repository()),
        settings.refresh_reuse_grace_seconds,
    )


@cache
def user_info() -> UserInfo:
    from umapi.auth.oidc import UserInfo

    return UserInfo(user_repository())


@cache
def session_store() -> SessionStore:
    from umapi.auth.sessions import SessionStore

    return SessionStore(dynamodb_client(), get_settings().table_name)


@cache
def sign_in_records() -> SignInRecords:
    from umapi.users.sign_ins import SignInRecords

    return SignInRecords(dynamodb_client(), get_settings().table_name)


def login_service() -> LoginService:
    from umapi.auth.login import LoginService
    from umapi.auth.second_step import SecondStep

    settings = get_settings()
    return LoginService(
        client_repository(),
        sign_in_records(),
        session_store(),
        dynamodb_client(),
        settings.table_name,
        role_catalog(),
        sealer(),
        browser_sessions(),
        _enforced_connection,
        SecondStep(dynamodb_client(), settings.table_name, second_factors()),
    )


def _enforced_connection(org_id: str, email: str) -> str | None:
    """The name of the SSO connection of ``org_id`` that forbids passwords for ``email``, if any."""
    connection = federation().connection_for(org_id, email)
    return connection.name if connection is not None and connection.enforce else None


@cache
def federation() -> Federation:
    from umapi.sso.attempts import Attempts
    from umapi.sso.federation import Federation
    from umapi.sso.repository import SsoRepository
    from umapi.sso.secrets import ConnectionSecrets

    settings = get_settings()
    loopback = settings.webhook_allow_loopback

    def check_id_token(id_token: str, connection: SsoConnection, nonce: str) -> dict[str, Any]:
        from umapi.sso.id_tokens import verify

        return verify(id_token, connection, nonce, key_sets())

    return Federation(
        SsoRepository(dynamodb_client(), settings.table_name),
        Attempts(dynamodb_client(), settings.table_name),
        ConnectionSecrets(secretsmanager_client(), settings.sso_secret_prefix),
        check_id_token,
        loopback,
    )


@cache
def key_sets() -> KeySets:
    """Identity providers' public keys, cached for the container's life."""
    from umapi.sso.id_tokens import KeySets

    return KeySets(get_settings().webhook_allow_loopback)


def federated_sign_in() -> FederatedSignIn:
    from umapi.auth.federated import FederatedSignIn

    settings = get_settings()
    return FederatedSignIn(
        login_service(), user_repository(), sign_in_records(), role_catalog(), dynamodb_client(), settings.table_name
    )


@cache
def browser_sessions() -> BrowserSessions:
    from umapi.auth.browser_sessions import BrowserSessions

    return BrowserSessions(dynamodb_client(), get_settings().table_name)


@cache
def logout_service() -> LogoutService:
    from umapi.auth.logout import LogoutService
    from umapi.auth.tokens import verify_id_token_hint

    keys = public_keys()
    return LogoutService(
        lambda hint, issuer: verify_id_token_hint(hint, keys, issuer),
        client_repository(),
        session_store(),
        browser_sessions(),
    )


@cache
def sso_service() -> SsoService:
    from umapi.sso.provider import discover
    from umapi.sso.repository import SsoRepository
    from umapi.sso.secrets import ConnectionSecrets
    from umapi.sso.service import SsoService

    settings = get_settings()
    loopback = settings.webhook_allow_loopback
    return SsoService(
        SsoRepository(dynamodb_client(), settings.table_name),
        ConnectionSecrets(secretsmanager_client(), settings.sso_secret_prefix),
        role_catalog(),
        cursor_codec(),
        lambda issuer: discover(issuer, allow_loopback=loopback),
    )


@cache
def webhook_repository() -> WebhookRepository:
    from umapi.webhooks.subscriptions import WebhookRepository

    return WebhookRepository(dynamodb_client(), get_settings().table_name, sealer())


@cache
def event_repository() -> EventRepository:
    from umapi.webhooks.event_store import EventRepository

    return EventRepository(dynamodb_client(), get_settings().table_name)


@cache
def delivery_repository() -> DeliveryRepository:
    from umapi.webhooks.deliveries import DeliveryRepository

    return DeliveryRepository(dynamodb_client(), get_settings().table_name, sealer(), event_repository())


def delivery_queue() -> DeliveryQueue:
    from umapi.webhooks.queue import DeliveryQueue

    settings = get_settings()
    return DeliveryQueue(sqs_client(), settings.webhook_queue_url, settings.webhook_dlq_url)


def webhook_service() -> WebhookService:
    from umapi.webhooks.service import WebhookService

    return WebhookService(
        webhook_repository(),
        event_repository(),
        delivery_repository(),
        cursor_codec(),
        delivery_queue(),
        allow_loopback=get_settings().webhook_allow_loopback,
    )


@cache
def fan_out() -> FanOut:
    from umapi.webhooks.fanout import FanOut

    return FanOut(webhook_repository(), event_repository(), delivery_repository(), delivery_queue())


@cache
def deliverer() -> Deliverer:
    from umapi.webhooks.delivery import Deliverer

    settings = get_settings()
    return Deliverer(
        delivery_repository(),
        event_repository(),
        delivery_queue(),
        settings.webhook_retry_delays,
        allow_loopback=settings.webhook_allow_loopback,
        timeout=settings.webhook_timeout_seconds,
    )


def job_repository() -> JobRepository:
    from umapi.jobs.repository import JobRepository

    return JobRepository(dynamodb_client(), get_settings().table_name)


def chunk_repository() -> ChunkRepository:
    from umapi.jobs.chunks import ChunkRepository

    return ChunkRepository(dynamodb_client(), get_settings().table_name)


def job_queue() -> JobQueue:
    from umapi.jobs.messages import JobQueue

    return JobQueue(sqs_client(), get_settings().job_queue_url)


def job_service() -> JobService:
    from umapi.jobs.service import JobService

    settings = get_settings()
    return JobService(
        job_repository(),
        chunk_repository(),
        cursor_codec(),
        s3_client(),
        settings.jobs_bucket,
        job_queue(),
        sealer(),
        allow_loopback=settings.webhook_allow_loopback,
    )


def _job_permissions(job: Job) -> frozenset[str]:
    from umapi.jobs.rows import narrowed

    return narrowed(job, client_repository(), user_repository(), role_catalog(), session_store())


def job_worker() -> JobWorker:
    from umapi.jobs.rows import RowRunner
    from umapi.jobs.service import job_view
    from umapi.jobs.worker import JobWorker

    settings = get_settings()
    runner = RowRunner(chunk_repository(), dynamodb_client(), user_service(), assignment_service())
    return JobWorker(
        job_repository(),
        chunk_repository(),
        s3_client(),
        settings.jobs_bucket,
        job_queue(),
        runner,
        job_view,
        _job_permissions,
    )


def exporter() -> Exporter:
    from umapi.jobs.export import Exporter
    from umapi.jobs.service import job_view

    settings = get_settings()
    return Exporter(
        job_repository(),
        s3_client(),
        settings.jobs_bucket,
        job_queue(),
        user_service(),
        job_view,
        _job_permissions,
        job_worker().queue_callback,
    )


def callback_sender() -> CallbackSender:
    from umapi.jobs.service import job_view, open_secret
    from umapi.jobs.worker import CallbackSender

    settings = get_settings()
    return CallbackSender(
        job_repository(),
        job_queue(),
        lambda job: open_secret(sealer(), job),
        job_view,
        settings.webhook_retry_delays,
        allow_loopback=settings.webhook_allow_loopback,
        timeout=settings.webhook_timeout_seconds,
    )


def reset() -> None:
    """Forget every cached service of this module (tests, after the environment changed): each
    ``@cache`` factory here, so a new one cannot be forgotten."""
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == __name__:
            value.cache_clear()
