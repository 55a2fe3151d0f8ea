"""Redirect URIs of sign-in clients: what may be registered, and what matches a registered one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LOOPBACK_IPS = ("127.0.0.1", "::1")

# RFC 3986 §3: scheme ":" then only unreserved, reserved and percent-encoded characters (no
# space, tab, CR, LF or other control characters, which urlsplit would silently drop).
_RFC3986_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+\Z")

# What may be registered, as one grammar (the OpenAPI document shows it as the pattern): https
# to a host name, or plain http to a loopback host (RFC 8252 §7.3); an optional port up to
# 65535; a path and query of RFC 3986 characters; no user info, no fragment.
_PORT = r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
_HOST = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
_REST = r"(?:[/?](?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?"
REGISTRABLE_REDIRECT = rf"^(?:https://{_HOST}|http://(?:localhost|127\.0\.0\.1|\[::1\])){_PORT}{_REST}$"
_REGISTRABLE = re.compile(REGISTRABLE_REDIRECT.removesuffix("$") + r"\Z")


def is_registrable_redirect_uri(uri: str) -> bool:
    return _REGISTRABLE.match(uri) is not None


def is_valid_redirect_uri(uri: str) -> bool:
    """An RFC 3986 absolute URI with an authority and without a fragment."""
    if not _RFC3986_URI.match(uri) or "#" in uri:
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a malformed port raises
    except ValueError:
        return False
    return bool(parts.netloc) and parts.hostname is not None


def redirect_matches(registered: str, presented: str | None) -> bool:
    """Exact match, except that a loopback redirect (``http://127.0.0.1`` or ``http://[::1]``)
    matches on any port, as native apps listen on ephemeral ports (RFC 8252 §7.3)."""
    if presented is None:
        return False
    if presented == registered:
        return True
    want, got = urlsplit(registered), urlsplit(presented)
    if want.scheme != "http" or want.hostname not in LOOPBACK_IPS or got.scheme != "http":
        return False
    try:
        got.port  # noqa: B018 - a malformed port raises
    except ValueError:
        return False
    return (got.hostname, got.path, got.query, got.fragment, got.username, got.password) == (
        want.hostname,
        want.path,
        want.query,
        want.fragment,
        want.username,
        want.password,
    )
