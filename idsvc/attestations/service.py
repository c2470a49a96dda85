"""What operators do with a person's attestations: read them, revoke one, record the most
recent country of citizenship, and export the person's token decisions. Every one of
these is audited in the caller's transaction (nationality and evidence are operator-only).

The most recent country of citizenship or permanent residency is what the EAR's
deemed-export rule looks at (15 CFR 734.13(b)) and what identity providers do not attest
(they give nationalities without acquisition dates). It is recorded as an attestation of
kind ``most_recent_country`` from the provider "operator", so it is superseded by the next
determination, revocable like any attestation, shown to the person on /me and to
operators, and read by policies with ``nationality_rule = "most_recent"``. The person's
live tokens are revoked: they were decided without it.

Recording, reading and revoking attestations themselves is :mod:`idsvc.attestations.store`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from idsvc.attestations.errors import UnknownCountry
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import (
    Attestation,
    operator_reads_attestations,
    record_attestations,
    revoke_attestation,
)
from idsvc.audit import record_event
from idsvc.audit.personal import seal
from idsvc.countries import SPECIAL_NATIONALITIES, UnknownCountryCode, normalize_nationality
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = [
    "export_decisions",
    "read_attestations",
    "record_most_recent_country",
    "revoke_with_reason",
]

PROVIDER = "operator"
# A determination holds until it is superseded or revoked; the expiry only keeps the
# column's meaning (a date) and is far away.
_VALIDITY = timedelta(days=3650)
_USER_EXISTS = "SELECT 1 FROM users WHERE id = $1"
_DECISIONS = """
SELECT seq, occurred_at, action, data FROM audit_events
WHERE target = $1 AND action IN ('token.issued', 'token.denied')
ORDER BY seq
LIMIT 100000
"""


async def read_attestations(
    conn: Connection, user_id: uuid.UUID, *, operator: uuid.UUID, now: datetime
) -> list[Attestation]:
    """A person's attestations, nationalities included; the read is audited."""
    return await operator_reads_attestations(conn, user_id, operator=operator, now=now)


async def revoke_with_reason(
    conn: Connection, attestation_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> None:
    """Revoke one attestation with its reason (and the person's live tokens with it)."""
    if not await revoke_attestation(conn, attestation_id, actor=actor, reason=reason, now=now):
        raise NotFound("no such attestation, or it is already revoked")


async def record_most_recent_country(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    country: str,
    justification: str,
    operator: uuid.UUID,
    now: datetime,
) -> uuid.UUID:
    try:
        code = normalize_nationality(country)
    except UnknownCountryCode:
        raise UnknownCountry("country: not an ISO 3166-1 country code") from None
    if code in SPECIAL_NATIONALITIES:
        raise UnknownCountry("country: name a country, not a status")
    if await conn.fetchval(_USER_EXISTS, user_id) is None:
        raise NotFound("no such user")
    draft = AttestationDraft(
        kind="most_recent_country",
        values=(code,),
        trust_framework="operator_determination",
        # Not identity proofing: a compliance decision on the evidence the person gave.
        assurance="determination",
        verified_at=now,
        expires_at=now + _VALIDITY,
        evidence=({"type": "operator_determination"},),
    )
    [attestation_id] = await record_attestations(
        conn, user_id=user_id, provider=PROVIDER, drafts=[draft], now=now
    )
    actor = f"user:{operator}"
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.most_recent_country.determined",
        target=f"user:{user_id}",
        # Operator-only, like every attestation event: the country and why, sealed under
        # the person's data key (audit.personal).
        data={
            "attestation": str(attestation_id),
            "personal": await seal(
                conn, user_id, {"country": code, "justification": justification}, now=now
            ),
        },
    )
    await revoke_user_tokens(
        conn, user_id, actor=actor, reason="most_recent_country_determined", now=now
    )
    return attestation_id


async def export_decisions(
    conn: Connection, user_id: uuid.UUID, *, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """Every token decision about the person, issued or denied, with audience, policy
    version, reasons and the evidence it named, for a compliance file. The export is
    itself audited (who took a person's history, and when)."""
    rows = await conn.fetch(_DECISIONS, f"user:{user_id}")
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.decisions.exported",
        target=f"user:{user_id}",
        data={"decisions": len(rows)},
    )
    return [
        {
            "event": r["seq"],
            "at": r["occurred_at"].isoformat(),
            "outcome": "issued" if r["action"] == "token.issued" else "denied",
            **r["data"],
        }
        for r in rows
    ]
