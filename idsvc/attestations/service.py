"""What operators do with a person's attestations: read them, revoke one, record the most
recent country of citizenship, and export the person's token decisions. Every one of
these is audited in the caller's transaction (nationality and evidence are operator-only).

The most recent country of citizenship or permanent residency is what the EAR's
deemed-export rule looks at (15 CFR 734.13(b)) and what identity providers do not attest
(they give nationalities without acquisition dates). It is recorded as an attestation of
kind ``most_recent_country`` from the provider "operator": proposed by one operator, it
takes effect when a second confirms it (four eyes), then supersedes the earlier
determination; it is revocable like any attestation, shown to the person on /me and to
operators, and read by policies with ``nationality_rule = "most_recent"``. It must name a
country that the person's unrevoked evidence names, never the United States. On
confirmation the person's live tokens are revoked: they were decided without it.

Recording, reading and revoking attestations themselves is :mod:`idsvc.attestations.store`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from idsvc.attestations.errors import (
    DeterminationNotPending,
    DeterminationUnsupported,
    UnknownCountry,
)
from idsvc.attestations.store import (
    Attestation,
    operator_reads_attestations,
    revoke_attestation,
)
from idsvc.audit import record_event
from idsvc.audit.personal import for_person, seal
from idsvc.countries import SPECIAL_NATIONALITIES, UnknownCountryCode, normalize_nationality
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.four_eyes.service import FourEyes, Proposed, propose_or_approve
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = [
    "confirm_most_recent_country",
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


# A revoked attestation of a person who was not erased (an erased person's evidence stays
# gone whatever anyone approves).
_REVOKED = """
SELECT a.user_id FROM attestations a JOIN users u ON u.id = a.user_id
WHERE a.id = $1 AND a.revoked_at IS NOT NULL AND u.status <> 'erased'
FOR UPDATE OF a
"""
_REINSTATE = """
UPDATE attestations SET revoked_at = NULL, revoked_by = NULL, revoked_reason = NULL
WHERE id = $1
"""


async def reinstate_attestation(
    conn: Connection,
    attestation_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    now: datetime,
    rule: FourEyes,
) -> Proposed | None:
    """Reverse a revocation made in error: one operator proposes (``Proposed``), a second
    approves under ``rule`` and the attestation counts again (superseded, expired or
    otherwise as it was). Tokens revoked with it stay revoked; the person asks anew."""
    user_id = await conn.fetchval(_REVOKED, attestation_id)
    if user_id is None:
        raise NotFound("no such revoked attestation")
    decided = await propose_or_approve(
        conn, kind="attestation.reinstate", target=f"attestation:{attestation_id}",
        actor=actor, now=now, rule=rule, owner=for_person(user_id), note=reason,
    )  # fmt: skip
    if isinstance(decided, Proposed):
        return decided
    await conn.execute(_REINSTATE, attestation_id)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="attestation.reinstated",
        target=f"attestation:{attestation_id}",
        data={
            "user": str(user_id),
            "reason": await seal(conn, for_person(user_id), reason, now=now),
            "proposed_by": decided.proposed_by,
        },
    )
    return None


_PROPOSE = """
INSERT INTO attestations (id, user_id, kind, attested_values, provider, trust_framework,
                          assurance, verified_at, expires_at, recorded_at, evidence,
                          determined_by)
VALUES ($1, $2, 'most_recent_country', ARRAY[$3::text], 'operator', 'operator_determination',
        'determination', $4, $5, $4, '[{"type": "operator_determination"}]'::jsonb, $6)
"""
# A country that some unrevoked evidence of the person names (any record, superseded ones
# included: the same evidence the deny rules count).
_SUPPORTED = """
SELECT EXISTS (SELECT 1 FROM attestations
               WHERE user_id = $1 AND revoked_at IS NULL
                 AND kind IN ('nationalities', 'permanent_residency')
                 AND $2 = ANY(attested_values))
"""
_PENDING = """
SELECT user_id, attested_values[1] AS country, determined_by FROM attestations
WHERE id = $1 AND user_id = $2 AND kind = 'most_recent_country'
  AND confirmed_at IS NULL AND revoked_at IS NULL AND superseded_by IS NULL
FOR UPDATE
"""
_CONFIRM = """
UPDATE attestations SET confirmed_by = $2, confirmed_at = $3 WHERE id = $1
"""
# The confirmed determination replaces every earlier one (confirmed or still pending).
_SUPERSEDE_DETERMINATIONS = """
UPDATE attestations SET superseded_by = $1
WHERE user_id = $2 AND kind = 'most_recent_country' AND superseded_by IS NULL AND id <> $1
"""


async def _ensure_supported(conn: Connection, user_id: uuid.UUID, code: str) -> None:
    if code == "US":
        raise DeterminationUnsupported(
            "country: a U.S. citizen or permanent resident is a U.S. person; record the "
            "basis through a proofing provider instead of a determination"
        )
    if not await conn.fetchval(_SUPPORTED, user_id, code):
        raise DeterminationUnsupported(
            "country: no unrevoked evidence of this person names that country"
        )


async def record_most_recent_country(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    country: str,
    justification: str,
    operator: uuid.UUID,
    now: datetime,
    rule: FourEyes,
) -> tuple[uuid.UUID, Proposed | None]:
    """Propose a determination (four eyes: the ``Proposed`` decision). It takes effect only
    when another operator confirms it (:func:`confirm_most_recent_country`); until then it
    is on record and counts for nothing, and the person's tokens are untouched. Where
    ``rule`` waives four eyes it takes effect at once (None)."""
    try:
        code = normalize_nationality(country)
    except UnknownCountryCode:
        raise UnknownCountry("country: not an ISO 3166-1 country code") from None
    if code in SPECIAL_NATIONALITIES:
        raise UnknownCountry("country: name a country, not a status")
    if await conn.fetchval(_USER_EXISTS, user_id) is None:
        raise NotFound("no such user")
    await _ensure_supported(conn, user_id, code)
    attestation_id = uuid.uuid4()
    actor = f"user:{operator}"
    await conn.execute(_PROPOSE, attestation_id, user_id, code, now, now + _VALIDITY, actor)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.most_recent_country.proposed",
        target=f"user:{user_id}",
        # Operator-only, like every attestation event: the country and why, sealed under
        # the person's data key (audit.personal).
        data={
            "attestation": str(attestation_id),
            "personal": await seal(
                conn,
                for_person(user_id),
                {"country": code, "justification": justification},
                now=now,
            ),
        },
    )
    decided = await _decide(
        conn, user_id=user_id, attestation_id=attestation_id, country=code, actor=actor,
        now=now, rule=rule, note=justification,
    )  # fmt: skip
    return attestation_id, decided


async def confirm_most_recent_country(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    attestation_id: uuid.UUID,
    operator: uuid.UUID,
    now: datetime,
    rule: FourEyes,
) -> Proposed | None:
    """A second operator confirms a proposed determination (``own_proposal`` for its
    proposer): from now on it is the person's most recent country (until evidence recorded
    after the proposal adds a country), and the person's live tokens, decided without it,
    are revoked. A proposal that lapsed unconfirmed is proposed anew (``Proposed``)."""
    pending = await conn.fetchrow(_PENDING, attestation_id, user_id)
    if pending is None:
        raise DeterminationNotPending("no pending determination with that id for this person")
    return await _decide(
        conn, user_id=user_id, attestation_id=attestation_id, country=pending["country"],
        actor=f"user:{operator}", now=now, rule=rule, note=None,
    )  # fmt: skip


async def _decide(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    attestation_id: uuid.UUID,
    country: str,
    actor: str,
    now: datetime,
    rule: FourEyes,
    note: str | None,
) -> Proposed | None:
    decided = await propose_or_approve(
        conn, kind="most_recent_country.confirm", target=f"attestation:{attestation_id}",
        actor=actor, now=now, rule=rule, owner=for_person(user_id),
        terms={"country": country}, note=note,
    )  # fmt: skip
    if isinstance(decided, Proposed):
        return decided
    # The evidence may have been revoked since the proposal.
    await _ensure_supported(conn, user_id, country)
    await conn.execute(_CONFIRM, attestation_id, actor, now)
    await conn.execute(_SUPERSEDE_DETERMINATIONS, attestation_id, user_id)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.most_recent_country.determined",
        target=f"user:{user_id}",
        data={"attestation": str(attestation_id), "proposed_by": decided.proposed_by},
    )
    await revoke_user_tokens(
        conn, user_id, actor=actor, reason="most_recent_country_determined", now=now
    )
    return None


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
