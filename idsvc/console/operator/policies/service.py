"""What the policy page runs: one policy's decision for one person, explained."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from idsvc.console.operator.users.service import user_exists
from idsvc.db import Connection
from idsvc.evidence.ledger import load_subject_facts
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings

__all__ = ["check_policy"]


async def check_policy(
    conn: Connection,
    policy: PolicySettings,
    user: uuid.UUID,
    now: datetime,
    screening: ScreeningSettings,
) -> dict[str, Any] | None:
    """The decision and its explanation, or None when no user has that id."""
    exists = await user_exists(conn, user)
    facts = await load_subject_facts(conn, user, screening=screening, now=now)
    if not exists:
        return None
    decision = decide(policy, facts, now)
    return {"policy": policy.ref, "decision": decision, "explained": explain(policy, decision)}
