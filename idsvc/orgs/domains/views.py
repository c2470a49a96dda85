"""What the domain API answers: a wire struct built from a domain claim."""

from __future__ import annotations

from datetime import datetime

import msgspec

from idsvc.orgs.domains.service import Domain

__all__ = ["DomainView", "domain_view"]


class DomainView(msgspec.Struct, frozen=True, kw_only=True):
    domain: str
    # Publish `challenge` as a TXT record at `record`, then ask for verification.
    record: str
    challenge: str
    verified: bool
    verified_at: datetime | None
    last_checked_at: datetime | None


def domain_view(domain: Domain) -> DomainView:
    return DomainView(
        domain=domain.domain,
        record=domain.record_name,
        challenge=domain.challenge,
        verified=domain.verified_at is not None,
        verified_at=domain.verified_at,
        last_checked_at=domain.last_checked_at,
    )
