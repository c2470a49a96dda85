"""Issuing an eligibility token to a signed-in user for one audience.

Loads the facts, asks the pure decision function, and either mints a token or refuses
with every reason. The grant or the denial is audited with the policy version in one
transaction; a denial changes nothing else.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.errors import AccessDenied, InvalidDpopProof, InvalidTarget
from idsvc.evidence.ledger import decision_evidence, load_subject_facts
from idsvc.keys.service import KeyService
from idsvc.policy.decision import Deny, Grant, decide
from idsvc.policy.explain import explained_reasons
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings
from idsvc.tokens.mint import MintedToken, mint_eligibility_token
from idsvc.tokens.pairwise import pairwise_subject
from idsvc.tokens.status_list import status_list_uri
from idsvc.tokens.status_slots import CLAIM_SLOT, StatusAllocator, StatusSlot
from idsvc.verify.claims import MAX_TOKEN_LIFETIME, OrgClaim, StatusClaim, StatusListReference

__all__ = [
    "AlsoWrite",
    "issue_statement",
    "issue_token",
]

# Issuance and revocation of one person's tokens never interleave: issuance holds the
# person's row FOR SHARE from before it reads the facts until it commits (with the token's
# status slot); a revocation takes it FOR UPDATE before it changes the statuses
# (tokens.revocation). Without this, a token decided on facts read just before a
# revocation committed got its slot just after the revocation's update ran, and stayed
# valid for its whole lifetime (found by tests/faults/test_chaos.py). Its own statement:
# a lock taken inside the facts query would leave the facts read from before the wait.
_LOCK_SUBJECT = "SELECT 1 FROM users WHERE id = $1 FOR SHARE"

_FIRST_ALSO_PARAMETER = 13


def issue_statement(ctes: str = "", names: Sequence[str] = (), result: str = "NULL") -> str:
    """The statement that claims a token's status slot and records its token.issued event
    (one round trip): the event is written only if a slot was claimed. $1-$8 are
    CLAIM_SLOT's; $9-$12 the event's time, actor, target and data.

    A caller adds writes that belong with the token (AlsoWrite): ``ctes`` are ``name AS
    (...)`` clauses joined by commas, which may read ``claimed`` (a row only when a slot was
    claimed), with ``{name}`` placeholders for ``names``, numbered from $13 in that order;
    ``result`` an SQL expression over them, returned as ``also``."""
    numbered = {n: f"${_FIRST_ALSO_PARAMETER + i}" for i, n in enumerate(names)}
    also = f", {ctes.format(**numbered).strip()}" if ctes else ""
    return f"""
WITH claimed AS ({CLAIM_SLOT.strip()}), issued AS (
    INSERT INTO audit_events (occurred_at, actor, action, target, data)
    SELECT $9::timestamptz, $10::text, 'token.issued', $11::text, $12::jsonb FROM claimed
){also}
SELECT (SELECT idx FROM claimed) AS idx, {result.format(**numbered)} AS also
"""  # noqa: S608 (constant text and numbered placeholders)


@dataclass(frozen=True, slots=True)
class AlsoWrite:
    """Writes that belong with an issued token, made in its issuing statement and only if
    the token is issued (the refresh-token rotation of the grant it came from): ``sql``
    from issue_statement, the values of its extra parameters in order, and ``check``,
    which receives the statement's ``also`` and raises to refuse (the caller's
    transaction then rolls everything back)."""

    sql: str
    args: tuple[object, ...]
    check: Callable[[object], None]


_ISSUE = issue_statement()


class _Issuing(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about a token before it is signed: enough to claim its status slot
    and record its event in one statement."""

    user_id: uuid.UUID
    org_id: uuid.UUID | None
    grant_id: uuid.UUID | None
    kid: str
    jti: str
    lifetime: int
    now: datetime
    actor: str
    event: dict[str, object]

    @classmethod
    def of(
        cls,
        decision: Grant,
        *,
        audience: str,
        signer_kid: str,
        grant_id: uuid.UUID | None,
        now: datetime,
        actor: str,
        user_id: uuid.UUID,
        evidence: dict[str, object],
    ) -> _Issuing:
        lifetime = max(1, min(decision.lifetime, MAX_TOKEN_LIFETIME))
        org_id = decision.org.id if decision.org is not None else None
        jti = secrets.token_urlsafe(16)
        event: dict[str, object] = {
            "audience": audience,
            "policy": decision.policy_ref,
            "jti": jti,
            "kid": signer_kid,
            "exp": int(now.timestamp()) + lifetime,
            "org": str(org_id) if org_id is not None else None,
            # The refresh-token grant it came from; its refresh token rotated in the
            # same statement (AlsoWrite), so this event records the rotation too.
            "grant": str(grant_id) if grant_id is not None else None,
            "evidence": evidence,
        }
        return cls(
            user_id=user_id, org_id=org_id, grant_id=grant_id, kid=signer_kid, jti=jti,
            lifetime=lifetime, now=now, actor=actor, event=event,
        )  # fmt: skip


async def _claim_and_record(
    conn: Connection, slots: StatusAllocator, issuing: _Issuing, also: AlsoWrite | None
) -> StatusSlot:
    """The token's status slot (it records what the token depends on, so revoking any of
    it finds the token), its token.issued event and the caller's AlsoWrite: one statement."""
    sql, also_args = (also.sql, also.args) if also is not None else (_ISSUE, ())
    also_result: object = None

    async def statement(list_id: int, candidates: list[int]) -> int | None:
        nonlocal also_result
        i = issuing
        row = await conn.fetchrow(
            sql,
            list_id,
            candidates,
            i.user_id,
            i.org_id,
            i.grant_id,
            i.kid,
            i.jti,
            i.now + timedelta(seconds=i.lifetime),
            i.now,
            i.actor,
            f"user:{i.user_id}",
            i.event,
            *also_args,
        )
        assert row is not None
        also_result = row["also"]
        idx: int | None = row["idx"]
        return idx

    slot = await slots.claim(conn, now=issuing.now, statement=statement)
    if also is not None:
        also.check(also_result)
    return slot


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
    screening: ScreeningSettings,
    dpop_jkt: str | None = None,
    grant_id: uuid.UUID | None = None,
    also: AlsoWrite | None = None,
    subject_locked: bool = False,
) -> MintedToken:
    """The token. Raises ``AccessDenied`` (an audited refusal: its ``token.denied`` event is
    written, and the request's transaction commits it) when the policy does not grant,
    ``InvalidTarget`` for an audience no policy protects, ``InvalidDpopProof`` when the
    policy requires a DPoP binding the request lacks. ``subject_locked``: the caller
    already holds the person's row FOR SHARE (see _LOCK_SUBJECT)."""
    if not conn.is_in_transaction():
        # The token's slot, its event and the caller's AlsoWrite commit together or not.
        raise RuntimeError("issue_token must run inside the caller's transaction")
    policy = policies.get(audience)
    if policy is None:
        raise InvalidTarget("no policy protects that audience")
    if policy.dpop == "required" and dpop_jkt is None:
        raise InvalidDpopProof("this audience requires a DPoP-bound token")
    if not subject_locked:
        await conn.execute(_LOCK_SUBJECT, user_id)
    facts = await load_subject_facts(conn, user_id, screening=screening, now=now)
    decision = decide(policy, facts, now)
    evidence = decision_evidence(facts)
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
                "evidence": evidence,
            },
        )
        raise AccessDenied(
            "the policy for this audience does not grant access",
            error="access_denied",
            reasons=list(decision.reasons),
            explanations=explained_reasons(policy, decision),
        )
    signer = keys.ring.signing_key(policy.algorithm, now)
    issuing = _Issuing.of(
        decision, audience=audience, signer_kid=signer.kid, grant_id=grant_id, now=now,
        actor=actor, user_id=user_id, evidence=evidence,
    )  # fmt: skip
    slot = await _claim_and_record(conn, slots, issuing, also)
    minted = mint_eligibility_token(
        signer=signer,
        issuer=issuer,
        subject=pairwise_subject(keys.pairwise_key, user_id=str(user_id), audience=audience),
        audience=audience,
        now=now,
        lifetime=issuing.lifetime,
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
        jti=issuing.jti,
    )
    if minted.claims.exp != issuing.event["exp"] or minted.kid != issuing.kid:
        # The event was written before signing and must describe this very token; raising
        # rolls the slot and the event back with the caller's transaction.
        raise RuntimeError("the signed token differs from its recorded issuance")
    return minted
