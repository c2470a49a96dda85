"""Domain names as organisations claim them: one normal form (IDNA 2008 A-labels, lower
case, no trailing dot) and the public mailbox providers nobody can claim.

The normal form matters for security: ``Bücher.example``, ``xn--bcher-kva.example`` and
``BÜCHER.example.`` are one domain, so they must be one row, one uniqueness check and one
match against a user's e-mail address.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Annotated

import idna
import msgspec

from idsvc.accounts.addresses import AddressRefused, check_domain_text
from idsvc.errors import BadRequest
from idsvc.orgs.domains.errors import InvalidDomain

__all__ = ["DomainText", "email_domain", "is_public_email_domain", "normalize_domain"]

# A domain as a request body carries it, before normalize_domain: bounded, not yet checked.
DomainText = Annotated[str, msgspec.Meta(min_length=1, max_length=253)]

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _plain(text: str, field: str) -> None:
    try:
        check_domain_text(text)
    except AddressRefused as exc:
        raise InvalidDomain(
            f"{field}: {exc.reason}", errors=[{"field": field, "message": exc.reason}]
        ) from None


def normalize_domain(value: str, *, field: str = "domain") -> str:
    """The A-label form of ``value``, or BadRequest (code ``invalid_domain``; a refusal of
    a form that is not plain names ``field``)."""
    text = value.strip().rstrip(".")
    if not text or len(text) > 253:
        raise InvalidDomain("a domain has 1 to 253 characters")
    # Before UTS 46, which would silently map the Kelvin sign and fullwidth letters to
    # ASCII and drop some invisible characters: the domain claimed is the one typed.
    _plain(text, field)
    try:
        # UTS 46 maps case first, as browsers and mail systems do.
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        raise InvalidDomain("not a valid domain name") from None
    # Again in Unicode: an A-label ("xn--...") typed as such spells letters too, and a
    # label mixing scripts ("example" with U+0430, a Cyrillic "a") is a homograph of
    # another.
    _plain(unicode_name, field)
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain("give a registered domain such as example.com") from None
    if labels[-1].isdigit():
        # An IPv4 address parses as labels; it is not a domain anyone can prove by DNS.
        raise InvalidDomain("an IP address is not a domain")
    return ascii_name


@cache
def _public_domains() -> frozenset[str]:
    text = (resources.files("idsvc.orgs.domains") / "data" / "public_email_domains.txt").read_text(
        encoding="utf-8"
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_public_email_domain(domain: str) -> bool:
    """``domain`` in normal form. Subdomains of a provider count as the provider."""
    public = _public_domains()
    labels = domain.split(".")
    return any(".".join(labels[i:]) in public for i in range(len(labels) - 1))


def email_domain(email: str) -> str | None:
    """The normal form of an address's domain, or None when it has none that is valid."""
    _, sep, domain = email.rpartition("@")
    if not sep:
        return None
    try:
        return normalize_domain(domain)
    except BadRequest:
        return None
