"""Decisions in words a person can act on (status page, `idsvc policy check`).

The words never repeat the person's nationality: a denial says that a nationality is not
allowed, not which one.
"""

from __future__ import annotations

from idsvc.policy.decision import Decision, Grant
from idsvc.policy.model import PolicySettings

__all__ = ["REASON_TEXT", "explain", "explained_reasons"]

REASON_TEXT = {
    "user_disabled": "Your account is disabled; contact support.",
    "evidence_inconsistent": (
        "Needs review: your provider's verification contradicts itself (for example, a "
        "U.S. citizenship without a U.S. nationality). The compliance team will review it; "
        "verifying again with the provider may also resolve it."
    ),
    "attestation_missing": (
        "Verify your identity and U.S.-person status with a proofing provider."
    ),
    "attestation_expired": (
        "Your verification has expired or is too old for this service: verify again."
    ),
    "assurance_too_low": (
        "This service needs a stronger identity verification: verify with a provider at "
        "{min_assurance} or higher."
    ),
    "not_us_person": (
        "This service is for U.S. persons (citizens, lawful permanent residents, protected "
        "individuals); no provider has verified that status for you."
    ),
    "nationality_denied": (
        "This service is not available to holders of one of the nationalities on record for you."
    ),
    "nationality_not_allowed": (
        "This service is only available to holders of certain nationalities, and none on "
        "record for you is one of them."
    ),
    "most_recent_country_unknown": (
        "This service looks at your most recent country of citizenship or permanent "
        "residency, which your provider's verification does not show: the compliance team "
        "needs to record it. Contact support with the dates of your citizenships."
    ),
    "screening_review": (
        "Your eligibility is under review by the compliance team. You do not need to do "
        "anything; you will be able to continue once the review is complete."
    ),
    "screening_unavailable": (
        "Your eligibility cannot be confirmed right now: the restricted-party screening "
        "every person needs could not be completed (the list in use is not current, or no "
        "provider has verified your name yet). Try again later, or verify with a provider "
        "that verifies your name."
    ),
    "residency_denied": (
        "This service is not available to permanent residents of a country on record for you."
    ),
    "org_required": (
        "This service is for members of an approved organisation: ask your organisation's "
        "admin to enrol you."
    ),
    "org_not_approved": (
        "Your organisation has not been approved for this service, or is suspended: your "
        "organisation's admin can find out why."
    ),
    "org_not_in_program": (
        "Your organisation is not enrolled in the program this service requires: ask your "
        "organisation's admin."
    ),
    "membership_inactive": (
        "Your membership of the organisation is not active (invited, pending approval or "
        "suspended): ask your organisation's admin."
    ),
    "role_not_allowed": (
        "Your role in the organisation does not give access to this service: ask your "
        "organisation's admin."
    ),
}


def explain(policy: PolicySettings, decision: Decision) -> tuple[str, ...]:
    """Empty when granted; one sentence per reason otherwise."""
    if isinstance(decision, Grant):
        return ()
    return tuple(
        REASON_TEXT.get(reason, reason).format(min_assurance=policy.min_assurance)
        for reason in decision.reasons
    )


def explained_reasons(policy: PolicySettings, decision: Decision) -> list[dict[str, str]]:
    """A denial's reasons for a program and its person: each stable code with the words
    the status page uses (the person's own reasons; never their nationality)."""
    return [
        {"reason": reason, "explanation": text}
        for reason, text in zip(
            decision.reasons if not isinstance(decision, Grant) else (),
            explain(policy, decision),
            strict=True,
        )
    ]
