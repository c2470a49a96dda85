"""Refresh-token grants: created by a device approval, rotated on every use, revoked as a
whole when an already rotated refresh token comes back (it was copied: whoever holds the
other copy must lose access too — OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.config.oauth import OAuthSettings
from idsvc.crypto.opaque import new_opaque, stored_hash
from idsvc.db import Connection, row_to
from idsvc.tokens.revocation import revoke_grant_tokens

__all__ = [
    "GrantRefused",
    "LiveGrant",
    "create_grant",
    "find_grant",
    "live_grant",
    "revoke_grant",
    "rotate_refresh_token",
]

REFRESH_PREFIX = "idsvc_rt_"


class GrantRefused(Exception):
    """The refresh token is not usable; ``reason`` goes to the audit trail, not the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LiveGrant(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    client_id: str
    dpop_jkt: str | None


_INSERT_GRANT = """
INSERT INTO oauth_grants (id, user_id, client_id, dpop_jkt, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_INSERT_REFRESH = """
INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)
"""


async def _new_refresh_token(
    conn: Connection, grant_id: uuid.UUID, settings: OAuthSettings, now: datetime
) -> str:
    token = new_opaque(REFRESH_PREFIX)
    expires = now + timedelta(seconds=settings.refresh_token_lifetime)
    await conn.execute(_INSERT_REFRESH, stored_hash(token), grant_id, now, expires)
    return token


async def create_grant(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    client_id: str,
    dpop_jkt: str | None,
    settings: OAuthSettings,
    now: datetime,
) -> tuple[LiveGrant, str]:
    grant = LiveGrant(id=uuid.uuid4(), user_id=user_id, client_id=client_id, dpop_jkt=dpop_jkt)
    expires = now + timedelta(seconds=settings.grant_lifetime)
    await conn.execute(_INSERT_GRANT, grant.id, user_id, client_id, dpop_jkt, now, expires)
    token = await _new_refresh_token(conn, grant.id, settings, now)
    await record_event(
        conn,
        at=now,
        actor=f"user:{user_id}",
        action="oauth.grant.created",
        target=f"grant:{grant.id}",
        data={"client": client_id, "dpop_bound": dpop_jkt is not None},
    )
    return grant, token


_FIND = """
SELECT g.id, g.user_id, g.client_id, g.dpop_jkt, g.expires_at AS grant_expires_at,
       g.revoked_at, t.expires_at, t.rotated_at
FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
WHERE t.token_hash = $1
FOR UPDATE OF g
"""
# Rotation in one statement (one round trip): retire the presented token, stamp the
# grant, store the successor.
_ROTATE = """
WITH retired AS (
    UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL
    RETURNING grant_id
), touched AS (
    UPDATE oauth_grants SET last_used_at = $2 WHERE id = (SELECT grant_id FROM retired)
)
INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
SELECT $3, grant_id, $2, $4 FROM retired
RETURNING grant_id
"""
_REVOKE = """
UPDATE oauth_grants SET revoked_at = $2, revoked_reason = $3
WHERE id = $1 AND revoked_at IS NULL
"""


async def find_grant(
    conn: Connection, refresh_token: str, *, client_id: str, now: datetime
) -> LiveGrant:
    """The live grant behind a refresh token, locked for the caller's transaction.

    Raises GrantRefused. Reuse of a rotated token revokes the grant first (the caller must
    commit before refusing, so that the revocation stands)."""
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 128:
        raise GrantRefused("malformed")
    row = await conn.fetchrow(_FIND, stored_hash(refresh_token))
    if row is None:
        raise GrantRefused("unknown")
    if row["client_id"] != client_id:
        # Not revoked: a client cannot be made to revoke another client's grant by guessing.
        raise GrantRefused("another_client")
    if row["revoked_at"] is not None:
        raise GrantRefused("grant_revoked")
    grant = LiveGrant(
        id=row["id"], user_id=row["user_id"], client_id=row["client_id"], dpop_jkt=row["dpop_jkt"]
    )
    if row["rotated_at"] is not None:
        await revoke_grant(conn, grant.id, reason="refresh_token_reused", actor="system", now=now)
        raise GrantRefused("refresh_token_reused")
    if row["expires_at"] <= now or row["grant_expires_at"] <= now:
        raise GrantRefused("expired")
    return grant


async def rotate_refresh_token(
    conn: Connection,
    grant: LiveGrant,
    used_token: str,
    *,
    settings: OAuthSettings,
    now: datetime,
) -> str:
    """Retire the presented token and hand out its successor (audited by the caller's
    issuance event, which names the grant). The caller holds the grant's row lock from
    find_grant, so two refreshes with one token cannot both rotate it."""
    successor = new_opaque(REFRESH_PREFIX)
    expires = now + timedelta(seconds=settings.refresh_token_lifetime)
    rotated = await conn.fetchval(
        _ROTATE, stored_hash(used_token), now, stored_hash(successor), expires
    )
    if rotated != grant.id:
        raise GrantRefused("refresh_token_reused")
    return successor


async def revoke_grant(
    conn: Connection, grant_id: uuid.UUID, *, reason: str, actor: str, now: datetime
) -> bool:
    """Every refresh token of the grant stops working. False if it was already revoked."""
    revoked = await conn.execute(_REVOKE, grant_id, now, reason)
    if revoked == "UPDATE 0":
        return False
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="oauth.grant.revoked",
        target=f"grant:{grant_id}",
        data={"reason": reason},
    )
    await revoke_grant_tokens(conn, grant_id, actor=actor, reason=reason, now=now)
    return True


_LIVE = """
SELECT g.id, g.user_id, g.client_id, g.dpop_jkt
FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
WHERE t.token_hash = $1 AND g.client_id = $2 AND g.revoked_at IS NULL
  AND t.rotated_at IS NULL AND t.expires_at > $3 AND g.expires_at > $3
"""


async def live_grant(
    conn: Connection, refresh_token: str, *, client_id: str, now: datetime
) -> LiveGrant | None:
    """Read-only: whether the token is usable now (introspection must not revoke)."""
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 128:
        return None
    row = await conn.fetchrow(_LIVE, stored_hash(refresh_token), client_id, now)
    return row_to(LiveGrant, row)
