"""What the organisation API answers about an organisation: a wire struct built from its
record, with its domains and (for operators) its screening hits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from idsvc.orgs.domains.service import Domain
from idsvc.orgs.domains.views import DomainView, domain_view
from idsvc.orgs.records import Organisation, OrgStatus
from idsvc.orgs.vetting.screening_hits import Hit

__all__ = ["OrgView", "org_view"]


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
