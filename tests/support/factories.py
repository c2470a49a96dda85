"""Users and organisations written straight to the database, for tests whose subject is
something else (the organisation API itself is tested through HTTP)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from idsvc.accounts.users import sign_in_identity
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import record_attestations
from idsvc.db import Connection
from idsvc.orgs.members.service import enrol_member
from idsvc.orgs.records import Membership, OrgStatus

_INSERT_ORG = """
INSERT INTO organisations (id, legal_name, country, contact_email, status, programs,
                           created_at, updated_at)
VALUES ($1, $2, 'US', 'compliance@example.com', $3, $4, $5, $5)
"""


async def create_user(
    conn: Connection, now: datetime, *, email: str | None = None, subject: str | None = None
) -> uuid.UUID:
    user, _ = await sign_in_identity(
        conn,
        provider="test",
        subject=subject or uuid.uuid4().hex,
        email=email,
        email_verified=email is not None,
        display_name=None,
        link_to=None,
        now=now,
    )
    return user.id


async def create_org(
    conn: Connection,
    now: datetime,
    *,
    status: OrgStatus = "approved",
    programs: tuple[str, ...] = (),
    name: str = "Acme Analytics",
) -> uuid.UUID:
    org_id = uuid.uuid4()
    await conn.execute(_INSERT_ORG, org_id, name, status, list(programs), now)
    return org_id


async def add_member(
    conn: Connection,
    now: datetime,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    role: str = "member",
    status: str = "active",
) -> Membership:
    return await enrol_member(
        conn,
        org_id=org_id,
        email=None,
        user_id=user_id,
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        source="operator",
        actor="test",
        now=now,
    )


async def attest(
    conn: Connection,
    now: datetime,
    user_id: uuid.UUID,
    *,
    nationalities: tuple[str, ...] = ("US",),
    basis: str | None = "citizen",
) -> None:
    """Attestations as a proofing provider would record them (IAL2, valid for 300 days)."""
    facts = [("nationalities", nationalities)] + ([("us_person_basis", (basis,))] if basis else [])
    drafts = [
        AttestationDraft(
            kind=kind,  # type: ignore[arg-type]
            values=values,
            trust_framework="t",
            assurance="IAL2",
            verified_at=now - timedelta(days=1),
            expires_at=now + timedelta(days=300),
            evidence=(),
        )
        for kind, values in facts
    ]
    await record_attestations(conn, user_id=user_id, provider="p", drafts=drafts, now=now)
