"""Serving status lists: each list is built from the database once per change and kept,
signed, in memory, so a gateway fetching it costs no database work between changes.

Every change to a slot bumps its list's version and NOTIFYs ``idsvc_status_lists`` (see
revocation.py); each instance LISTENs and forgets its built lists, which are rebuilt on the
next request. The notification is only the fast path: once a kept list is older than half
its ``ttl`` it is re-signed, and before that its version is read again (one indexed
query), so a change whose notification never arrived (the listener's connection died with
a PostgreSQL restart) is published within ``ttl/2`` all the same. While the database does
not answer, the kept list is served unchanged for as long as its own ``exp`` allows:
never re-signed on data that could not be checked.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from idsvc.db import Connection, Pool
from idsvc.errors import Unavailable
from idsvc.jose.jws import sign_compact
from idsvc.keys.ring import KeyRing
from idsvc.notifications import Subscription
from idsvc.tokens.status_list import encode_statuses, pack_statuses, status_list_uri

__all__ = ["STATUS_LIST_TYPE", "StatusListDocument", "StatusListService"]

STATUS_LIST_TYPE: Literal["statuslist+jwt"] = "statuslist+jwt"
_LIST = "SELECT size, version, retired_at FROM status_lists WHERE id = $1"
_VERSION = "SELECT version, retired_at IS NOT NULL AS retired FROM status_lists WHERE id = $1"
_ENTRIES = "SELECT idx, status FROM token_statuses WHERE list_id = $1 AND status <> 0"
# Full lists whose every token has expired (plus the skew gateways allow) are retired and
# their slots deleted: nothing can still present one of those tokens.
_RETIRE = """
UPDATE status_lists s SET retired_at = $1
WHERE s.full_at IS NOT NULL AND s.retired_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM token_statuses t
                  WHERE t.list_id = s.id AND t.expires_at > $1::timestamptz - $2::interval)
RETURNING id
"""
_DROP_SLOTS = "DELETE FROM token_statuses WHERE list_id = ANY($1::bigint[])"


class StatusListDocument(msgspec.Struct, frozen=True, kw_only=True):
    body: bytes
    etag: str
    expires_at: datetime


class _Built(msgspec.Struct, kw_only=True):
    lst: str
    version: int
    document: StatusListDocument
    signed_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.document.expires_at


class _Bits(msgspec.Struct, frozen=True):
    bits: int
    lst: str


class _Claims(msgspec.Struct, frozen=True):
    iss: str
    sub: str
    iat: int
    exp: int
    ttl: int
    status_list: _Bits


class StatusListService:
    def __init__(
        self, *, issuer: str, ring: KeyRing, algorithm: str, ttl: int, clock_skew: int
    ) -> None:
        self.issuer = issuer
        self._ring = ring
        self._algorithm = algorithm
        self.ttl = ttl
        self._skew = clock_skew
        self._built: dict[int, _Built] = {}
        # The iat and content last signed per list, kept across rebuilds: gateways refuse a
        # list older than the one they hold (idsvc.verify.status) and take one with the same
        # iat as a re-fetch, so a list whose content changed must carry a later iat even
        # when rebuilt within the same second (or a replay of the earlier one would pass).
        self._last_signed: dict[int, tuple[int, str]] = {}
        self.subscription = Subscription(
            "idsvc_status_lists", self.forget, on_resubscribed=self.forget
        )

    def uri(self, list_id: int) -> str:
        return status_list_uri(self.issuer, list_id)

    async def document(self, pool: Pool, list_id: int, now: datetime) -> StatusListDocument | None:
        """The signed list, or None for a list that does not exist or was retired."""
        built = self._built.get(list_id)
        try:
            if built is not None and now - built.signed_at > timedelta(seconds=self.ttl / 2):
                built = await self._refreshed(pool, list_id, built, now)
            if built is None:
                async with pool.acquire() as conn:
                    built = await self._build(conn, list_id, now)
                if built is None:
                    self._built.pop(list_id, None)
                    return None
                self._built[list_id] = built
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            kept = self._built.get(list_id)
            if kept is None or now >= kept.expires_at:
                raise Unavailable("the status list cannot be read now") from None
            return kept.document  # still valid for gateways; not re-signed unchecked
        return built.document

    async def _refreshed(
        self, pool: Pool, list_id: int, built: _Built, now: datetime
    ) -> _Built | None:
        """The kept list re-signed when its version is still the database's; None when it
        must be rebuilt (changed, or retired)."""
        async with pool.acquire() as conn:
            row = await conn.fetchrow(_VERSION, list_id)
        if row is None or row["retired"] or row["version"] != built.version:
            return None
        built.document = self._sign(list_id, built.lst, now)
        built.signed_at = now
        return built

    async def _build(self, conn: Connection, list_id: int, now: datetime) -> _Built | None:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            meta = await conn.fetchrow(_LIST, list_id)
            if meta is None or meta["retired_at"] is not None:
                return None
            entries = await conn.fetch(_ENTRIES, list_id)
        lst = encode_statuses(
            pack_statuses(meta["size"], ((r["idx"], r["status"]) for r in entries))
        )
        return _Built(
            lst=lst, version=meta["version"], document=self._sign(list_id, lst, now), signed_at=now
        )

    def _sign(self, list_id: int, lst: str, now: datetime) -> StatusListDocument:
        signer = self._ring.signing_key(self._algorithm, now)  # type: ignore[arg-type]
        issued = int(now.timestamp())
        last = self._last_signed.get(list_id)
        if last is not None and last[1] != lst:
            issued = max(issued, last[0] + 1)
        self._last_signed[list_id] = (issued, lst)
        claims = _Claims(
            iss=self.issuer,
            sub=self.uri(list_id),
            iat=issued,
            # Valid a while past its ttl, so a gateway that cannot refresh for a moment
            # keeps working; gateways bound their own staleness as well.
            exp=issued + 2 * self.ttl + self._skew,
            ttl=self.ttl,
            status_list=_Bits(bits=2, lst=lst),
        )
        header = {"alg": signer.alg, "kid": signer.kid, "typ": STATUS_LIST_TYPE}
        token = sign_compact(header, msgspec.json.encode(claims), signer.private_key, signer.alg)
        body = token.encode("ascii")
        return StatusListDocument(
            body=body,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            expires_at=datetime.fromtimestamp(claims.exp, UTC),
        )

    def forget(self, *_: object) -> None:
        """A slot changed somewhere: rebuild every list on its next request."""
        self._built.clear()

    async def retire_expired(self, pool: Pool, now: datetime) -> list[int]:
        async with pool.acquire() as conn, conn.transaction():
            retired = [
                r["id"] for r in await conn.fetch(_RETIRE, now, timedelta(seconds=self._skew))
            ]
            if retired:
                await conn.execute(_DROP_SLOTS, retired)
        return retired
