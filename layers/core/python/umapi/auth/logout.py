"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0; docs/api.md §12).

A client sends the browser to the end-session endpoint with the ID token it got
(``id_token_hint``), and optionally where to come back to (``post_logout_redirect_uri``, one
of the client's registered ``post_logout_redirect_uris``, exactly) and ``state``. The
browser's session for the client's organization ends, and so does the refresh family of the
sign-in the ID token came from (its ``sid``): the client's refresh token stops working.

The hint is verified like any token of ours (signature by a key of the JWKS, RS256, issuer),
except its lifetime: an expired ID token still names the sign-in to end (§2 of the
specification). A redirect address that is not registered for the hint's client is an error
page, never a redirect. Without a hint the browser's sessions end after the person confirms
on a page (a cross-site link cannot sign anybody out), and nothing redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlencode

from umapi.auth.browser_sessions import SECRET_CHARS, BrowserSessions
from umapi.auth.sessions import SessionStore
from umapi.clients.entities import Client
from umapi.clients.repository import ClientRepository
from umapi.errors import InvalidTokenError
from umapi.text import well_formed

HINT_CHARS = 8192
URI_CHARS = 2048
STATE_CHARS = 1024
CLIENT_ID_CHARS = 64


class LogoutError(Exception):
    """A logout request that is refused on an error page (never redirected)."""


class LogoutRequest(NamedTuple):
    client: Client | None  # whose ID token the hint is (or the client_id sent), if any
    subject: str | None  # the user the hint names
    session_id: str | None  # the refresh family of the hint's sign-in
    redirect_uri: str | None  # a registered post-logout redirect URI, or None: show a page
    state: str | None

    def redirect(self) -> str | None:
        if self.redirect_uri is None:
            return None
        if self.state is None:
            return self.redirect_uri
        separator = "&" if "?" in self.redirect_uri else "?"
        return f"{self.redirect_uri}{separator}{urlencode({'state': self.state})}"


class IdTokenHint(NamedTuple):
    subject: str
    client_id: str
    session_id: str | None


# Verifies an ID token of ours as a hint (``umapi.auth.tokens.verify_id_token_hint``): passed in,
# so the sign-in function loads PyJWT only when somebody signs out.
HintVerifier = Callable[[str, str], IdTokenHint]


class LogoutService:
    def __init__(
        self, hints: HintVerifier, clients: ClientRepository, sessions: SessionStore, browser: BrowserSessions
    ) -> None:
        self._hints = hints
        self._clients = clients
        self._sessions = sessions
        self._browser = browser

    def validate(self, params: dict[str, str], issuer: str) -> LogoutRequest:
        hint = params.get("id_token_hint")
        client_id = params.get("client_id")
        redirect_uri = params.get("post_logout_redirect_uri")
        state = params.get("state")
        for value, limit in ((hint, HINT_CHARS), (client_id, CLIENT_ID_CHARS), (redirect_uri, URI_CHARS)):
            if value is not None and not well_formed(value, limit):
                raise LogoutError("This sign-out link is malformed.")
        if state is not None and not well_formed(state, STATE_CHARS):
            raise LogoutError("This sign-out link is malformed.")
        subject = session_id = None
        if hint:
            try:
                subject, audience, session_id = self._hints(hint, issuer)
            except InvalidTokenError as exc:
                raise LogoutError("id_token_hint is not an ID token of this server.") from exc
            if client_id and client_id != audience:
                raise LogoutError("client_id is not the client the ID token was issued to.")
            client_id = audience
        client = self._clients.get(client_id, consistent=True) if client_id else None
        if client_id and client is None:
            raise LogoutError("This application is not registered (any more): client_id is not registered.")
        if redirect_uri is not None:
            if client is None:
                raise LogoutError("post_logout_redirect_uri needs id_token_hint or client_id to check it against.")
            if redirect_uri not in client.post_logout_redirect_uris_at(issuer):
                raise LogoutError("post_logout_redirect_uri is not registered for this application.")
        return LogoutRequest(client, subject, session_id, redirect_uri, state)

    def end(self, request: LogoutRequest, secrets: dict[str, str], cookie_of_org: str | None) -> list[str]:
        """End the browser sessions (of the client's organization when one is known, else every
        one the browser sent) and the hint's refresh family. The cookie names ended."""
        ended = [name for name in secrets if cookie_of_org is None or name == cookie_of_org]
        for name in ended:
            if well_formed(secrets[name], SECRET_CHARS):
                self._browser.end(secrets[name])
        if request.session_id and request.client is not None:
            family = self._sessions.get_family(request.session_id)
            if family is not None and family.user_id == request.subject and family.client_id == request.client.id:
                self._sessions.revoke_family(request.session_id)
        return ended
