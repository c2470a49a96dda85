"""Recording attestations with their history, and reading a person's records."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc.attestations.mapping import AttestationDraft
from idsvc.audit import record_event
from idsvc.audit.personal import for_person, rows_opened, seal
from idsvc.db import Connection
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = [
    "Attestation",
    "belongs_to",
    "counting_attestations",
    "operator_reads_attestations",
    "record_attestations",
    "revoke_attestation",
]


class Attestation(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    attested_values: list[str]
    provider: str
    trust_framework: str
    assurance: str
    verified_at: datetime
    expires_at: datetime
    evidence: list[dict[str, str]]
    revoked_at: datetime | None
    revoked_reason: str | None
    # Why the evidence contradicts itself (operators see it; the attestation never counts).
    inconsistency: str | None = None
    # Replaced by the same provider's newer verification: no longer a positive fact, but a
    # nationality or residency it names still counts against the person until revoked.
    superseded: bool = False
    # Determinations: who proposed it, who confirmed it (four eyes); None until confirmed.
    determined_by: str | None = None
    confirmed_by: str | None = None


_INSERT = """
INSERT INTO attestations (id, user_id, kind, attested_values, provider, trust_framework,
                          assurance, verified_at, expires_at, recorded_at, evidence,
                          inconsistency)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
# A new verification supersedes the previous one of the same kind from the same provider.
_SUPERSEDE = """
UPDATE attestations SET superseded_by = $1
WHERE user_id = $2 AND kind = $3 AND provider = $4 AND superseded_by IS NULL AND id <> $1
"""
_COLUMNS = """
id, kind, attested_values, provider, trust_framework, assurance, verified_at, expires_at,
evidence, revoked_at, revoked_reason, inconsistency, superseded_by IS NOT NULL AS superseded,
determined_by, confirmed_by
"""
# What the person sees of their own: the current records, and superseded nationalities and
# residencies that still count against them (idsvc.evidence.ledger), each set of values once:
# a person refused for a nationality must find it on their page.
_COUNTING = f"""
SELECT {_COLUMNS} FROM attestations WHERE user_id = $1 AND superseded_by IS NULL
UNION ALL
SELECT {_COLUMNS} FROM (
    SELECT DISTINCT ON (kind, attested_values) * FROM attestations
    WHERE user_id = $1 AND superseded_by IS NOT NULL AND revoked_at IS NULL
      AND kind IN ('nationalities', 'permanent_residency')
    ORDER BY kind, attested_values, recorded_at DESC
) s
ORDER BY kind, superseded, verified_at DESC
"""  # noqa: S608 (constant text)
# Operators see every record: what is current, and what was superseded but still counts
# against the person (and which they may need to revoke).
_ON_RECORD = f"""
SELECT {_COLUMNS} FROM attestations WHERE user_id = $1
ORDER BY superseded_by IS NOT NULL, kind, recorded_at DESC
LIMIT 1000
"""  # noqa: S608 (constant text)
_OWNED = "SELECT EXISTS (SELECT 1 FROM attestations WHERE id = $1 AND user_id = $2)"
# Whose it is, locked, so that the reason can be sealed under their key before it is stored.
_UNREVOKED_OWNER = """
SELECT user_id FROM attestations WHERE id = $1 AND revoked_at IS NULL FOR UPDATE
"""
_REVOKE = """
UPDATE attestations SET revoked_at = $2, revoked_by = $3, revoked_reason = $4 WHERE id = $1
"""


async def record_attestations(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    provider: str,
    drafts: list[AttestationDraft],
    now: datetime,
) -> list[uuid.UUID]:
    ids = []
    for draft in drafts:
        attestation_id = uuid.uuid4()
        await conn.execute(
            _INSERT,
            attestation_id,
            user_id,
            draft.kind,
            list(draft.values),
            provider,
            draft.trust_framework,
            draft.assurance,
            draft.verified_at,
            draft.expires_at,
            now,
            list(draft.evidence),
            draft.inconsistency,
        )
        await conn.execute(_SUPERSEDE, attestation_id, user_id, draft.kind, provider)
        # The audit trail is operator-only, like nationality itself: it may say what was
        # attested, so that a later dispute can be settled from the trail.
        # The audit trail is operator-only, like nationality itself, and says what was
        # attested so that a later dispute can be settled from it; the values are sealed
        # under the person's data key (audit.personal), so erasing the person erases them.
        await record_event(
            conn,
            at=now,
            actor=f"provider:{provider}",
            action="attestation.recorded",
            target=f"user:{user_id}",
            data={
                "attestation": str(attestation_id),
                "kind": draft.kind,
                "assurance": draft.assurance,
                "expires_at": draft.expires_at.isoformat(),
                "personal": await seal(
                    conn,
                    for_person(user_id),
                    {"values": list(draft.values), "inconsistency": draft.inconsistency},
                    now=now,
                ),
            },
        )
        ids.append(attestation_id)
    return ids


async def counting_attestations(conn: Connection, user_id: uuid.UUID) -> list[Attestation]:
    """The current records and the superseded ones that still count against the person."""
    return await rows_opened(
        conn, Attestation, await conn.fetch(_COUNTING, user_id), texts=("revoked_reason",)
    )


async def belongs_to(conn: Connection, attestation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the attestation is one of the person's records (current or superseded)."""
    return bool(await conn.fetchval(_OWNED, attestation_id, user_id))


async def revoke_attestation(
    conn: Connection, attestation_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> bool:
    user_id = await conn.fetchval(_UNREVOKED_OWNER, attestation_id)
    if user_id is None:
        return False
    # The reason may name the person (an operator's words): sealed under their key in the
    # record and in the event alike, so that erasing them leaves it nowhere in clear.
    sealed = await seal(conn, for_person(user_id), reason, now=now)
    await conn.execute(_REVOKE, attestation_id, now, actor, sealed)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="attestation.revoked",
        target=f"attestation:{attestation_id}",
        data={"user": str(user_id), "reason": sealed},
    )
    # Every live token of the person was decided on their attestations.
    await revoke_user_tokens(conn, user_id, actor=actor, reason="attestation_revoked", now=now)
    return True


async def operator_reads_attestations(
    conn: Connection, user_id: uuid.UUID, *, operator: uuid.UUID, now: datetime
) -> list[Attestation]:
    """Every attestation on record for a person (nationalities included, superseded ones
    too) for an operator; the read itself is audited, in the same transaction, without the
    values (docs/privacy.md)."""
    attestations = await rows_opened(
        conn, Attestation, await conn.fetch(_ON_RECORD, user_id), texts=("revoked_reason",)
    )
    await record_event(
        conn,
        at=now,
        actor=f"user:{operator}",
        action="person.attestations.viewed",
        target=f"user:{user_id}",
        data={"attestations": len(attestations)},
    )
    return attestations
