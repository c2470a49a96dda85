"""What the operator's user pages read and do."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import msgspec

from idsvc.attestations.service import reinstate_attestation
from idsvc.attestations.status import user_status
from idsvc.attestations.store import (
    belongs_to,
    operator_reads_attestations,
    revoke_attestation,
)
from idsvc.db import Connection
from idsvc.erasure.service import ErasureReport, erase_by_operator
from idsvc.errors import NotFound
from idsvc.evidence.ledger import load_subject_facts
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.policy.model import PolicySettings
from idsvc.screening.service import hits_of_person
from idsvc.settings import ScreeningSettings

__all__ = [
    "UserRow",
    "UserView",
    "erase_user",
    "find_users",
    "revoke_user_attestation",
    "user_exists",
    "user_view",
]

_FIND_USERS = """
SELECT id, email, display_name, status, created_at FROM users
WHERE ($1::uuid IS NOT NULL AND id = $1) OR ($2 <> '' AND lower(email) LIKE $2 || '%')
ORDER BY email NULLS LAST, id
LIMIT 50
"""
_USER = "SELECT id, email, display_name, status, created_at FROM users WHERE id = $1"


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str | None
    display_name: str | None
    status: str
    created_at: Any


async def find_users(conn: Connection, q: str) -> list[UserRow]:
    """By exact id, or by the start of the e-mail address (case-insensitive)."""
    try:
        as_id: uuid.UUID | None = uuid.UUID(q)
    except ValueError:
        as_id = None
    pattern = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        msgspec.convert(dict(r), UserRow) for r in await conn.fetch(_FIND_USERS, as_id, pattern)
    ]


async def user_exists(conn: Connection, user_id: uuid.UUID) -> bool:
    return await conn.fetchval(_USER, user_id) is not None


class UserView(NamedTuple):
    user: UserRow
    attestations: Any
    views: dict[Any, Any]
    services: list[dict[str, Any]]
    screened: bool
    person_hits: Any


async def user_view(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    operator: uuid.UUID,
    now: datetime,
    policies: dict[str, PolicySettings],
    screening: ScreeningSettings,
) -> UserView:
    """One person as the operator sees them; reading their attestations is audited."""
    row = await conn.fetchrow(_USER, user_id)
    if row is None:
        raise NotFound("no such user")
    attestations = await operator_reads_attestations(conn, user_id, operator=operator, now=now)
    facts = await load_subject_facts(conn, user_id, screening=screening, now=now)
    screened, person_hits = await hits_of_person(conn, user_id)
    status = user_status(attestations, now)
    services = [
        {"audience": p.audience, "policy": p.ref, "needs": explain(p, decide(p, facts, now))}
        for p in policies.values()
    ]
    return UserView(
        user=msgspec.convert(dict(row), UserRow),
        attestations=attestations,
        views={v.id: v for v in status.attestations},
        services=services,
        screened=screened,
        person_hits=person_hits,
    )


async def revoke_user_attestation(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    attestation_id: uuid.UUID,
    now: datetime,
    actor: str,
    reason: str,
) -> None:
    # Superseded records too: one may still count against the person (docs/attestations.md).
    if not await belongs_to(conn, attestation_id, user_id):
        raise NotFound("no such attestation for this user")
    await revoke_attestation(conn, attestation_id, now=now, actor=actor, reason=reason)


async def reinstate_user_attestation(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    attestation_id: uuid.UUID,
    actor: str,
    reason: str,
    now: datetime,
    rule: FourEyes,
) -> Proposed | None:
    if not await belongs_to(conn, attestation_id, user_id):
        raise NotFound("no such attestation for this user")
    return await reinstate_attestation(
        conn, attestation_id, actor=actor, reason=reason, now=now, rule=rule
    )


async def erase_user(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    reason: str,
    actor: str,
    now: datetime,
    retention_period: int,
    despite_retention: bool,
    rule: FourEyes,
) -> ErasureReport | Proposed:
    """Erasure; unless the operator ticked that no retention duty applies, a person active
    within the retention period is refused (``RetentionDuty``); ticked, a second operator
    must agree (four eyes)."""
    return await erase_by_operator(
        conn, user_id=user_id, reason=reason, actor=actor, now=now,
        retention=timedelta(seconds=retention_period) if retention_period else None,
        despite_retention=despite_retention, rule=rule,
    )  # fmt: skip
