"""The authorization endpoint (RFC 6749 §4.1, RFC 7636): validate the request, check credentials
(throttled per account and per IP), and issue a single-use code bound to the client, the
redirect URI, the PKCE challenge and the scope."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from umapi import db
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.auth.permissions import PERMISSIONS, SCOPES, format_scope, parse_scope
from umapi.auth.sessions import AuthorizationCode, SessionStore, new_family_id, new_secret_token
from umapi.clients.models import Client
from umapi.clients.repository import ClientRepository
from umapi.events import Event
from umapi.keys import email_claim_sk, org_pk
from umapi.time import utc_now_iso
from umapi.users.models import User
from umapi.users.passwords import verify_password
from umapi.users.repository import UserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROTTLE_WINDOW_SECONDS = 900
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 50
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class AuthorizeError(Exception):
    """A problem shown on the error page, never redirected: the client or redirect URI is not trusted."""


class RedirectError(Exception):
    """A problem reported to the client by redirecting with ``error=`` (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    scope: str | None
    state: str | None
    code_challenge: str | None

    def redirect(self, **params: str | None) -> str:
        query = urlencode({k: v for k, v in {**params, "state": self.state}.items() if v is not None})
        return f"{self.redirect_uri}{'&' if '?' in self.redirect_uri else '?'}{query}"


class LoginRefusedError(Exception):
    """Credentials refused; ``message`` is safe to show."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LoginService:
    def __init__(
        self,
        clients: ClientRepository,
        users: UserRepository,
        sessions: SessionStore,
        dynamodb: DynamoDBClient,
        table: str,
    ) -> None:
        self._clients = clients
        self._users = users
        self._sessions = sessions
        self._dynamodb = dynamodb
        self._table = table

    def validate(self, params: dict[str, str]) -> AuthorizeRequest:
        client = self._clients.get(params.get("client_id", "")) if params.get("client_id") else None
        if client is None:
            raise AuthorizeError("Unknown client_id: this application is not registered.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise AuthorizeError("redirect_uri does not exactly match one registered for this application.")
        request = AuthorizeRequest(
            client, redirect_uri, params.get("scope"), params.get("state"), params.get("code_challenge") or None
        )
        if params.get("response_type") != "code":
            raise RedirectError("unsupported_response_type", "Only response_type=code is supported.")
        if "authorization_code" not in client.grant_types:
            raise RedirectError("unauthorized_client", "This client may not use the authorization code grant.")
        method = params.get("code_challenge_method")
        if request.code_challenge is None:
            if client.public:
                raise RedirectError("invalid_request", "PKCE is required: send code_challenge with method S256.")
        elif method != "S256" or not _CHALLENGE.match(request.code_challenge):
            raise RedirectError("invalid_request", "code_challenge must be an S256 challenge (43 characters).")
        if request.scope is not None and not parse_scope(request.scope) <= set(SCOPES):
            raise RedirectError("invalid_scope", "scope names unknown permissions.")
        return request

    def login(self, request: AuthorizeRequest, email: str, password: str, meta: RequestMeta) -> str:
        """The redirect URL carrying a new code, or ``LoginRefusedError``."""
        org_id = request.client.org_id
        email_key = email.strip().lower()
        throttle_keys = [f"LOGINFAIL#{org_pk(org_id)}#{email_key}", f"LOGINFAIL#IP#{meta.ip or 'unknown'}"]
        if self._throttled(throttle_keys):
            raise LoginRefusedError("Too many failed sign-ins. Wait a few minutes and try again.", 429)
        user = self._find(org_id, email_key)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            self._count_failure(throttle_keys)
            raise LoginRefusedError("The email or password is not correct.", 401)
        if user.status != "active":
            raise LoginRefusedError("This account cannot sign in. Contact your administrator.", 403)
        code = new_secret_token()
        grant = AuthorizationCode(
            client_id=request.client.id,
            org_id=org_id,
            user_id=user.id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=format_scope(parse_scope(request.scope))
            if request.scope is not None
            else format_scope(set(PERMISSIONS)),
            family_id=new_family_id(),
        )
        now = utc_now_iso()
        logged_in = replace(user, last_login=now, version=user.version + 1)
        actor = Actor(type="user", id=user.id)
        audit = AuditEntry(org_id, actor, "user.login", "user", user.id, meta, {"client_id": request.client.id})
        event = Event(
            org_id, "user.login", {"user_id": user.id, "client_id": request.client.id, "at": now}, meta, user.id
        )
        self._users.save(user, logged_in, audit, [event], [(self._sessions.code_put(code, grant), None)])
        return request.redirect(code=code)

    def _find(self, org_id: str, email_key: str) -> User | None:
        with db.translate_errors():
            claim = self._dynamodb.get_item(
                TableName=self._table,
                Key={"PK": {"S": org_pk(org_id)}, "SK": {"S": email_claim_sk(email_key)}},
            ).get("Item")
        return self._users.get(org_id, claim["user_id"]["S"], consistent=True) if claim else None

    def _bucket(self) -> str:
        return str(int(time.time()) // THROTTLE_WINDOW_SECONDS)

    def _throttled(self, keys: list[str]) -> bool:
        with db.translate_errors():
            answer = self._dynamodb.batch_get_item(
                RequestItems={self._table: {"Keys": [{"PK": {"S": key}, "SK": {"S": self._bucket()}} for key in keys]}}
            )
        limits = {keys[0]: MAX_FAILURES_PER_ACCOUNT, keys[1]: MAX_FAILURES_PER_IP}
        return any(
            int(item["failures"]["N"]) >= limits[item["PK"]["S"]] for item in answer["Responses"].get(self._table, [])
        )

    def _count_failure(self, keys: list[str]) -> None:
        expires = str(int(time.time()) + 2 * THROTTLE_WINDOW_SECONDS)
        for key in keys:
            with db.translate_errors():
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key={"PK": {"S": key}, "SK": {"S": self._bucket()}},
                    UpdateExpression="ADD failures :one SET #ttl = :ttl",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": expires}},
                )
