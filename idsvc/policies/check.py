"""``idsvc policy check --user U --audience A``: why a user would or would not get a token.

For operators: reads the same facts the token endpoint reads and prints the decision with
every reason. It changes nothing and issues nothing.
"""

from __future__ import annotations

import sys
import uuid

from idsvc import db
from idsvc.clock import utc_now
from idsvc.database import database_url
from idsvc.policy.decision import Grant, decide
from idsvc.policy.explain import explain
from idsvc.settings import Settings
from idsvc.tokens.issuance import load_subject_facts

__all__ = ["policy_check"]


async def policy_check(settings: Settings, *, user: str, audience: str) -> int:
    policies = {p.audience: p for p in settings.config.policies}
    policy = policies.get(audience)
    if policy is None:
        print(
            f"no policy protects {audience!r}; known: {', '.join(policies) or 'none'}",
            file=sys.stderr,
        )
        return 2
    try:
        user_id = uuid.UUID(user)
    except ValueError:
        print(f"--user must be a user id (UUID), got {user!r}", file=sys.stderr)
        return 2
    now = utc_now()
    async with database_url(settings) as dsn:
        conn = await db.connect(dsn)
        try:
            facts = await load_subject_facts(conn, user_id)
        finally:
            await conn.close()
    decision = decide(policy, facts, now)
    print(f"policy {policy.ref} for {audience}")
    print(
        f"user {user_id}: {'active' if facts.user_active else 'disabled or unknown'}, "
        f"{len(facts.attestations)} current attestation(s)"
    )
    for fact in facts.attestations:
        state = "revoked" if fact.revoked else ("expired" if fact.expires_at <= now else "valid")
        print(
            f"  {fact.kind:<20} {','.join(fact.values):<20} {fact.assurance:<5} "
            f"verified {fact.verified_at:%Y-%m-%d}  expires {fact.expires_at:%Y-%m-%d}  {state}"
        )
    if isinstance(decision, Grant):
        print(
            f"GRANT: {', '.join(decision.entitlements)} at {decision.assurance}, "
            f"{decision.lifetime} s tokens"
        )
        return 0
    print(f"DENY: {', '.join(decision.reasons)}")
    for sentence in explain(policy, decision):
        print(f"  - {sentence}")
    return 1
