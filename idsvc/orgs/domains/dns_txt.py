"""TXT look-ups for domain verification, with dnspython's async resolver.

An answer that the record is absent (NXDOMAIN, no TXT) is a result: the domain is not
proven, and a domain verified before loses its proof. A resolver that does not answer is
no result at all: :class:`DnsUnavailable`, and nothing changes, so a DNS outage cannot
strip every organisation of its domains.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.resolver

from idsvc.settings import DnsSettings

__all__ = ["DnsUnavailable", "txt_values"]


class DnsUnavailable(Exception):
    """The resolver gave no usable answer (timeout, SERVFAIL, no nameserver)."""


def _resolver(settings: DnsSettings) -> dns.asyncresolver.Resolver:
    if not settings.nameservers:
        return dns.asyncresolver.Resolver(configure=True)
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = list(settings.nameservers)
    resolver.port = settings.port
    return resolver


async def txt_values(name: str, settings: DnsSettings) -> list[str]:
    """Every string of every TXT record at ``name`` (a record's strings joined, as RFC
    7208 does for long values); empty when the name or the record does not exist."""
    resolver = _resolver(settings)
    try:
        answer = await resolver.resolve(name, "TXT", lifetime=settings.timeout, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (
        dns.exception.Timeout,
        dns.resolver.NoNameservers,
        dns.resolver.NoResolverConfiguration,
    ):
        raise DnsUnavailable("the DNS resolver did not answer") from None
    except dns.exception.DNSException as exc:
        raise DnsUnavailable(f"DNS look-up failed: {type(exc).__name__}") from None
    values = []
    for record in answer:
        values.append(b"".join(record.strings).decode("utf-8", errors="replace"))
    return values
