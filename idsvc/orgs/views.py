"""What the organisation API answers: wire structs built from stored records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from idsvc.orgs.domains import Domain
from idsvc.orgs.records import Organisation, OrgStatus
from idsvc.orgs.screening_hits import Hit

__all__ = ["DomainView", "OrgView", "domain_view", "org_view"]


class DomainView(msgspec.Struct, frozen=True, kw_only=True):
    domain: str
    # Publish `challenge` as a TXT record at `record`, then ask for verification.
    record: str
    challenge: str
    verified: bool
    verified_at: datetime | None
    last_checked_at: datetime | None


class OrgView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    legal_name: str
    country: str
    registration_ids: list[dict[str, str]]
    contact_email: str
    status: OrgStatus
    status_reason: str | None
    programs_requested: list[str]
    programs: list[str]
    auto_join: str
    created_at: datetime
    updated_at: datetime
    domains: list[DomainView] = []
    # Operators only: screening is the compliance team's business, and telling an
    # applicant that it resembles a listed party would tip the party off.
    screening_hits: list[Hit] | None = None


def domain_view(domain: Domain) -> DomainView:
    return DomainView(
        domain=domain.domain,
        record=domain.record_name,
        challenge=domain.challenge,
        verified=domain.verified_at is not None,
        verified_at=domain.verified_at,
        last_checked_at=domain.last_checked_at,
    )


def org_view(
    org: Organisation, *, domains: Sequence[Domain] = (), hits: list[Hit] | None = None
) -> OrgView:
    return OrgView(
        id=org.id,
        legal_name=org.legal_name,
        country=org.country,
        registration_ids=org.registration_ids,
        contact_email=org.contact_email,
        status=org.status,
        status_reason=org.status_reason,
        programs_requested=org.programs_requested,
        programs=org.programs,
        auto_join=org.auto_join,
        created_at=org.created_at,
        updated_at=org.updated_at,
        domains=[domain_view(d) for d in domains],
        screening_hits=hits,
    )
