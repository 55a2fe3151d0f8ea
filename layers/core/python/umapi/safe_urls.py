"""Outgoing URLs that cannot be turned against our own network (SSRF, docs/api.md §7): webhook
endpoints, job callbacks and organizations' identity providers (docs/api.md §12).

A URL is accepted only if it is https (http only for the loopback hosts a local runtime
allows), carries no credentials, and its host is not, and does not resolve to, an address that
is private, loopback, link-local, unique-local, multicast, reserved or a cloud metadata
endpoint. IPv4 literals are read the way the C library reads them, so ``2130706433``,
``0177.0.0.1``, ``0x7f.1`` and ``127.1`` are all 127.0.0.1; IPv4-mapped and NAT64 IPv6 forms
are judged by the IPv4 address inside.

The same check runs again at delivery time on freshly resolved addresses, and the delivery
connects to the address that was checked, so a DNS answer that changes in between
(rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What WEBHOOK_ALLOW_LOOPBACK lets through: these spellings only, nothing else private.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
NAT64 = ipaddress.ip_network("64:ff9b::/96")
BLOCKED_NAMES = ("localhost", ".localhost", ".internal", ".local", "metadata")


class UnsafeUrlError(ValueError):
    """The URL may not be called; the message says why."""


class Target(NamedTuple):
    """Where a webhook goes: the URL's parts, and the addresses checked for it."""

    scheme: str
    host: str  # as written, for the Host header and TLS server name
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # checked addresses to connect to (empty: not resolved yet)


def _ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """``host`` as an IPv4 address in any spelling inet_aton accepts (decimal, octal, hex, short)."""
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _ipv4_literal(host)


def forbidden(address: IPAddress) -> bool:
    """True for every address an outgoing request may not reach."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = (
            address.ipv4_mapped
            or (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None)
            or address.sixtofour
            or (address.teredo[1] if address.teredo else None)
        )
        if inner is not None and forbidden(inner):
            return True
    return not address.is_global or address.is_multicast or address.is_reserved


def parse(url: str, *, allow_loopback: bool) -> Target:
    """The URL's target, or ``UnsafeUrlError``. Literal addresses are checked here; names are
    checked by ``resolve``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:
        raise UnsafeUrlError("must be an absolute URL") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeUrlError("must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError("must not carry credentials")
    if parts.fragment:
        raise UnsafeUrlError("must not have a fragment")
    loopback = allow_loopback and host.lower() in LOOPBACK_HOSTS
    if parts.scheme == "http" and not loopback:
        raise UnsafeUrlError("must use https")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path, ())
    if loopback:
        return Target(target.scheme, host, target.port, path, ("::1",) if host == "::1" else ("127.0.0.1",))
    literal = _literal(host)
    if literal is not None:
        if forbidden(literal):
            raise UnsafeUrlError(f"must not point to a private, loopback, link-local or metadata address ({literal})")
        return Target(target.scheme, host, target.port, path, (str(literal),))
    if not _is_host_name(host):
        raise UnsafeUrlError("must name a valid host (letters, digits and hyphens, or an internationalised name)")
    lowered = host.lower().rstrip(".")
    if any(lowered == name.lstrip(".") or lowered.endswith(name) for name in BLOCKED_NAMES):
        raise UnsafeUrlError(f"must not point to an internal host name ({host})")
    return target


_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _is_host_name(host: str) -> bool:
    """A DNS name (RFC 1123 labels), internationalised names encoded as IDNA first."""
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return 0 < len(ascii_host) <= 253 and all(_LABEL.match(label) for label in ascii_host.split("."))


def resolve(target: Target) -> Target:
    """``target`` with every address its host resolves to, all checked; ``UnsafeUrlError`` if
    any is forbidden or the name does not resolve."""
    if target.addresses:
        return target
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrlError(f"the host {target.host} does not resolve") from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if forbidden(ipaddress.ip_address(address.split("%")[0])):
            raise UnsafeUrlError(f"{target.host} resolves to a private or internal address ({address})")
    return Target(target.scheme, target.host, target.port, target.path, addresses)


def check_subscription_url(url: str, *, allow_loopback: bool) -> str:
    """At subscription time: refuse anything ``parse`` refuses, and names that resolve to a
    forbidden address. A name that does not resolve (yet) is accepted: delivery checks again."""
    target = parse(url, allow_loopback=allow_loopback)
    if not target.addresses:
        try:
            resolve(target)
        except UnsafeUrlError as exc:
            if "does not resolve" not in str(exc):
                raise
    return url.strip()
