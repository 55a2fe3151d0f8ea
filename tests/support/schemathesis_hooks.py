"""What schemathesis needs to know about this API beyond its OpenAPI document.

``schemathesis.toml`` (read by ``st run`` in the checkout, as the README runs it, and by
``tests/support/schemathesis_run.py``) loads this module. It replaces one check:
schemathesis' ``positive_data_acceptance`` expects every request the document allows to be
accepted, but some values are valid only if they exist on the server, which no document can
say. ``schema_valid_requests_accepted`` is that check, except that a request may be refused when
every reason the server gives names such a value:

- ``invalid_cursor``: a cursor this server did not issue (cursors are sealed);
- ``unknown_role``: a role id that is not a role of the organization;
- ``invalid_token``: a verification token that was never sent, or is used up;
- ``not_in_future``: an ``expires_at`` that is a valid date-time, but already past;
- ``conflicts_with_client``: a client patch whose result breaks a grant rule only together with
  what the client already is (client_credentials for a public client);
- ``unsafe_url``: a webhook URL whose host is, or resolves to, a private, loopback, link-local
  or metadata address (where a name points is up to DNS);
- ``invalid_provider``: an SSO connection's issuer that does not answer as an OpenID provider;
- ``unclaimable_domain``: a well-formed domain that is a public suffix or a free-mail
  provider's (lists the document cannot hold);
- the sign-in page (``/oauth/authorize``) for a ``client_id`` that is not registered, or a
  ``redirect_uri`` that is not one registered for it, and its second step posted from a browser
  with no sign-in waiting for one;
- the callback from an identity provider (``/oauth/callback``) for a ``state`` no sign-in in
  flight has, or from another browser;
- the end-session page (``/oauth/logout``) for an ``id_token_hint`` this server did not issue,
  a ``client_id`` that is not registered, or a ``post_logout_redirect_uri`` that is not
  registered for it.

A 422 refuses a change for the state of what it changes (a suspended user, a last admin, a
reused idempotency key), and a 410 a change of something archived (an archived user can no
longer be changed): that is never the request's shape either.

Anything else a schema-valid request is refused for (400) still fails the run.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

DATA_DEPENDENT = frozenset(
    {
        "invalid_cursor",
        "unknown_role",
        "invalid_token",
        "not_in_future",
        "conflicts_with_client",
        "unsafe_url",
        "invalid_provider",
        "unclaimable_domain",
    }
)
# The pages' own refusals of values that must exist on the server.
PAGE_REFUSALS = {
    "/oauth/authorize": (
        b"this application is not registered",
        b"does not exactly match one registered",
        b"the second step waits 5 minutes",
    ),
    "/oauth/callback": (b"expired or was already used", b"started in another browser"),
    "/oauth/logout": (
        b"not an ID token of this server",
        b"is not registered",
        b"needs id_token_hint or client_id",
        b"is not the client the ID token",
    ),
}


def refuses_only_data(path: str, status: int, content_type: str, body: bytes) -> bool:
    """Whether an answer refuses only values or states the document cannot describe."""
    if status in (410, 422):
        return True
    if status != 400:
        return False
    if path in PAGE_REFUSALS:
        return content_type.startswith("text/html") and any(reason in body for reason in PAGE_REFUSALS[path])
    try:
        details = json.loads(body)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(details) and all(detail.get("code") in DATA_DEPENDENT for detail in details)


@schemathesis.check
def schema_valid_requests_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, less refusals of data that must exist on the server."""
    content_type = response.headers.get("content-type", [""])[0] if response.headers else ""
    if refuses_only_data(case.operation.path, response.status_code, content_type, response.content):
        return None
    return positive_data_acceptance(ctx, response, case)
