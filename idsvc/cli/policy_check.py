"""``idsvc policy check --user U --audience A``: why a user would or would not get a token.
``U`` is the user id or the account's e-mail address.

For operators: reads the same facts the token endpoint reads and prints the decision with
every reason. It changes nothing and issues nothing.
"""

from __future__ import annotations

import sys
import uuid

from idsvc import db
from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.evidence.ledger import load_subject_facts
from idsvc.policy.decision import Grant, decide
from idsvc.policy.explain import explain
from idsvc.settings import Settings

__all__ = ["policy_check"]

_BY_EMAIL = "SELECT id FROM users WHERE lower(email) = lower($1) ORDER BY created_at LIMIT 5"


async def _find_user(conn: db.Connection, user: str) -> uuid.UUID | None:
    """The user named by id or by e-mail; None (said on stderr) when it is not one user."""
    try:
        return uuid.UUID(user)
    except ValueError:
        pass
    if "@" not in user:
        print(
            f"--user must be a user id (UUID) or an e-mail address, got {user!r}", file=sys.stderr
        )
        return None
    found = [row["id"] for row in await conn.fetch(_BY_EMAIL, user)]
    if len(found) == 1:
        return uuid.UUID(str(found[0]))
    if not found:
        print(f"no account has the e-mail address {user!r}", file=sys.stderr)
    else:
        ids = ", ".join(str(i) for i in found)
        print(f"several accounts have {user!r}; name one by id: {ids}", file=sys.stderr)
    return None


async def policy_check(settings: Settings, *, user: str, audience: str) -> int:
    policies = {p.audience: p for p in settings.config.policies}
    policy = policies.get(audience)
    if policy is None:
        print(
            f"no policy protects {audience!r}; known: {', '.join(policies) or 'none'}",
            file=sys.stderr,
        )
        return 2
    now = utc_now()
    async with connected(settings) as conn:
        user_id = await _find_user(conn, user)
        if user_id is None:
            return 2
        facts = await load_subject_facts(
            conn, user_id, screening=settings.config.screening, now=now
        )
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
