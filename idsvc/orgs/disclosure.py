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

Screening is the operators' business: screening events and override justifications never
reach the organisation's audit page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = ["OPERATOR_ONLY_EVENTS", "AdminState", "admin_state"]

AdminState = Literal["eligible", "under_review", "needs_verification", "not_eligible"]

# Audit actions (prefixes) an organisation's admins never see on its trail.
OPERATOR_ONLY_EVENTS: tuple[str, ...] = ("org.screen",)

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
