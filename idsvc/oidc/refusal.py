"""The one way a sign-in fails: a stable reason for the page and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.audit import record_event
from idsvc.db import Pool

__all__ = ["SignInRefused", "audit_refusal"]


class SignInRefused(Exception):
    """Sign-in failed; ``reason`` is a stable code for the page and the audit trail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


async def audit_refusal(
    pool: Pool,
    provider_id: str,
    refusal: SignInRefused,
    *,
    actor: uuid.UUID | None,
    now: datetime,
) -> None:
    """Record a refusal in its own transaction: whatever the refused step wrote was rolled
    back with it, and the refusal itself must stay on record."""
    async with pool.acquire() as conn, conn.transaction():
        await record_event(
            conn,
            at=now,
            actor=f"user:{actor}" if actor else "anonymous",
            action="signin.refused",
            target=f"provider:{provider_id[:40]}",
            data={"reason": refusal.reason, "detail": refusal.detail[:200]},
        )
