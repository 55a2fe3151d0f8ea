"""Redirect URIs of sign-in clients: what may be registered, and what matches a registered one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LOOPBACK_IPS = ("127.0.0.1", "::1")

# RFC 3986 §3: scheme ":" then only unreserved, reserved and percent-encoded characters (no
# space, tab, CR, LF or other control characters, which urlsplit would silently drop).
_RFC3986_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+\Z")


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
