"""What the signing-key pages read and do: the keys with their state, and a rotation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from idsvc.db import Connection
from idsvc.keys.material import Algorithm
from idsvc.keys.rotation import rotate
from idsvc.keys.schedule import key_state
from idsvc.keys.service import KeyService
from idsvc.keys.store import select_keys
from idsvc.tokens.revocation import revoke_key_tokens

__all__ = ["KeyOverview", "current_kids", "key_overview", "rotate_keys"]


class KeyOverview(NamedTuple):
    """The keys newest first with their state, and the current kid of each algorithm."""

    rows: list[dict[str, Any]]
    current: dict[str, str]


async def key_overview(conn: Connection, now: datetime) -> KeyOverview:
    keys = await select_keys(conn)
    ordered = sorted(keys, key=lambda k: k.activates_at, reverse=True)
    rows = [{"key": k, "state": key_state(k.times, now)} for k in ordered]
    current: dict[str, str] = {
        k.alg: k.kid for k in ordered if key_state(k.times, now) == "current"
    }
    return KeyOverview(rows, current)


async def current_kids(conn: Connection, alg: str, now: datetime) -> list[str]:
    """The kids an emergency rotation of ``alg`` would drop (the operator types one)."""
    return [
        k.kid
        for k in await select_keys(conn)
        if k.alg == alg and key_state(k.times, now) == "current"
    ]


async def rotate_keys(
    conn: Connection,
    keys: KeyService,
    *,
    alg: Algorithm,
    now: datetime,
    actor: str,
    emergency: bool = False,
    reason: str = "",
) -> None:
    await rotate(
        conn,
        alg=alg,
        now=now,
        policy=keys.policy,
        kek=keys.kek,
        actor=actor,
        revoke_tokens=revoke_key_tokens,
        emergency=emergency,
        reason=reason,
    )
