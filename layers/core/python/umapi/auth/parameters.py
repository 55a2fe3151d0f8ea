"""The parameters of the OAuth endpoints (RFC 6749): which each reads, how long each may be, and
how a form or JSON body becomes them. Shared by the token function and the sign-in function,
and light: nothing here signs, stores or looks anything up."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import parse_qs

from umapi.errors import OAuthError
from umapi.text import well_formed

# What each endpoint reads (RFC 6749 §3.1: unrecognized parameters are ignored, recognized ones
# must not repeat).
TOKEN_PARAMETERS = frozenset(
    {"grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri", "code_verifier", "refresh_token"}
)
REVOKE_PARAMETERS = frozenset({"token", "token_type_hint", "client_id", "client_secret"})
INTROSPECT_PARAMETERS = REVOKE_PARAMETERS  # RFC 7662 §2.1
# The longest value each parameter may have. Ours are far shorter (ids are 30 characters, secrets,
# codes and refresh tokens 43, access tokens about 1 KB); anything longer, or not valid text, is
# refused before it reaches a key, a hash or a log line (docs/api.md §1).
PARAMETER_LIMITS = {
    "grant_type": 64,
    "client_id": 64,
    "client_secret": 256,
    "scope": 1024,
    "code": 256,
    "redirect_uri": 2048,
    "code_verifier": 128,
    "refresh_token": 256,
    "token": 8192,
    "token_type_hint": 64,
}
CLIENT_CREDENTIALS = frozenset({"client_id", "client_secret"})


def malformed(params: Mapping[str, str]) -> list[str]:
    """The parameters whose values are too long or not valid text, in a stable order."""
    return sorted(name for name, value in params.items() if not well_formed(value, PARAMETER_LIMITS.get(name, 1024)))


def parse_parameters(body: str | None, media_type: str, known: Collection[str]) -> dict[str, str]:
    """The ``known`` parameters of a form (RFC 6749) or JSON body; one that repeats or is not a
    string is ``invalid_request``; others are ignored."""
    if not body:
        return {}
    if media_type == "application/json":
        repeated: set[str] = set()

        def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            names = [name for name, _ in pairs]
            repeated.update(name for name in names if names.count(name) > 1)
            return dict(pairs)

        parsed = json.loads(body, object_pairs_hook=no_repeats)
        if not isinstance(parsed, dict):
            raise OAuthError("invalid_request", "The JSON body must be an object of string parameters.")
        given = {name: [value] for name, value in parsed.items() if name in known}
        if any(not isinstance(value, str) for [value] in given.values()):
            raise OAuthError("invalid_request", "The JSON body must be an object of string parameters.")
        for name in repeated & set(given):
            given[name].append(given[name][0])
    else:
        given = {name: values for name, values in parse_qs(body, keep_blank_values=True).items() if name in known}
    twice = sorted(name for name, values in given.items() if len(values) > 1)
    if twice:
        raise OAuthError("invalid_request", f"Parameters must not repeat: {', '.join(twice)}.")
    return {name: values[0] for name, values in given.items()}
