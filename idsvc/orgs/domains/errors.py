"""Errors of claiming and verifying an organisation's domains, and of auto-join.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import AuditedRefusal, BadRequest, Conflict, Unavailable

__all__ = [
    "ChallengeNotFound",
    "DnsLookupFailed",
    "DomainExists",
    "DomainTaken",
    "InvalidDomain",
    "NoVerifiedDomain",
    "PublicEmailDomain",
]


class InvalidDomain(BadRequest):
    """The value is not a registered domain name (such as example.com); send one."""

    code = "invalid_domain"


class PublicEmailDomain(BadRequest):
    """A public e-mail provider's domain cannot be claimed by an organisation."""

    code = "public_email_domain"


class DomainTaken(Conflict):
    """Another organisation has verified this domain; it cannot be claimed or verified here."""

    code = "domain_taken"


class DomainExists(Conflict):
    """The organisation has already claimed this domain; use the existing claim."""

    code = "domain_exists"


class NoVerifiedDomain(Conflict):
    """Auto-join needs a verified domain; verify one before turning it on."""

    code = "no_verified_domain"


class ChallengeNotFound(Conflict, AuditedRefusal):
    """No TXT record at the name in `record` holds the domain's challenge; publish it and check
    again."""

    # Audited: raised only after the check was recorded (a domain that lost its proof stays
    # unverified), so the refusal commits what the check wrote.
    code = "challenge_not_found"


class DnsLookupFailed(Unavailable):
    """DNS did not answer while checking the domain; nothing was changed, try again shortly."""

    code = "dns_unavailable"
