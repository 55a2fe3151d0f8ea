"""The authorization endpoint (RFC 6749 §4.1, RFC 7636): validate the request, check credentials
(throttled per account and per IP), and issue a single-use code bound to the client, the
redirect URI, the PKCE challenge, the scope and the user's session version.

The sign-in form is bound to the browser that opened it: ``GET`` sets a random value in a
``SameSite=Lax`` cookie and puts a short-lived token in the form that MACs that value with the
client and an expiry; ``POST`` accepts only a matching pair (no cross-site form posts).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlencode

from umapi import db
from umapi.access.permissions import OIDC_SCOPES, SCOPES, format_scope, parse_scope
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.auth.parameters import PARAMETER_LIMITS
from umapi.auth.scopes import user_token_scope
from umapi.auth.sessions import AuthorizationCode, SessionStore, new_family_id, new_secret_token
from umapi.clients.entities import Client
from umapi.clients.redirects import is_valid_redirect_uri, redirect_matches
from umapi.clients.repository import ClientRepository
from umapi.events import Event
from umapi.roles.catalog import RoleCatalog
from umapi.table_keys import login_failures_ip_pk, login_failures_pk
from umapi.text import well_formed
from umapi.time import utc_now_iso
from umapi.users.holdings import user_permissions
from umapi.users.passwords import verify_password
from umapi.users.sign_ins import SignInRecords

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from umapi.sealing import Sealer

THROTTLE_WINDOW_SECONDS = 900
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 50
FORM_SECONDS = 600  # how long a sign-in form may be submitted after it was shown
FORM_COOKIE = "umapi_signin"
_FORM_PURPOSE = "signin-form"
_IN_FLIGHT_WAIT_SECONDS = 3.0
# The sign-in's credentials: longer than any account's (emails ≤ 254, passwords ≤ 128) is refused.
CLIENT_ID_CHARS = PARAMETER_LIMITS["client_id"]
EMAIL_CHARS = 320
PASSWORD_CHARS = 1024
NONCE_CHARS = 512
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class AuthorizeError(Exception):
    """A problem shown on the error page, never redirected: the client or redirect URI is not trusted."""


class RedirectError(Exception):
    """A problem reported to the client by redirecting with ``error=`` (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class AuthorizeRequest(NamedTuple):
    client: Client
    redirect_uri: str
    scope: str | None
    state: str | None
    code_challenge: str | None
    nonce: str | None = None  # OpenID Connect: echoed in the ID token

    @property
    def api_scope(self) -> frozenset[str] | None:
        """The permissions the request asks for (``None``: it names no scope, so all allowed)."""
        return None if self.scope is None else parse_scope(self.scope) - frozenset(OIDC_SCOPES)

    @property
    def oidc_scope(self) -> frozenset[str]:
        return parse_scope(self.scope) & frozenset(OIDC_SCOPES)

    def redirect(self, **params: str | None) -> str:
        query = urlencode({k: v for k, v in {**params, "state": self.state}.items() if v is not None})
        return f"{self.redirect_uri}{'&' if '?' in self.redirect_uri else '?'}{query}"


class LoginRefusedError(Exception):
    """Credentials refused; ``message`` is safe to show."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FormBinding(NamedTuple):
    cookie: str  # the random value for the browser's cookie
    token: str  # the form's hidden login_token


class LoginThrottle:
    """Failed sign-ins per account (5) and per source address (50) in 15-minute buckets.

    Each attempt takes a slot *before* the password is checked (one conditional ``ADD`` per
    bucket), so concurrent guesses cannot get more checks than the limit: ``attempts`` counts
    failures and checks in flight; a correct password gives its slot back. An attempt that
    finds the slots taken only by checks in flight waits for them, so correct concurrent
    sign-ins all succeed.
    """

    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def keys(self, org_id: str, email_key: str, ip: str | None) -> list[tuple[dict[str, dict[str, str]], int]]:
        bucket = str(int(time.time()) // THROTTLE_WINDOW_SECONDS)
        return [
            ({"PK": {"S": login_failures_pk(org_id, email_key)}, "SK": {"S": bucket}}, MAX_FAILURES_PER_ACCOUNT),
            ({"PK": {"S": login_failures_ip_pk(ip)}, "SK": {"S": bucket}}, MAX_FAILURES_PER_IP),
        ]

    def reserve(self, keys: list[tuple[dict[str, dict[str, str]], int]]) -> None:
        """Take a slot in every bucket, or ``LoginRefusedError`` 429 (taking none)."""
        taken: list[dict[str, dict[str, str]]] = []
        deadline = time.monotonic() + _IN_FLIGHT_WAIT_SECONDS
        for key, limit in keys:
            while True:
                reserved, old = db.write_if(
                    self._dynamodb.update_item,
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="ADD attempts :one SET #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(attempts) OR attempts < :limit",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":limit": {"N": str(limit)},
                        ":ttl": {"N": str(int(time.time()) + 2 * THROTTLE_WINDOW_SECONDS)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                if reserved:
                    taken.append(key)
                    break
                if int(old.get("failures", 0)) >= limit or time.monotonic() > deadline:
                    self.release(taken)
                    raise LoginRefusedError("Too many failed sign-ins. Wait a few minutes and try again.", 429)
                time.sleep(0.05 + secrets.randbelow(100) / 1000)  # slots held by checks in flight

    def failed(self, keys: list[tuple[dict[str, dict[str, str]], int]]) -> None:
        """The check failed: its slot stays taken, as a failure."""
        for key, _ in keys:
            with db.translate_errors():
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="ADD failures :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )

    def release_items(self, keys: list[dict[str, dict[str, str]]]) -> list[db.Guarded]:
        """Transaction items that give the slots back (a correct password)."""
        return [
            (
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key,
                        "UpdateExpression": "ADD attempts :minus",
                        "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                    }
                },
                None,
            )
            for key in keys
        ]

    def release(self, keys: list[dict[str, dict[str, str]]]) -> None:
        for item, _ in self.release_items(keys):
            with db.translate_errors():
                self._dynamodb.update_item(**item["Update"])


class LoginService:
    def __init__(
        self,
        clients: ClientRepository,
        users: SignInRecords,
        sessions: SessionStore,
        dynamodb: DynamoDBClient,
        table: str,
        roles: RoleCatalog,
        sealer: Sealer,
    ) -> None:
        self._clients = clients
        self._users = users
        self._sessions = sessions
        self._dynamodb = dynamodb
        self._table = table
        self._roles = roles
        self._sealer = sealer
        self._throttle = LoginThrottle(dynamodb, table)

    # ------------------------------------------------------------------ the form's binding
    def bind_form(self, client_id: str) -> FormBinding:
        """A new cookie value and the form token that goes with it (valid ``FORM_SECONDS``)."""
        nonce = secrets.token_urlsafe(18)
        expires = str(int(time.time()) + FORM_SECONDS)
        return FormBinding(nonce, f"{expires}.{self._sealer.mac(_FORM_PURPOSE, f'{expires}.{nonce}.{client_id}')}")

    def form_is_bound(self, client_id: str, cookie: str | None, token: str | None) -> bool:
        """The form was shown to this browser, for this client, less than ``FORM_SECONDS`` ago."""
        if not cookie or not token:
            return False
        expires, _, tag = token.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return self._sealer.verify(_FORM_PURPOSE, f"{expires}.{cookie}.{client_id}", tag)

    # ------------------------------------------------------------------ the request
    def validate(self, params: dict[str, str]) -> AuthorizeRequest:
        client_id = params.get("client_id", "")
        client = self._clients.get(client_id) if client_id and well_formed(client_id, CLIENT_ID_CHARS) else None
        if client is None:
            raise AuthorizeError("Unknown client_id: this application is not registered.")
        redirect_uri = params.get("redirect_uri", "")
        if not is_valid_redirect_uri(redirect_uri) or not any(
            redirect_matches(registered, redirect_uri) for registered in client.redirect_uris
        ):
            raise AuthorizeError("redirect_uri does not exactly match one registered for this application.")
        request = AuthorizeRequest(
            client,
            redirect_uri,
            params.get("scope"),
            params.get("state"),
            params.get("code_challenge") or None,
            params.get("nonce") or None,
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
        if request.scope is not None:
            wanted = request.api_scope or frozenset()
            if not parse_scope(request.scope) or not wanted <= set(SCOPES):
                raise RedirectError("invalid_scope", "scope names unknown permissions.")
            if not wanted <= set(client.scopes):
                raise RedirectError("invalid_scope", "scope goes beyond the scopes registered for this application.")
        if request.nonce is not None and not well_formed(request.nonce, NONCE_CHARS):
            raise RedirectError("invalid_request", f"nonce must be text of at most {NONCE_CHARS} characters.")
        return request

    def login(self, request: AuthorizeRequest, email: str, password: str, meta: RequestMeta) -> str:
        """The redirect URL carrying a new code (or an ``invalid_scope`` error), or ``LoginRefusedError``."""
        org_id = request.client.org_id
        if not well_formed(email, EMAIL_CHARS) or not well_formed(password, PASSWORD_CHARS):
            # No account has such an email or password: refused before it reaches a key or a hash.
            raise LoginRefusedError("The email or password is not correct.", 401)
        email_key = email.strip().lower()
        buckets = self._throttle.keys(org_id, email_key, meta.ip)
        slots = [key for key, _ in buckets]
        self._throttle.reserve(buckets)
        checked = False
        try:
            user = self._users.find_by_email(org_id, email_key)
            correct = verify_password(user.password_hash if user else None, password) and user is not None
            checked = True
        finally:
            if not checked:  # the check never ran to its end: its slot is not a failure
                self._throttle.release(slots)
        if not correct or user is None:
            self._throttle.failed(buckets)
            raise LoginRefusedError("The email or password is not correct.", 401)
        if user.status != "active":
            self._throttle.release(slots)
            raise LoginRefusedError("This account cannot sign in. Contact your administrator.", 403)
        allowed = user_token_scope(user_permissions(user, self._roles, utc_now_iso()), request.client)
        wanted = request.api_scope
        if wanted is not None and not wanted <= allowed:
            self._throttle.release(slots)
            beyond = " ".join(sorted(wanted - allowed))
            return request.redirect(error="invalid_scope", error_description=f"You do not hold: {beyond}.")
        code = new_secret_token()
        grant = AuthorizationCode(
            client_id=request.client.id,
            org_id=org_id,
            user_id=user.id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=format_scope((allowed if wanted is None else wanted) | request.oidc_scope),
            family_id=new_family_id(),
            session_version=user.session_version,
            auth_time=int(time.time()),
            amr=("pwd",),
            nonce=request.nonce,
        )
        now = utc_now_iso()
        actor = Actor(type="user", id=user.id)
        audit = AuditEntry.new(org_id, actor, "user.login", "user", user.id, meta, {"client_id": request.client.id})
        event = Event.new(
            org_id, "user.login", {"user_id": user.id, "client_id": request.client.id, "at": now}, meta, user.id
        )
        changed = LoginRefusedError("This account changed while signing in. Try again.", 409)
        extra = [(self._sessions.code_put(code, grant), None), *self._throttle.release_items(slots)]
        self._users.record_login(user, now, audit, event, extra, changed)
        return request.redirect(code=code)
