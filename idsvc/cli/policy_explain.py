"""``idsvc policy explain --token-jti JTI`` (or ``--event SEQ`` for a denial): why a token
was issued or refused, decided again from the records alone.

The token's audit event names its evidence (``evidence.ledger.decision_evidence``): the
attestations by id, the memberships as they stood, the person's state; the policy version
it names is in ``policy_versions`` with its country groups expanded as they were. The
attestations' values are immutable records; whether one was revoked *at the time* follows
from its ``revoked_at``. This command rebuilds the facts, runs the same pure decision at
the event's time, and says whether it reproduces the recorded outcome (exit 0) or not
(exit 1; 2 when the event or its policy version cannot be found).

Once the person was erased, the evidence is gone for good (their attested values were
replaced by ``erased``): deciding again from it would compare a decision on nothing with
the one recorded, and "reproduced: NO" (or, by chance, "yes") would be a false statement
about the past. The command says "not reproducible: evidence erased" instead and exits 3.
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from typing import Any

import msgspec

from idsvc.cli.connection import connected
from idsvc.policy.decision import (
    AttestationFact,
    Deny,
    Grant,
    MembershipFact,
    SubjectFacts,
    decide,
)
from idsvc.policy.explain import explain
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

__all__ = ["EVIDENCE_ERASED", "explain_recorded", "policy_from_record"]

_BY_JTI = """
SELECT seq, occurred_at, action, target, data FROM audit_events
WHERE action = 'token.issued' AND data->>'jti' = $1
ORDER BY seq DESC LIMIT 1
"""
_BY_SEQ = """
SELECT seq, occurred_at, action, target, data FROM audit_events
WHERE seq = $1 AND action IN ('token.issued', 'token.denied')
"""
_POLICY = "SELECT content FROM policy_versions WHERE policy_id = $1 AND version = $2"
# The person the event is about was erased, or the evidence it names was erased with them
# (erasure.service replaces attested values with "erased").
_ERASED = """
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND status = 'erased')
    OR EXISTS (SELECT 1 FROM attestations WHERE id = ANY($2::uuid[])
               AND attested_values = '{erased}')
"""
EVIDENCE_ERASED = 3
# As they stood at the decision ($2): superseded then only if what superseded it was
# recorded by then; a determination confirmed then only if confirmed by then.
_ATTESTATIONS = """
SELECT a.id, a.kind, a.attested_values, a.assurance, a.verified_at, a.expires_at,
       a.revoked_at, a.inconsistency IS NOT NULL AS inconsistent, a.recorded_at,
       NOT EXISTS (SELECT 1 FROM attestations s
                   WHERE s.id = a.superseded_by AND s.recorded_at <= $2) AS current,
       coalesce(a.confirmed_at <= $2, false) AS confirmed
FROM attestations a WHERE a.id = ANY($1::uuid[])
"""


def policy_from_record(content: dict[str, Any]) -> PolicySettings:
    """The policy as recorded; its country groups replaced by the lists they expanded to
    then (a later amendment of the groups file must not change an old decision)."""
    recorded = dict(content)
    resolved = recorded.pop("resolved", None)
    if isinstance(resolved, dict):
        recorded["deny_nationalities"] = resolved.get("denied_nationalities", [])
        recorded["deny_residencies"] = resolved.get("denied_residencies", [])
        recorded["deny_nationality_groups"] = []
        recorded["deny_residency_groups"] = []
    return msgspec.convert(recorded, PolicySettings)


def _facts(evidence: dict[str, Any], rows: list[Any], at: datetime) -> SubjectFacts:
    attestations = tuple(
        AttestationFact(
            kind=r["kind"],
            values=tuple(r["attested_values"]),
            assurance=r["assurance"],
            verified_at=r["verified_at"],
            expires_at=r["expires_at"],
            # Revoked at the time of the decision, not now.
            revoked=r["revoked_at"] is not None and r["revoked_at"] <= at,
            inconsistent=r["inconsistent"],
            id=r["id"],
            current=r["current"],
            recorded_at=r["recorded_at"],
            confirmed=r["confirmed"],
        )
        for r in rows
    )
    memberships = tuple(
        MembershipFact(
            org_id=uuid.UUID(m["org"]),
            org_status=m["org_status"],
            org_programs=tuple(m["org_programs"]),
            role=m["role"],
            status=m["status"],
            membership_id=uuid.UUID(m["membership"]),
        )
        for m in evidence.get("memberships", [])
    )
    return SubjectFacts(
        user_active=bool(evidence.get("user_active", True)),
        attestations=attestations,
        memberships=memberships,
        screening_hold=bool(evidence.get("screening_hold", False)),
        # Decisions recorded before screening was required did not weigh it.
        screened=bool(evidence.get("screened", True)),
    )


async def explain_recorded(settings: Settings, *, jti: str | None, event: int | None) -> int:
    async with connected(settings) as conn:
        row = await (conn.fetchrow(_BY_JTI, jti) if jti else conn.fetchrow(_BY_SEQ, event))
        if row is None:
            print("no token.issued or token.denied event found", file=sys.stderr)
            return 2
        data = row["data"]
        evidence = data.get("evidence")
        if not isinstance(evidence, dict):
            print(
                f"event {row['seq']} predates evidence-linked decisions: it names no "
                "evidence to decide again from",
                file=sys.stderr,
            )
            return 2
        policy_id, _, version = str(data["policy"]).rpartition("@")
        content = await conn.fetchval(_POLICY, policy_id, int(version))
        if content is None:
            print(f"policy version {data['policy']} is not recorded", file=sys.stderr)
            return 2
        ids = [uuid.UUID(a) for a in evidence.get("attestations", [])]
        if await conn.fetchval(_ERASED, _person_of(row["target"]), ids):
            _print_event(row)
            print("not reproducible: evidence erased (the person was erased, and the values")
            print("  the decision rested on with them)")
            return EVIDENCE_ERASED
        rows = await conn.fetch(_ATTESTATIONS, ids, row["occurred_at"])
    at: datetime = row["occurred_at"]
    policy = policy_from_record(content)
    facts = _facts(evidence, list(rows), at)
    decision = decide(policy, facts, at)
    _print(row, policy, facts, decision, missing=len(ids) - len(rows))
    recorded_grant = row["action"] == "token.issued"
    reproduced = (
        isinstance(decision, Grant)
        if recorded_grant
        else isinstance(decision, Deny) and list(decision.reasons) == data.get("reasons")
    )
    print(f"reproduced from the records: {'yes' if reproduced else 'NO'}")
    return 0 if reproduced else 1


def _person_of(target: str) -> uuid.UUID | None:
    kind, _, value = target.partition(":")
    try:
        return uuid.UUID(value) if kind == "user" else None
    except ValueError:
        return None


def _print_event(row: Any) -> None:
    data = row["data"]
    at: datetime = row["occurred_at"]
    outcome = "issued" if row["action"] == "token.issued" else "denied"
    print(f"event {row['seq']} at {at.isoformat()}: token {outcome} to {row['target']}")
    print(f"  audience {data['audience']}, policy {data['policy']}")
    if data.get("jti"):
        print(f"  jti {data['jti']}, kid {data.get('kid')}, exp {data.get('exp')}")


def _print(
    row: Any, policy: PolicySettings, facts: SubjectFacts, decision: Grant | Deny, missing: int
) -> None:
    at: datetime = row["occurred_at"]
    _print_event(row)
    print(f"evidence ({len(facts.attestations)} attestation(s), as they stood then):")
    for fact in sorted(facts.attestations, key=lambda a: (a.kind, a.verified_at)):
        state = "revoked" if fact.revoked else ("expired" if fact.expires_at <= at else "valid")
        flag = ", inconsistent (not counted)" if fact.inconsistent else ""
        flag += "" if fact.current else ", superseded (counts only against)"
        print(
            f"  {fact.id} {fact.kind:<20} {','.join(fact.values):<16} {fact.assurance:<13} "
            f"verified {fact.verified_at:%Y-%m-%d}  expires {fact.expires_at:%Y-%m-%d}  "
            f"{state}{flag}"
        )
    if missing:
        print(f"  {missing} attestation record(s) named by the event are missing")
    for m in facts.memberships:
        print(
            f"  membership {m.membership_id} of org {m.org_id}: {m.status}, {m.role}; "
            f"org {m.org_status}, programs {', '.join(m.org_programs) or 'none'}"
        )
    print(f"  account {'active' if facts.user_active else 'disabled'}; "
          f"screened: {'yes' if facts.screened else 'no'}; "
          f"screening hold: {'yes' if facts.screening_hold else 'no'}")  # fmt: skip
    if isinstance(decision, Grant):
        print(f"decided again: GRANT {', '.join(decision.entitlements)} at {decision.assurance}")
    else:
        print(f"decided again: DENY {', '.join(decision.reasons)}")
        for sentence in explain(policy, decision):
            print(f"  - {sentence}")
