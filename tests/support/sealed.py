"""Reading what idsvc stores sealed under a data key (audit.personal) as an operator's view
opens it, after checking that it was sealed at all."""

from __future__ import annotations

from typing import Any

from idsvc import db
from idsvc.audit.personal import open_sealed, sealed_owners

__all__ = ["opened"]


async def opened(pool: db.Pool, stored: Any) -> Any:
    """``stored`` (a sealed text column, or a value of an event's data) opened; it must be
    sealed, not the text itself."""
    assert sealed_owners(stored), f"not sealed: {stored!r}"
    async with pool.acquire() as conn:
        return await open_sealed(conn, stored)
