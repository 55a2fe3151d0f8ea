"""The authorization endpoint (RFC 6749 §4.1, RFC 7636): validate the request, check credentials
(throttled per account and per IP), and issue a single-use code bound to the client, the
redirect URI, the PKCE challenge, the scope and the user's session version.

The sign-in form is bound to the browser that opened it: ``GET`` sets a random value in a
``SameSite=Lax`` cookie and puts a short-lived token in the form that MACs that value with the
client and an expiry; ``POST`` accepts only a matching pair (no cross-site form posts).

A password sign-in also starts a browser session (``umapi.auth.browser_sessions``): the next
authorization request of the same organization from that browser gets its code without the
form, unless it asks for a fresh sign-in (OpenID Connect's ``prompt=login`` or ``max_age``).
``prompt=none`` never shows the form: no usable session is ``error=login_required``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlencode

from umapi import db
from umapi.access.permissions import OIDC_SCOPES, SCOPES, format_scope, parse_scope
from umapi.audit import Actor, AuditEntry, RequestMeta
from umapi.auth.browser_sessions import SECRET_CHARS, SESSION_SECONDS, BrowserSession, BrowserSessions
from umapi.auth.parameters import PARAMETER_LIMITS
from umapi.auth.scopes import user_token_scope
from umapi.auth.second_step import Checked, SecondStep, SecondStepPage
from umapi.auth.sessions import AuthorizationCode, SessionStore, new_family_id, new_secret_token
from umapi.clients.entities import Client
from umapi.clients.redirects import is_valid_redirect_uri, redirect_matches
from umapi.clients.repository import ClientRepository
from umapi.errors import RateLimitedError, ValidationError
from umapi.events import Event
from umapi.outbox import audit_put
from umapi.roles.catalog import RoleCatalog
from umapi.table_keys import login_failures_ip_pk, login_failures_pk
from umapi.text import well_formed
from umapi.throttle import AttemptThrottle, TooManyAttemptsError
from umapi.time import utc_now_iso
from umapi.users.entities import User
from umapi.users.holdings import user_permissions
from umapi.users.passwords import verify_password
from umapi.users.sign_ins import MfaChange, SignInRecords

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from umapi.sealing import Sealer

MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 50
FORM_SECONDS = 600  # how long a sign-in form may be submitted after it was shown
FORM_COOKIE = "umapi_signin"
_FORM_PURPOSE = "signin-form"
# The sign-in's credentials: longer than any account's (emails ≤ 254, passwords ≤ 128) is refused.
CLIENT_ID_CHARS = PARAMETER_LIMITS["client_id"]
EMAIL_CHARS = 320
PASSWORD_CHARS = 1024
NONCE_CHARS = 512
PROMPTS = frozenset({"none", "login", "consent", "select_account"})  # OIDC Core §3.1.2.1
_MAX_AGE = re.compile(r"^[0-9]{1,10}$")
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
    prompt: frozenset[str] = frozenset()  # OpenID Connect: "none" or "login" change the page
    max_age: int | None = None  # OpenID Connect: seconds a sign-in may be old to be reused
    params: dict[str, str] = {}  # noqa: RUF012 - the request's parameters as sent (never changed)

    @property
    def wants_fresh_sign_in(self) -> bool:
        return "login" in self.prompt or self.max_age == 0

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


class SignedIn(NamedTuple):
    """Where the browser goes next, and the secret of the browser session a password sign-in
    started (``None``: no new session)."""

    location: str
    session_secret: str | None = None
    recovery_codes: list[str] | None = None  # a factor enrolled on the second page: shown once first


class FormBinding(NamedTuple):
    cookie: str  # the random value for the browser's cookie
    token: str  # the form's hidden login_token


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
        browser: BrowserSessions,
        enforced: Callable[[str, str], str | None] | None = None,
        second: SecondStep | None = None,
    ) -> None:
        self._browser = browser
        self._second = second
        # The name of the SSO connection that forbids passwords for an email, if one does.
        self._enforced = enforced
        self._clients = clients
        self._users = users
        self._sessions = sessions
        self._dynamodb = dynamodb
        self._table = table
        self._roles = roles
        self._sealer = sealer
        self._throttle = AttemptThrottle(dynamodb, table)

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
    def validate(self, params: dict[str, str], issuer: str = "") -> AuthorizeRequest:
        client_id = params.get("client_id", "")
        client = self._clients.get(client_id) if client_id and well_formed(client_id, CLIENT_ID_CHARS) else None
        if client is None:
            raise AuthorizeError("Unknown client_id: this application is not registered.")
        redirect_uri = params.get("redirect_uri", "")
        if not is_valid_redirect_uri(redirect_uri) or not any(
            redirect_matches(registered, redirect_uri) for registered in client.redirect_uris_at(issuer)
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
        return request._replace(
            prompt=_prompt(params.get("prompt")), max_age=_max_age(params.get("max_age")), params=dict(params)
        )

    # ------------------------------------------------------------------ the browser session
    def resume(self, request: AuthorizeRequest, secret: str | None) -> str | None:
        """Where the browser goes without the form: a code, when its session is usable for this
        request; ``error=login_required`` when none is and the request says ``prompt=none``;
        ``None``: show the form."""
        resumed = None if request.wants_fresh_sign_in else self._usable_session(request, secret)
        if resumed is None:
            if "none" in request.prompt:
                return request.redirect(error="login_required", error_description="The user must sign in.")
            return None
        session, user = resumed
        allowed, wanted, refused = self._scope(request, user)
        if refused:
            return refused
        code, grant = self._code(request, user, allowed, wanted, session.auth_time, session.amr)
        db.transact(self._dynamodb, [(self._sessions.code_put(code, grant), None)])
        return request.redirect(code=code)

    def _usable_session(self, request: AuthorizeRequest, secret: str | None) -> tuple[BrowserSession, User] | None:
        if not secret or not well_formed(secret, SECRET_CHARS):
            return None
        session = self._browser.get(secret, request.client.org_id)
        if session is None:
            return None
        if request.max_age is not None and time.time() - session.auth_time > request.max_age:
            return None
        user = self._users.get(session.org_id, session.user_id)
        if user is None or user.status != "active" or user.session_version != session.session_version:
            return None  # the user's sessions ended since
        if user.mfa_enabled and "mfa" not in session.amr:
            return None  # MFA was required since this session began: sign in with a second factor
        return session, user

    def end_session(self, secret: str | None) -> None:
        if secret and well_formed(secret, SECRET_CHARS):
            self._browser.end(secret)

    def _scope(self, request: AuthorizeRequest, user: User) -> tuple[frozenset[str], frozenset[str] | None, str | None]:
        """What the user may grant the client, what the request asks, and the ``invalid_scope``
        redirect if it asks for more than the user holds."""
        allowed = user_token_scope(user_permissions(user, self._roles, utc_now_iso()), request.client)
        wanted = request.api_scope
        if wanted is not None and not wanted <= allowed:
            beyond = " ".join(sorted(wanted - allowed))
            return (
                allowed,
                wanted,
                request.redirect(error="invalid_scope", error_description=f"You do not hold: {beyond}."),
            )
        return allowed, wanted, None

    def _code(
        self,
        request: AuthorizeRequest,
        user: User,
        allowed: frozenset[str],
        wanted: frozenset[str] | None,
        auth_time: int,
        amr: tuple[str, ...],
        idp: str | None = None,
    ) -> tuple[str, AuthorizationCode]:
        grant = AuthorizationCode(
            client_id=request.client.id,
            org_id=request.client.org_id,
            user_id=user.id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=format_scope((allowed if wanted is None else wanted) | request.oidc_scope),
            family_id=new_family_id(),
            session_version=user.session_version,
            auth_time=auth_time,
            amr=amr,
            nonce=request.nonce,
            idp=idp,
        )
        return new_secret_token(), grant

    def login(
        self, request: AuthorizeRequest, email: str, password: str, meta: RequestMeta, issuer: str = ""
    ) -> SignedIn | SecondStepPage:
        """The redirect URL carrying a new code (or an ``invalid_scope`` error) and the new
        browser session; the second page when the user has ``mfa_enabled``; or ``LoginRefusedError``."""
        org_id = request.client.org_id
        if not well_formed(email, EMAIL_CHARS) or not well_formed(password, PASSWORD_CHARS):
            # No account has such an email or password: refused before it reaches a key or a hash.
            raise LoginRefusedError("The email or password is not correct.", 401)
        email_key = email.strip().lower()
        if self._enforced is not None and (connection := self._enforced(org_id, email_key)):
            raise LoginRefusedError(
                f"Your organization signs in through {connection}: sign in without a password.", 403
            )
        buckets = self._throttle.keys(
            (login_failures_pk(org_id, email_key), MAX_FAILURES_PER_ACCOUNT),
            (login_failures_ip_pk(meta.ip), MAX_FAILURES_PER_IP),
        )
        slots = [key for key, _ in buckets]
        try:
            self._throttle.reserve(buckets)
        except TooManyAttemptsError:
            raise LoginRefusedError("Too many failed sign-ins. Wait a few minutes and try again.", 429) from None
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
        *_, refused = self._scope(request, user)
        if refused:
            self._throttle.release(slots)
            return SignedIn(refused)
        if user.mfa_enabled:  # the password passed: the second page, and no code yet
            self._throttle.release(slots)
            return self._second_step().start(user, request.params, int(time.time()), ("pwd",), None, issuer)
        release = self._throttle.release_items(slots)
        return self._signed_in(request, user, int(time.time()), ("pwd",), meta, extra=release)

    def federated(
        self,
        request: AuthorizeRequest,
        user: User,
        amr: tuple[str, ...],
        connection_id: str,
        meta: RequestMeta,
        issuer: str = "",
    ) -> SignedIn | SecondStepPage:
        """``user``, vouched for by the SSO connection, signs in to the client of ``request``
        as a password sign-in does (docs/api.md §12): the code, a browser session, ``last_login``,
        and the ``user.login`` audit entry and event, which name the connection. A user with
        ``mfa_enabled`` whose identity provider did not assert MFA (``amr``) gets the second page."""
        *_, refused = self._scope(request, user)
        if refused:
            return SignedIn(refused)
        if user.mfa_enabled and "mfa" not in amr:
            return self._second_step().start(user, request.params, int(time.time()), amr, connection_id, issuer)
        return self._signed_in(request, user, int(time.time()), amr, meta, idp=connection_id)

    def second_factor(
        self, secret: str | None, otp: str, credential: str, issuer: str, meta: RequestMeta
    ) -> tuple[AuthorizeRequest, SignedIn | SecondStepPage]:
        """The second page's answer: the code's redirect (and the browser session), the page
        again with what was wrong, or ``LoginRefusedError`` when the attempt is gone."""
        second = self._second_step()
        attempt = second.attempt(secret)
        if attempt is None or secret is None:
            raise LoginRefusedError(
                "This sign-in expired (the second step waits 5 minutes). Please sign in again.", 400
            )
        request = self.validate(attempt.params, issuer)
        user = self._users.get(attempt.org_id, attempt.user_id)
        if user is None or user.status != "active" or user.session_version != attempt.session_version:
            raise LoginRefusedError("This account changed while signing in. Please sign in again.", 409)
        options = attempt.options  # read with the attempt: no second read
        factors = second.factors.store.factor_set(user.org_id, user.id)
        try:
            with second.factors.attempt(user.org_id, user.id):
                checked = second.check(attempt, user, factors, otp, credential, issuer)
                *_, refused = self._scope(request, user)
                if refused:
                    return request, SignedIn(refused)
                extra = [second.end_item(secret), *checked.items]
                signed_in = self._signed_in(
                    request, user, attempt.auth_time, attempt.amr + checked.amr, meta, attempt.idp, extra, checked
                )
        except RateLimitedError as problem:
            return request, SecondStepPage(second.view(attempt, user, factors, problem.message, options), status=429)
        except ValidationError:
            message = (
                "This passkey was not accepted. Try it again, or use a code."
                if credential
                else "That is not a current code of yours, nor an unused recovery code."
            )
            return request, SecondStepPage(second.view(attempt, user, factors, message, options), status=400)
        return request, signed_in._replace(recovery_codes=checked.recovery_codes)

    def _second_step(self) -> SecondStep:
        if self._second is None:
            raise LoginRefusedError("Second factors are not available here.", 503)
        return self._second

    def _signed_in(
        self,
        request: AuthorizeRequest,
        user: User,
        auth_time: int,
        amr: tuple[str, ...],
        meta: RequestMeta,
        idp: str | None = None,
        extra: list[db.Guarded] | None = None,
        checked: Checked | None = None,
    ) -> SignedIn:
        """The code and a new browser session, with ``last_login``, the ``user.login`` audit
        entry and event (naming the SSO connection, if any) and ``extra``, in one transaction."""
        allowed, wanted, _ = self._scope(request, user)
        code, grant = self._code(request, user, allowed, wanted, auth_time, amr, idp)
        secret = new_secret_token()
        browser = BrowserSession(
            user.org_id, user.id, auth_time, amr, user.session_version, int(time.time()) + SESSION_SECONDS
        )
        now = utc_now_iso()
        details = {"client_id": request.client.id} | ({"sso_connection": idp} if idp else {})
        if checked is not None:
            details["second_factor"] = " ".join(checked.amr)
        audit = AuditEntry.new(
            user.org_id, Actor(type="user", id=user.id), "user.login", "user", user.id, meta, details
        )
        event = Event.new(user.org_id, "user.login", {"user_id": user.id, **details, "at": now}, meta, user.id)
        changed = LoginRefusedError("This account changed while signing in. Try again.", 409)
        items: list[db.Guarded] = [
            (self._sessions.code_put(code, grant), None),
            (self._browser.put_item(secret, browser), None),
            *(extra or []),
        ]
        mfa = MfaChange(checked.used_factor, checked.added_factor) if checked is not None else None
        if checked is not None and checked.added_factor is not None:  # enrolled on the second page
            added = {
                "mfa_enabled": {"from": user.mfa_enabled, "to": True},
                "mfa_factors": {"added": checked.added_factor.id, "type": "totp"},
            }
            enrolled = AuditEntry.new(
                user.org_id, Actor(type="user", id=user.id), "user.mfa_factor_added", "user", user.id, meta, added
            )
            items.append((audit_put(self._table, enrolled), None))
        self._users.record_login(user, now, audit, event, items, changed, mfa)
        return SignedIn(request.redirect(code=code), secret)


def _prompt(value: str | None) -> frozenset[str]:
    prompt = frozenset((value or "").split())
    if not prompt <= PROMPTS:
        raise RedirectError("invalid_request", "prompt must be none, login, consent or select_account.")
    if "none" in prompt and len(prompt) > 1:
        raise RedirectError("invalid_request", "prompt=none cannot be combined with other values.")
    return prompt


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not _MAX_AGE.match(value):
        raise RedirectError("invalid_request", "max_age must be a whole number of seconds.")
    return int(value)
