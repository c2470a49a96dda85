"""``idsvc operators grant`` and ``idsvc operators revoke``: operators at run time."""

from __future__ import annotations

import getpass
import sys
import uuid

from idsvc.accounts.operators import grant_operator, revoke_operator
from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.settings import Settings

__all__ = ["operators_grant", "operators_revoke"]


async def operators_grant(settings: Settings, *, user: uuid.UUID, reason: str) -> int:
    async with connected(settings) as conn:
        try:
            async with conn.transaction():
                granted = await grant_operator(
                    conn,
                    user_id=user,
                    reason=reason,
                    actor=f"cli:{getpass.getuser()}",
                    now=utc_now(),
                )
        except LookupError:
            print(f"idsvc operators grant: no user {user}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"idsvc operators grant: {exc}", file=sys.stderr)
            return 1
    print(f"user {user} is an operator" + ("" if granted else " already"))
    return 0


async def operators_revoke(settings: Settings, *, user: uuid.UUID, reason: str | None) -> int:
    async with connected(settings) as conn, conn.transaction():
        revoked = await revoke_operator(
            conn,
            user_id=user,
            actor=f"cli:{getpass.getuser()}",
            now=utc_now(),
            reason=reason,
        )
    if not revoked:
        print(f"idsvc operators revoke: user {user} holds no grant", file=sys.stderr)
        return 1
    print(f"user {user} is no longer an operator (unless the configuration names them)")
    return 0
