"""Evidence that contradicts itself never makes a U.S. person.

Found: basis ``citizen`` with nationalities ``["CN"]`` only was granted as a U.S. person,
and basis ``permanent_resident`` with residency ``CA``; an OIDC4IDA ``verified_claims``
array was silently ignored; a non-citizen U.S. national had no basis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from idsvc.attestations.mapping import AttestationDraft, attestations_from_claims
from idsvc.policy.decision import AttestationFact, Deny, Grant, SubjectFacts, decide
from idsvc.policy.model import PolicySettings
from tests.support.attestations import NOW, PROVIDER, claims

US_ONLY = PolicySettings(id="us", version=1, audience="https://api.example", entitlements=("x",))


def drafts_of(raw: dict[str, Any]) -> dict[str, AttestationDraft]:
    return {d.kind: d for d in attestations_from_claims(raw, PROVIDER, now=NOW)}


def facts(drafts: dict[str, AttestationDraft]) -> SubjectFacts:
    return SubjectFacts(
        user_active=True,
        screened=True,
        attestations=tuple(
            AttestationFact(
                kind=d.kind,
                values=d.values,
                assurance=d.assurance,
                verified_at=d.verified_at,
                expires_at=d.expires_at,
                revoked=False,
                inconsistent=d.inconsistency is not None,
            )
            for d in drafts.values()
        ),
    )


@pytest.mark.parametrize(
    ("facts_claims", "contradiction"),
    [
        ({"nationalities": ["CHN"], "us_person_basis": "citizen"}, "do not include US"),
        ({"nationalities": ["ASM"], "us_person_basis": "us_national"}, "do not include US"),
        (
            {
                "nationalities": ["CAN"],
                "us_person_basis": "permanent_resident",
                "permanent_residence_country": "CAN",
            },
            "not in the United States",
        ),
    ],
)
def test_a_basis_its_own_evidence_contradicts_is_recorded_and_never_counts(
    facts_claims: dict[str, object], contradiction: str
) -> None:
    raw = claims()
    raw["verified_claims"]["claims"] = facts_claims
    drafts = drafts_of(raw)
    inconsistency = drafts["us_person_basis"].inconsistency
    assert inconsistency is not None
    assert contradiction in inconsistency
    decision = decide(US_ONLY, facts(drafts), NOW)
    assert isinstance(decision, Deny)
    assert decision.reasons == ("evidence_inconsistent",)


@pytest.mark.parametrize(
    "facts_claims",
    [
        {"nationalities": ["USA", "CHN"], "us_person_basis": "citizen"},  # a dual national
        {"nationalities": ["USA"], "us_person_basis": "us_national"},
        {
            "nationalities": ["MEX"],
            "us_person_basis": "permanent_resident",
            "permanent_residence_country": "USA",
        },
        {"nationalities": ["DEU"], "us_person_basis": "protected_individual"},  # e.g. asylee
        {"us_person_basis": "citizen"},  # no nationality attested: nothing to contradict
    ],
)
def test_consistent_evidence_is_a_us_person(facts_claims: dict[str, object]) -> None:
    raw = claims()
    raw["verified_claims"]["claims"] = facts_claims
    drafts = drafts_of(raw)
    assert drafts["us_person_basis"].inconsistency is None
    assert isinstance(decide(US_ONLY, facts(drafts), NOW), Grant)


def _element(facts_claims: dict[str, object], level: str = "IAL2", days: int = 30) -> Any:
    element = claims(verification={"assurance_level": level})["verified_claims"]
    element["verification"]["time"] = (
        (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    )
    element["claims"] = facts_claims
    return element


def test_an_array_of_verifications_is_evaluated_element_by_element() -> None:
    raw = {
        "sub": "s",
        "verified_claims": [
            _element({"nationalities": ["USA"], "us_person_basis": "citizen"}, "ial3", 10),
            _element({"nationalities": ["CHN"]}, "IAL2", 40),
        ],
    }
    drafts = drafts_of(raw)
    # Both nationalities count; the combined record is as weak and as old as its weakest
    # and oldest part.
    assert drafts["nationalities"].values == ("CN", "US")
    assert drafts["nationalities"].assurance == "IAL2"
    assert drafts["nationalities"].verified_at == NOW - timedelta(days=40)
    assert drafts["us_person_basis"].inconsistency is None
    assert isinstance(decide(US_ONLY, facts(drafts), NOW), Grant)


def test_a_contradiction_between_elements_is_the_same_inconsistency() -> None:
    raw = {
        "sub": "s",
        "verified_claims": [
            _element({"nationalities": ["CHN"]}),
            _element({"us_person_basis": "citizen"}),
        ],
    }
    drafts = drafts_of(raw)
    assert drafts["us_person_basis"].inconsistency is not None
    assert isinstance(decide(US_ONLY, facts(drafts), NOW), Deny)
    two_bases = {
        "sub": "s",
        "verified_claims": [
            _element({"nationalities": ["USA"], "us_person_basis": "citizen"}),
            _element({"nationalities": ["USA"], "us_person_basis": "permanent_resident"}),
        ],
    }
    inconsistency = drafts_of(two_bases)["us_person_basis"].inconsistency
    assert inconsistency is not None
    assert "different bases" in inconsistency
