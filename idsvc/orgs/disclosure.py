"""What an organisation's admins may learn about their members and their own vetting.

Admins need to know who can use which service, not why not: a reason such as
``nationality_denied`` under a policy that denies one country is that person's
nationality. So an admin sees, per member and audience, one of four states, each derived
without looking at nationality, residency or screening:

- ``eligible``: the policy grants a token;
- ``under_review``: the membership or the organisation is not active (pending, suspended),
  which the admin knows already;
- ``needs_verification``: the person has not signed in, or has no current attestation at
  the assurance the policy needs: something the person can do, and nothing the admin could
  not see by asking them;
- ``not_eligible``: any other refusal, whatever its reason.

The order matters: a person who needs to verify again is ``needs_verification`` even if,
once verified, a nationality rule would refuse them, so the state never tells a refused
nationality from an expired document. The person sees their own reasons in full (/me);
operators see everything (docs/privacy.md).

**Which audiences.** Only those whose policy requires membership of an organisation whose
programs this one holds: the organisation's own services. Every other audience is left out,
because the differences between audiences are reasons: eligible for a U.S.-persons audience
but not for "U.S. persons, deny CN" *is* a CN nationality. And a member's state for those
audiences is decided on their membership of *this* organisation alone, so that nothing of
their other memberships shows.

**What even that reveals** is declared in docs/privacy.md: where the organisation's own
audience itself requires U.S. persons (or denies a nationality), its state tells an admin
that much. ``[orgs] admin_sees_eligibility = false`` replaces the per-audience states with
"enrolled" / "not enrolled".

Screening is the operators' business: screening events and override justifications never
reach the organisation's audit page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Literal

import msgspec

from idsvc.policy.decision import SubjectFacts
from idsvc.policy.model import PolicySettings

__all__ = [
    "OPERATOR_ONLY_EVENTS",
    "AdminState",
    "admin_state",
    "as_member_of",
    "audiences_for_admins",
]

AdminState = Literal["eligible", "under_review", "needs_verification", "not_eligible"]

# Audit actions (prefixes) an organisation's admins never see on its trail: its screening,
# a legal hold on it (an investigation it must not be tipped off about), and the operators'
# four-eyes steps on a decision not yet taken (the decision itself shows when taken).
OPERATOR_ONLY_EVENTS: tuple[str, ...] = ("org.screen", "legal_hold.", "four_eyes.")

_UNDER_REVIEW = frozenset({"org_not_approved", "membership_inactive"})
_NEEDS_VERIFICATION = frozenset(
    {"not_signed_in", "attestation_missing", "attestation_expired", "assurance_too_low"}
)


def admin_state(reasons: Iterable[str]) -> AdminState:
    """The state an org admin sees for a decision with these refusal reasons (none: a
    grant)."""
    refused = frozenset(reasons)
    if not refused:
        return "eligible"
    if refused & _UNDER_REVIEW:
        return "under_review"
    if refused & _NEEDS_VERIFICATION:
        return "needs_verification"
    return "not_eligible"


def audiences_for_admins(
    policies: Iterable[PolicySettings], org_programs: Sequence[str]
) -> list[PolicySettings]:
    """The audiences an organisation's admins see eligibility for: those whose policy
    requires membership of an organisation, and whose programs this organisation holds."""
    held = set(org_programs)
    return [
        p for p in policies if p.organisation is not None and set(p.organisation.programs) <= held
    ]


def as_member_of(person: SubjectFacts, org_id: uuid.UUID) -> SubjectFacts:
    """The person's facts with their memberships of other organisations left out: an admin's
    view is decided on this organisation's membership alone."""
    own = tuple(m for m in person.memberships if m.org_id == org_id)
    return msgspec.structs.replace(person, memberships=own)
