"""Who is an operator: a user holding an identity named in ``operators``
(``provider:subject``). Checked on every operator request, from the database, so removing
someone from the configuration takes effect at the next restart without stale grants."""

from __future__ import annotations

import uuid

from idsvc.db import Connection

__all__ = ["is_operator"]

_IDENTITIES = "SELECT provider || ':' || subject AS name FROM identities WHERE user_id = $1"


async def is_operator(conn: Connection, user_id: uuid.UUID, operators: tuple[str, ...]) -> bool:
    if not operators:
        return False
    names = {row["name"] for row in await conn.fetch(_IDENTITIES, user_id)}
    return not names.isdisjoint(operators)
