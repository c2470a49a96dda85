"""Issuing an eligibility token to a signed-in user for one audience.

Loads the facts, asks the pure decision function, and either mints a token or refuses
with every reason. The grant or the denial is audited with the policy version in one
transaction; a denial changes nothing else.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from asyncpg import Record

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.errors import InvalidDpopProof, InvalidTarget
from idsvc.keys.service import KeyService
from idsvc.policy.decision import AttestationFact, Deny, MembershipFact, SubjectFacts, decide
from idsvc.policy.model import PolicySettings
from idsvc.tokens.claims import MAX_TOKEN_LIFETIME, OrgClaim, StatusClaim, StatusListReference
from idsvc.tokens.mint import MintedToken, mint_eligibility_token
from idsvc.tokens.pairwise import pairwise_subject
from idsvc.tokens.status_list import status_list_uri
from idsvc.tokens.status_slots import StatusAllocator

__all__ = ["decision_evidence", "issue_token", "load_facts_of_many", "load_subject_facts"]

# One round trip for everything the decision needs: on the token hot path each round trip
# to PostgreSQL costs more than the decision itself.
_FACTS = """
SELECT u.status,
       ARRAY(SELECT (a.kind, a.attested_values, a.assurance, a.verified_at, a.expires_at,
                     a.revoked_at IS NOT NULL, a.inconsistency IS NOT NULL, a.id)
             FROM attestations a
             WHERE a.user_id = u.id AND a.superseded_by IS NULL) AS attestations,
       ARRAY(SELECT (m.org_id, o.status, o.programs, m.role, m.status, m.id)
             FROM memberships m JOIN organisations o ON o.id = m.org_id
             WHERE m.user_id = u.id AND m.status <> 'removed') AS memberships,
       EXISTS (SELECT 1 FROM person_screening_hits h
               WHERE h.user_id = u.id AND h.state = 'open') AS screening_hold
FROM users u
WHERE u.id = $1
"""


# Issuance and revocation of one person's tokens never interleave: issuance holds the
# person's row FOR SHARE from before it reads the facts until it commits (with the token's
# status slot); a revocation takes it FOR UPDATE before it changes the statuses
# (tokens.revocation). Without this, a token decided on facts read just before a
# revocation committed got its slot just after the revocation's update ran, and stayed
# valid for its whole lifetime (found by tests/faults/test_chaos.py). Its own statement:
# a lock taken inside the facts query would leave the facts read from before the wait.
_LOCK_SUBJECT = "SELECT 1 FROM users WHERE id = $1 FOR SHARE"

# The same facts for a page of people (an org admin's member list), in one query.
_FACTS_MANY = """
SELECT u.id,
       u.status,
       ARRAY(SELECT (a.kind, a.attested_values, a.assurance, a.verified_at, a.expires_at,
                     a.revoked_at IS NOT NULL, a.inconsistency IS NOT NULL, a.id)
             FROM attestations a
             WHERE a.user_id = u.id AND a.superseded_by IS NULL) AS attestations,
       ARRAY(SELECT (m.org_id, o.status, o.programs, m.role, m.status, m.id)
             FROM memberships m JOIN organisations o ON o.id = m.org_id
             WHERE m.user_id = u.id AND m.status <> 'removed') AS memberships,
       EXISTS (SELECT 1 FROM person_screening_hits h
               WHERE h.user_id = u.id AND h.state = 'open') AS screening_hold
FROM users u
WHERE u.id = ANY($1::uuid[])
"""


def _facts_from_row(row: Record) -> SubjectFacts:
    attestations = tuple(
        AttestationFact(
            kind=kind,
            values=tuple(values),
            assurance=assurance,
            verified_at=verified_at,
            expires_at=expires_at,
            revoked=revoked,
            inconsistent=inconsistent,
            id=attestation_id,
        )
        for (
            kind,
            values,
            assurance,
            verified_at,
            expires_at,
            revoked,
            inconsistent,
            attestation_id,
        ) in row["attestations"]
    )
    memberships = tuple(
        MembershipFact(
            org_id=org_id,
            org_status=org_status,
            org_programs=tuple(programs),
            role=role,
            status=status,
            membership_id=membership_id,
        )
        for org_id, org_status, programs, role, status, membership_id in row["memberships"]
    )
    return SubjectFacts(
        user_active=row["status"] == "active",
        attestations=attestations,
        memberships=memberships,
        screening_hold=row["screening_hold"],
    )


async def load_subject_facts(conn: Connection, user_id: uuid.UUID) -> SubjectFacts:
    """What the decision needs about a user: status, current attestations, memberships."""
    row = await conn.fetchrow(_FACTS, user_id)
    if row is None:
        return SubjectFacts(user_active=False, attestations=())
    return _facts_from_row(row)


async def load_facts_of_many(
    conn: Connection, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SubjectFacts]:
    return {row["id"]: _facts_from_row(row) for row in await conn.fetch(_FACTS_MANY, user_ids)}


def decision_evidence(facts: SubjectFacts) -> dict[str, object]:
    """What a decision rested on, for its audit event: the attestations by id (their
    values are in their own immutable records, operator-only), the memberships as they
    stood, and the person's state. `idsvc policy explain` decides again from this alone."""
    return {
        "attestations": [str(a.id) for a in facts.attestations if a.id is not None],
        "memberships": [
            {
                "membership": str(m.membership_id),
                "org": str(m.org_id),
                "org_status": m.org_status,
                "org_programs": list(m.org_programs),
                "role": m.role,
                "status": m.status,
            }
            for m in facts.memberships
        ],
        "user_active": facts.user_active,
        "screening_hold": facts.screening_hold,
    }


async def issue_token(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    audience: str,
    policies: dict[str, PolicySettings],
    keys: KeyService,
    issuer: str,
    now: datetime,
    actor: str,
    slots: StatusAllocator,
    dpop_jkt: str | None = None,
    grant_id: uuid.UUID | None = None,
) -> MintedToken | Deny:
    """The token, or the denial (already audited: the caller commits, then refuses).
    Raises BadRequest for an audience no policy protects."""
    policy = policies.get(audience)
    if policy is None:
        raise InvalidTarget("no policy protects that audience")
    if policy.dpop == "required" and dpop_jkt is None:
        raise InvalidDpopProof("this audience requires a DPoP-bound token")
    await conn.execute(_LOCK_SUBJECT, user_id)
    facts = await load_subject_facts(conn, user_id)
    decision = decide(policy, facts, now)
    if isinstance(decision, Deny):
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="token.denied",
            target=f"user:{user_id}",
            data={
                "audience": audience,
                "policy": decision.policy_ref,
                "reasons": list(decision.reasons),
                "evidence": decision_evidence(facts),
            },
        )
        return decision
    signer = keys.ring.signing_key(policy.algorithm, now)
    lifetime = max(1, min(decision.lifetime, MAX_TOKEN_LIFETIME))
    jti = secrets.token_urlsafe(16)
    # The slot records what the token depends on, so revoking any of it finds the token.
    slot = await slots.allocate(
        conn,
        user_id=user_id,
        org_id=decision.org.id if decision.org is not None else None,
        grant_id=grant_id,
        kid=signer.kid,
        jti=jti,
        expires_at=now + timedelta(seconds=lifetime),
        now=now,
    )
    minted = mint_eligibility_token(
        signer=signer,
        issuer=issuer,
        subject=pairwise_subject(keys.pairwise_key, user_id=str(user_id), audience=audience),
        audience=audience,
        now=now,
        lifetime=lifetime,
        entitlements=decision.entitlements,
        assurance=decision.assurance,
        policy_ref=decision.policy_ref,
        org=OrgClaim(id=str(decision.org.id), programs=decision.org.programs)
        if decision.org is not None and "org" in policy.disclose
        else None,
        dpop_jkt=dpop_jkt,
        status=StatusClaim(
            status_list=StatusListReference(idx=slot.idx, uri=status_list_uri(issuer, slot.list_id))
        ),
        jti=jti,
    )
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="token.issued",
        target=f"user:{user_id}",
        data={
            "audience": audience,
            "policy": decision.policy_ref,
            "jti": minted.claims.jti,
            "kid": minted.kid,
            "exp": minted.claims.exp,
            "org": str(decision.org.id) if decision.org is not None else None,
            # The refresh-token grant it came from; its refresh token rotated in the same
            # transaction, so this event records the rotation too.
            "grant": str(grant_id) if grant_id is not None else None,
            "evidence": decision_evidence(facts),
        },
    )
    return minted
