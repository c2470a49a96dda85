"""A proofing provider's settings and the OIDC4IDA claims it sends, for the pure tests of
mapping claims to attestations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from idsvc.config.providers import ProviderSettings

__all__ = ["NOW", "PROVIDER", "claims"]

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROVIDER = ProviderSettings(
    id="proofer",
    display_name="Proofer",
    issuer="https://proofer.example",
    client_id="c",
    trusted_for=("sign_in", "nationality", "permanent_residency", "us_person_status"),
    trust_frameworks=("nist_800_63A",),
    assurance_map={"IAL2": "IAL2", "ial3": "IAL3"},
    max_evidence_age=365 * 86_400,
)


def claims(**overrides: Any) -> dict[str, Any]:
    verification = {
        "trust_framework": "nist_800_63A",
        "assurance_level": "IAL2",
        "time": (NOW - timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        "evidence": [
            {
                "type": "document",
                "document_details": {
                    "type": "passport",
                    "number": "X1234567",
                    "issuer": {"country_code": "USA"},
                },
            }
        ],
    }
    facts = {"nationalities": ["USA", "chn"], "us_person_basis": "citizen"}
    verification.update(overrides.pop("verification", {}))
    facts.update(overrides.pop("facts", {}))
    return {"sub": "s", "verified_claims": {"verification": verification, "claims": facts}}
