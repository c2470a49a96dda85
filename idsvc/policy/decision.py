"""The decision: (facts about a person, policy, now) -> grant, or deny with every reason.

Pure: no I/O, no clock; everything that needs a decision loads the facts
(idsvc.evidence.ledger, the one definition of them) and calls this. The invariants
(docs/attestations.md), each enforced here and nowhere else:

- nationalities and residencies only grow: every attestation ever recorded counts for deny
  rules, whatever superseded it, however old or weak it is; only an operator's revocation
  removes one (losing the paperwork, or re-proofing with one passport, removes no
  citizenship);
- a positive fact (a U.S.-person basis) needs current evidence: not superseded by the same
  provider's newer verification, unrevoked, unexpired, recent enough, at or above the
  policy's assurance; the waiver of nationality rules under ``most_recent`` needs it at
  IAL2 or above whatever the policy admits;
- nobody is decided eligible unscreened (``screening_unavailable``) or while a screening
  hit is open (``screening_review``);
- a most-recent-country determination counts once a second operator confirmed it, only
  while it names a country some unrevoked evidence names (never the United States: a U.S.
  person proves a basis instead), and lapses when evidence recorded after it adds a
  country.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from idsvc.policy.model import OrgRequirement, PolicySettings, assurance_rank

__all__ = [
    "AttestationFact",
    "Decision",
    "Deny",
    "Grant",
    "GrantedOrg",
    "MembershipFact",
    "Reason",
    "SubjectFacts",
    "decide",
]

Reason = Literal[
    "user_disabled",
    "attestation_missing",
    "attestation_expired",
    "assurance_too_low",
    "not_us_person",
    "nationality_denied",
    "nationality_not_allowed",
    "residency_denied",
    "org_required",
    "org_not_approved",
    "org_not_in_program",
    "membership_inactive",
    "role_not_allowed",
    "evidence_inconsistent",
    "most_recent_country_unknown",
    "screening_review",
    "screening_unavailable",
]


class AttestationFact(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    values: tuple[str, ...]
    assurance: str
    verified_at: datetime
    expires_at: datetime
    revoked: bool
    # The evidence contradicted itself (attestations.mapping): recorded, never counted.
    inconsistent: bool = False
    # The attestation's record, so that a decision names its evidence (token events).
    id: uuid.UUID | None = None
    # Not superseded by a newer verification of the same kind from the same provider.
    # Only current evidence establishes a positive fact; every record counts against.
    current: bool = True
    # When idsvc recorded it (not when the provider verified it): what an operator could
    # have seen when deciding. None: the same as verified_at (pure tests).
    recorded_at: datetime | None = None
    # A most-recent-country determination that a second operator confirmed (four eyes).
    confirmed: bool = False

    @property
    def recorded(self) -> datetime:
        return self.recorded_at or self.verified_at


class MembershipFact(msgspec.Struct, frozen=True, kw_only=True):
    """A membership that is not removed, with its organisation's state."""

    org_id: uuid.UUID
    org_status: str
    org_programs: tuple[str, ...]
    role: str
    status: str
    membership_id: uuid.UUID | None = None


class SubjectFacts(msgspec.Struct, frozen=True, kw_only=True):
    user_active: bool
    attestations: tuple[AttestationFact, ...]
    # Screened against a current restricted-party list: every name verified for the person
    # against the newest list, itself within [screening] max_list_age (or screening was
    # deliberately switched off). No default: a loader that forgets it cannot fail open.
    screened: bool
    memberships: tuple[MembershipFact, ...] = ()
    # An open restricted-party screening hit on the person (screening.service).
    screening_hold: bool = False


class GrantedOrg(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    programs: tuple[str, ...]


class Grant(msgspec.Struct, frozen=True, kw_only=True, tag="grant"):
    entitlements: tuple[str, ...]
    assurance: str
    policy_ref: str
    lifetime: int
    # The organisation that satisfied the policy's requirement, if it had one.
    org: GrantedOrg | None = None


class Deny(msgspec.Struct, frozen=True, kw_only=True, tag="deny"):
    reasons: tuple[Reason, ...]
    policy_ref: str


Decision = Grant | Deny


def _us_person(
    policy: PolicySettings, facts: SubjectFacts, now: datetime
) -> tuple[str | None, Reason | None]:
    """The assurance of the best qualifying U.S.-person attestation, or why there is none."""
    bases = [
        a for a in facts.attestations if a.kind == "us_person_basis" and not a.revoked and a.current
    ]
    live = [a for a in bases if not a.inconsistent]
    if bases and not live:
        # Every basis on record contradicts its own evidence: nobody is a U.S. person on
        # that, and the person is told it needs review rather than "not a U.S. person".
        return None, "evidence_inconsistent"
    if not live:
        verified_elsewhere = any(
            a.kind == "nationalities" and not a.revoked for a in facts.attestations
        )
        # Verified, but no provider attested a basis: a foreign person as far as we know.
        return None, "not_us_person" if verified_elsewhere else "attestation_missing"
    current = [a for a in live if a.expires_at > now]
    if policy.max_attestation_age is not None:
        oldest = now - timedelta(seconds=policy.max_attestation_age)
        current = [a for a in current if a.verified_at >= oldest]
    if not current:
        return None, "attestation_expired"
    strong = [
        a for a in current if assurance_rank(a.assurance) >= assurance_rank(policy.min_assurance)
    ]
    if not strong:
        return None, "assurance_too_low"
    allowed = [a for a in strong if set(a.values) & set(policy.allowed_us_person_bases)]
    if not allowed:
        return None, "not_us_person"
    return max((a.assurance for a in allowed), key=assurance_rank), None


def _best_assurance(
    policy: PolicySettings, facts: SubjectFacts, now: datetime
) -> tuple[str | None, Reason | None]:
    """Without a U.S.-person requirement: a current nationality attestation must back the
    nationality rules, at the required assurance."""
    current = [
        a
        for a in facts.attestations
        if a.kind == "nationalities" and not a.revoked and a.current and a.expires_at > now
    ]
    if policy.max_attestation_age is not None:
        oldest = now - timedelta(seconds=policy.max_attestation_age)
        current = [a for a in current if a.verified_at >= oldest]
    if not current:
        lapsed = any(a.kind == "nationalities" and not a.revoked for a in facts.attestations)
        return None, "attestation_expired" if lapsed else "attestation_missing"
    best = max((a.assurance for a in current), key=assurance_rank)
    if assurance_rank(best) < assurance_rank(policy.min_assurance):
        return None, "assurance_too_low"
    return best, None


def _attested(facts: SubjectFacts, kind: str) -> set[str]:
    return {v for a in facts.attestations if a.kind == kind and not a.revoked for v in a.values}


def _most_recent_country(facts: SubjectFacts) -> str | None:
    """The newest confirmed, unrevoked determination of the most recent citizenship or
    residency, or None (unknown) when it does not stand: it names a country no unrevoked
    evidence names (the evidence was revoked, or it never existed), it names the United
    States (a U.S. person proves a basis; a determination is for foreign persons), or
    evidence recorded after it names a country the evidence before it did not (a new
    citizenship the operators could not have weighed). Recorded, not verified: evidence
    that arrives late but was verified early was still unseen by the operators."""
    determinations = [
        a
        for a in facts.attestations
        if a.kind == "most_recent_country" and not a.revoked and a.confirmed
    ]
    if not determinations:
        return None
    newest = max(determinations, key=lambda a: a.recorded)
    evidence = [
        a
        for a in facts.attestations
        if a.kind in ("nationalities", "permanent_residency") and not a.revoked
    ]
    country = newest.values[0]
    if country == "US" or country not in {v for a in evidence for v in a.values}:
        return None
    known = {v for a in evidence if a.recorded <= newest.recorded for v in a.values}
    later = {v for a in evidence if a.recorded > newest.recorded for v in a.values}
    return None if later - known else country


def _country_reasons(
    policy: PolicySettings, facts: SubjectFacts, *, us_person: Callable[[], bool]
) -> list[Reason]:
    rules = policy.country_rules()
    reasons: list[Reason] = []
    nationalities = _attested(facts, "nationalities")
    if policy.nationality_rule == "most_recent" and (
        rules.denied_nationalities or rules.allowed_nationalities
    ):
        # 15 CFR 734.13(b): a release to a foreign person is deemed an export to the most
        # recent country of citizenship or permanent residency. A U.S. person (772.1) is
        # no foreign person, so their other nationalities do not count.
        if us_person():
            nationalities = {"US"}
        elif (country := _most_recent_country(facts)) is None:
            return ["most_recent_country_unknown"]
        else:
            nationalities = {country}
    if nationalities & rules.denied_nationalities:
        reasons.append("nationality_denied")
    if rules.allowed_nationalities and not nationalities & rules.allowed_nationalities:
        reasons.append("nationality_not_allowed")
    if _attested(facts, "permanent_residency") & rules.denied_residencies:
        reasons.append("residency_denied")
    return reasons


def _membership_problems(need: OrgRequirement, m: MembershipFact) -> list[Reason]:
    problems: list[Reason] = []
    if m.org_status != "approved":
        problems.append("org_not_approved")
    if not set(need.programs) <= set(m.org_programs):
        problems.append("org_not_in_program")
    if m.status != "active":
        problems.append("membership_inactive")
    if need.roles and m.role not in need.roles:
        problems.append("role_not_allowed")
    return problems


def _organisation(
    need: OrgRequirement, facts: SubjectFacts
) -> tuple[MembershipFact | None, list[Reason]]:
    """The first membership that satisfies the requirement, or the problems of the one
    closest to it (so the person hears the fewest things to fix)."""
    if not facts.memberships:
        return None, ["org_required"]
    candidates = sorted(
        ((_membership_problems(need, m), m) for m in facts.memberships),
        key=lambda pair: (len(pair[0]), str(pair[1].org_id)),
    )
    problems, best = candidates[0]
    return (best, []) if not problems else (None, problems)


def _proofed(policy: PolicySettings) -> PolicySettings:
    """For the EAR's rule, a U.S.-person status that exempts a person from the nationality
    rules must be proofed (IAL2 or above) even when the policy admits self-asserted
    identities: a self-asserted "citizen" must not wave a nationality deny through."""
    if assurance_rank(policy.min_assurance) >= assurance_rank("IAL2"):
        return policy
    return msgspec.structs.replace(policy, min_assurance="IAL2")


def decide(policy: PolicySettings, facts: SubjectFacts, now: datetime) -> Decision:
    reasons: list[Reason] = []
    if not facts.user_active:
        reasons.append("user_disabled")
    if not facts.screened:
        # Every policy: whoever was not screened against a current list may be listed.
        reasons.append("screening_unavailable")
    if facts.screening_hold:
        # Every policy: a possible listed party gets nothing until an operator decides.
        reasons.append("screening_review")
    check = _us_person if policy.require_us_person else _best_assurance
    assurance, problem = check(policy, facts, now)
    if problem is not None:
        reasons.append(problem)

    def us_person() -> bool:
        # Asked only by the most-recent rule, so other policies pay nothing for it. Always
        # at IAL2 or above (_proofed), also when the policy itself requires a U.S. person
        # at IAL1: a self-asserted "citizen" must not wave the nationality rules through.
        if policy.require_us_person and problem is not None:
            return False
        return _us_person(_proofed(policy), facts, now)[1] is None

    reasons.extend(_country_reasons(policy, facts, us_person=us_person))
    membership = None
    if policy.organisation is not None:
        membership, org_problems = _organisation(policy.organisation, facts)
        reasons.extend(org_problems)
    if reasons or assurance is None:
        return Deny(reasons=tuple(reasons), policy_ref=policy.ref)
    return Grant(
        entitlements=policy.entitlements,
        assurance=assurance,
        policy_ref=policy.ref,
        lifetime=policy.token_lifetime,
        org=None
        if membership is None
        else GrantedOrg(id=membership.org_id, programs=tuple(sorted(membership.org_programs))),
    )
