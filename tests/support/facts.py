"""Facts about a person for the pure decision tests: attestations made in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idsvc.policy.decision import AttestationFact, SubjectFacts

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def fact(
    kind: str,
    *values: str,
    assurance: str = "IAL2",
    age_days: int = 10,
    expires_in_days: int = 300,
    revoked: bool = False,
) -> AttestationFact:
    return AttestationFact(
        kind=kind,
        values=values,
        assurance=assurance,
        verified_at=NOW - timedelta(days=age_days),
        expires_at=NOW + timedelta(days=expires_in_days),
        revoked=revoked,
    )


def facts(
    *attestations: AttestationFact, active: bool = True, screened: bool = True
) -> SubjectFacts:
    return SubjectFacts(user_active=active, attestations=attestations, screened=screened)
