"""The pure parts of attestations: mapping a provider's claims, and a user's status."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from idsvc.attestations.mapping import EvidenceRefused, attestations_from_claims
from idsvc.attestations.status import user_status
from idsvc.attestations.store import Attestation
from idsvc.config.providers import ProviderSettings
from tests.support.attestations import NOW, PROVIDER, claims


def test_claims_become_normalised_attestations() -> None:
    drafts = {d.kind: d for d in attestations_from_claims(claims(), PROVIDER, now=NOW)}
    assert drafts["nationalities"].values == ("CN", "US")
    assert drafts["us_person_basis"].values == ("citizen",)
    assert drafts["nationalities"].expires_at == NOW - timedelta(days=30) + timedelta(days=365)
    # Evidence keeps type and issuing country, never the document number.
    assert drafts["nationalities"].evidence == (
        {"type": "document", "document_type": "passport", "issuing_country": "USA"},
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"facts": {"nationalities": ["ZZZ"]}}, "unknown_country_code"),
        ({"facts": {"nationalities": "USA"}}, "evidence_incomplete"),
        ({"facts": {"us_person_basis": "resident-ish"}}, "evidence_incomplete"),
        ({"verification": {"trust_framework": "self_asserted"}}, "trust_framework_not_accepted"),
        ({"verification": {"assurance_level": "IAL9"}}, "assurance_unknown"),
        ({"verification": {"time": "2020-01-01T00:00:00Z"}}, "evidence_expired"),
        ({"verification": {"time": "2030-01-01T00:00:00Z"}}, "evidence_incomplete"),
        ({"verification": {"time": "yesterday"}}, "evidence_incomplete"),
    ],
)
def test_bad_evidence_refuses_everything(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(EvidenceRefused) as caught:
        attestations_from_claims(claims(**overrides), PROVIDER, now=NOW)
    assert caught.value.reason == reason


def test_sign_in_only_provider_records_nothing() -> None:
    sign_in_only = ProviderSettings(
        id="corp", display_name="Corp", issuer="https://corp.example", client_id="c"
    )
    assert attestations_from_claims(claims(), sign_in_only, now=NOW) == []


def attestation(
    kind: str, values: list[str], *, expires: datetime, revoked: bool = False
) -> Attestation:
    return Attestation(
        id=uuid.uuid4(),
        kind=kind,
        attested_values=values,
        provider="p",
        trust_framework="nist_800_63A",
        assurance="IAL2",
        verified_at=NOW - timedelta(days=1),
        expires_at=expires,
        evidence=[],
        revoked_at=NOW if revoked else None,
        revoked_reason="r" if revoked else None,
    )


def test_status_valid_expired_revoked() -> None:
    later = NOW + timedelta(days=10)
    valid = user_status(
        [
            attestation("us_person_basis", ["citizen"], expires=later),
            attestation("nationalities", ["US"], expires=later),
        ],
        NOW,
    )
    assert valid.us_person is not None
    assert valid.missing == ()

    expired = user_status([attestation("us_person_basis", ["citizen"], expires=NOW)], NOW)
    assert expired.us_person is None
    assert "expired" in expired.missing[0]
    assert expired.attestations[0].state == "expired"

    revoked = user_status(
        [attestation("us_person_basis", ["citizen"], expires=later, revoked=True)], NOW
    )
    assert revoked.us_person is None
    assert "revoked" in revoked.missing[0]
