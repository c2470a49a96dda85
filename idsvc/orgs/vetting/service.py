"""Requesting an organisation, the whole use case: checks on the input first (bad input
changes nothing), then the organisation with its requester as admin, its claimed domains,
and screening at request time. The JSON API and the console both call this."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.addresses import AddressRefused, address_key
from idsvc.countries import SPECIAL_NATIONALITIES, UnknownCountryCode, normalize_nationality
from idsvc.db import Connection
from idsvc.errors import BadRequest
from idsvc.orgs.domains.domain_names import normalize_domain
from idsvc.orgs.domains.service import Domain, claim_domain
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.errors import InvalidCountry
from idsvc.orgs.vetting.organisations import create_organisation
from idsvc.orgs.vetting.requests import OrgRequest
from idsvc.orgs.vetting.screening_hits import screen_organisation

__all__ = ["submit_request"]


def _country(value: str) -> str:
    try:
        country = normalize_nationality(value)
    except UnknownCountryCode:
        raise InvalidCountry("country: not an ISO 3166-1 country code") from None
    if country in SPECIAL_NATIONALITIES:
        raise InvalidCountry("country: name a country of incorporation")
    return country


async def submit_request(
    conn: Connection, body: OrgRequest, *, requester: uuid.UUID, threshold: float, now: datetime
) -> tuple[Organisation, list[Domain]]:
    legal_name = " ".join(body.legal_name.split())
    if not legal_name:
        raise BadRequest("legal_name: give the organisation's legal name")
    country = _country(body.country)
    try:
        # Shown to operators beside the members' addresses: the same plain form is asked.
        address_key(body.contact_email)
    except AddressRefused as exc:
        raise BadRequest(
            f"contact_email: {exc.reason}",
            errors=[{"field": "contact_email", "message": exc.reason}],
        ) from None
    domains = list(
        dict.fromkeys(
            normalize_domain(d, field=f"domains[{i}]") for i, d in enumerate(body.domains)
        )
    )
    actor = f"user:{requester}"
    org = await create_organisation(
        conn,
        legal_name=legal_name,
        country=country,
        registration_ids=[{"scheme": r.scheme, "value": r.value} for r in body.registration_ids],
        contact_email=body.contact_email,
        programs_requested=sorted(set(body.programs_requested)),
        requester=requester,
        now=now,
    )
    claimed = [
        await claim_domain(conn, org_id=org.id, domain=d, actor=actor, now=now) for d in domains
    ]
    await screen_organisation(conn, org, threshold=threshold, actor="system", now=now)
    return org, claimed
