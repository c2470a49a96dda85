"""Domains an organisation claims and proves by DNS, and its auto-join setting.

Claiming gives a random challenge to publish as TXT ``_idsvc-challenge.<domain>``;
verifying looks it up. A domain can be claimed by several organisations (so nobody can
squat on a claim) but verified by one only (a unique partial index). Re-checking a
verified domain whose record is gone takes the proof away again.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from idsvc.audit import record_event
from idsvc.constant_time import same_secret
from idsvc.db import Connection, row_to, rows_to
from idsvc.errors import NotFound
from idsvc.orgs.domains.domain_names import is_public_email_domain
from idsvc.orgs.domains.errors import DomainExists, DomainTaken, NoVerifiedDomain, PublicEmailDomain

__all__ = [
    "CHALLENGE_PREFIX",
    "AutoJoin",
    "Domain",
    "check_domain",
    "claim_domain",
    "delete_domain",
    "get_domain",
    "list_domains",
    "set_auto_join",
]

CHALLENGE_PREFIX = "_idsvc-challenge."
AutoJoin = Literal["off", "pending", "active"]


class Domain(msgspec.Struct, frozen=True, kw_only=True):
    domain: str
    challenge: str
    created_at: datetime
    verified_at: datetime | None
    last_checked_at: datetime | None

    @property
    def record_name(self) -> str:
        return CHALLENGE_PREFIX + self.domain


_INSERT = """
INSERT INTO org_domains (org_id, domain, challenge, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, domain) DO NOTHING
RETURNING domain, challenge, created_at, verified_at, last_checked_at
"""
_VERIFIED_ELSEWHERE = """
SELECT EXISTS (SELECT 1 FROM org_domains
               WHERE domain = $1 AND org_id <> $2 AND verified_at IS NOT NULL)
"""
_LIST = """
SELECT domain, challenge, created_at, verified_at, last_checked_at
FROM org_domains WHERE org_id = $1 ORDER BY domain
"""
_SELECT = """
SELECT domain, challenge, created_at, verified_at, last_checked_at
FROM org_domains WHERE org_id = $1 AND domain = $2
"""
_SELECT_FOR_UPDATE = """
SELECT domain, challenge, created_at, verified_at, last_checked_at
FROM org_domains WHERE org_id = $1 AND domain = $2 FOR UPDATE
"""
_SET_CHECKED = """
UPDATE org_domains SET verified_at = $3, last_checked_at = $4 WHERE org_id = $1 AND domain = $2
RETURNING domain, challenge, created_at, verified_at, last_checked_at
"""
_DELETE = "DELETE FROM org_domains WHERE org_id = $1 AND domain = $2 RETURNING verified_at"
_HAS_VERIFIED = """
SELECT EXISTS (SELECT 1 FROM org_domains WHERE org_id = $1 AND verified_at IS NOT NULL)
"""
_SET_AUTO_JOIN = """
UPDATE organisations o SET auto_join = $2, updated_at = $3
FROM (SELECT id, auto_join FROM organisations WHERE id = $1 FOR UPDATE) old
WHERE o.id = old.id
RETURNING old.auto_join
"""


async def claim_domain(
    conn: Connection, *, org_id: uuid.UUID, domain: str, actor: str, now: datetime
) -> Domain:
    """``domain`` in normal form (:func:`idsvc.orgs.domains.domain_names.normalize_domain`)."""
    if is_public_email_domain(domain):
        raise PublicEmailDomain("a public e-mail provider's domain cannot be claimed")
    if await conn.fetchval(_VERIFIED_ELSEWHERE, domain, org_id):
        raise DomainTaken("another organisation has verified this domain")
    claimed = row_to(
        Domain, await conn.fetchrow(_INSERT, org_id, domain, secrets.token_urlsafe(32), now)
    )
    if claimed is None:
        raise DomainExists("the organisation has already claimed this domain")
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.domain.claimed",
        target=f"org:{org_id}",
        data={"domain": domain},
    )
    return claimed


async def list_domains(conn: Connection, org_id: uuid.UUID) -> list[Domain]:
    return rows_to(Domain, await conn.fetch(_LIST, org_id))


async def get_domain(conn: Connection, org_id: uuid.UUID, domain: str) -> Domain:
    found = row_to(Domain, await conn.fetchrow(_SELECT, org_id, domain))
    if found is None:
        raise NotFound("the organisation has not claimed this domain")
    return found


async def check_domain(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    domain: str,
    published: list[str],
    actor: str,
    now: datetime,
) -> Domain:
    """Record what DNS answered (``published``: the TXT values found). Proof found: the
    domain is verified, unless another organisation verified it first (409
    ``domain_taken``). Proof absent: a verified domain loses its verification."""
    current = row_to(Domain, await conn.fetchrow(_SELECT_FOR_UPDATE, org_id, domain))
    if current is None:
        raise NotFound("the organisation has not claimed this domain")
    proven = any(same_secret(value, current.challenge) for value in published)
    verified_at = (current.verified_at or now) if proven else None
    if proven and current.verified_at is None:
        if await conn.fetchval(_VERIFIED_ELSEWHERE, domain, org_id):
            raise DomainTaken("another organisation has verified this domain")
        try:
            # A savepoint: a concurrent verification by another organisation trips the
            # unique index, and the outer transaction must survive to answer 409.
            async with conn.transaction():
                updated = await conn.fetchrow(_SET_CHECKED, org_id, domain, verified_at, now)
        except asyncpg.UniqueViolationError:
            raise DomainTaken("another organisation has verified this domain") from None
    else:
        updated = await conn.fetchrow(_SET_CHECKED, org_id, domain, verified_at, now)
    result = row_to(Domain, updated)
    assert result is not None
    if proven and current.verified_at is None:
        action = "org.domain.verified"
    elif not proven and current.verified_at is not None:
        action = "org.domain.lost"
    else:
        return result
    await record_event(
        conn, at=now, actor=actor, action=action, target=f"org:{org_id}", data={"domain": domain}
    )
    return result


async def delete_domain(
    conn: Connection, *, org_id: uuid.UUID, domain: str, actor: str, now: datetime
) -> None:
    row = await conn.fetchrow(_DELETE, org_id, domain)
    if row is None:
        raise NotFound("the organisation has not claimed this domain")
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.domain.deleted",
        target=f"org:{org_id}",
        data={"domain": domain, "was_verified": row["verified_at"] is not None},
    )


async def set_auto_join(
    conn: Connection, *, org_id: uuid.UUID, mode: AutoJoin, actor: str, now: datetime
) -> None:
    """Turning auto-join on needs a verified domain: without one it could match nobody,
    and the setting would silently start matching when a domain is verified later."""
    if mode != "off" and not await conn.fetchval(_HAS_VERIFIED, org_id):
        raise NoVerifiedDomain("verify a domain before turning auto-join on")
    previous = await conn.fetchval(_SET_AUTO_JOIN, org_id, mode, now)
    if previous is None:
        raise NotFound("no such organisation")
    if previous != mode:
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="org.auto_join.changed",
            target=f"org:{org_id}",
            data={"from": previous, "to": mode},
        )
