"""The pure decision: one table row per rule, and properties that must always hold."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsvc.policy.decision import Deny, Grant, SubjectFacts, decide
from idsvc.policy.model import PolicySettings
from tests.support.facts import NOW, fact, facts

POLICY = PolicySettings(id="m", version=2, audience="a", entitlements=("use",))
NO_CN = msgspec.structs.replace(POLICY, deny_nationalities=("CN",))
RECENT = msgspec.structs.replace(POLICY, max_attestation_age=30 * 86_400)


CITIZEN = (fact("us_person_basis", "citizen"), fact("nationalities", "US"))

TABLE = [
    ("citizen", POLICY, facts(*CITIZEN), ()),
    (
        "permanent-resident",
        POLICY,
        facts(fact("us_person_basis", "permanent_resident"), fact("nationalities", "MX")),
        (),
    ),
    ("protected-individual", POLICY, facts(fact("us_person_basis", "protected_individual")), ()),
    ("nothing", POLICY, facts(), ("attestation_missing",)),
    ("foreign-national", POLICY, facts(fact("nationalities", "DE")), ("not_us_person",)),
    (
        "expired",
        POLICY,
        facts(fact("us_person_basis", "citizen", expires_in_days=-1)),
        ("attestation_expired",),
    ),
    (
        "too-old-for-policy",
        RECENT,
        facts(fact("us_person_basis", "citizen", age_days=31)),
        ("attestation_expired",),
    ),
    (
        "low-assurance",
        POLICY,
        facts(fact("us_person_basis", "citizen", assurance="IAL1")),
        ("assurance_too_low",),
    ),
    (
        "revoked-only",
        POLICY,
        facts(fact("us_person_basis", "citizen", revoked=True)),
        ("attestation_missing",),
    ),
    ("disabled", POLICY, facts(*CITIZEN, active=False), ("user_disabled",)),
    ("dual-national-allowed", POLICY, facts(*CITIZEN, fact("nationalities", "CN")), ()),
    (
        "dual-national-denied",
        NO_CN,
        facts(*CITIZEN, fact("nationalities", "CN")),
        ("nationality_denied",),
    ),
    (
        "denied-even-if-expired",
        NO_CN,
        facts(*CITIZEN, fact("nationalities", "CN", expires_in_days=-5)),
        ("nationality_denied",),
    ),
    (
        "every-reason",
        NO_CN,
        facts(fact("nationalities", "CN"), active=False),
        ("user_disabled", "not_us_person", "nationality_denied"),
    ),
]


@pytest.mark.parametrize(("name", "policy", "subject", "reasons"), TABLE, ids=[t[0] for t in TABLE])
def test_rule(
    name: str, policy: PolicySettings, subject: SubjectFacts, reasons: tuple[str, ...]
) -> None:
    decision = decide(policy, subject, NOW)
    if reasons:
        assert isinstance(decision, Deny)
        assert decision.reasons == reasons
        assert decision.policy_ref == policy.ref
    else:
        assert isinstance(decision, Grant)
        assert decision.entitlements == policy.entitlements
        assert decision.policy_ref == "m@2" if policy is POLICY else True


def test_grant_reports_the_best_qualifying_assurance() -> None:
    decision = decide(
        POLICY,
        facts(
            fact("us_person_basis", "citizen", assurance="IAL3"),
            fact("us_person_basis", "citizen", assurance="IAL2"),
        ),
        NOW,
    )
    assert isinstance(decision, Grant)
    assert decision.assurance == "IAL3"


def test_policy_refuses_unknown_codes_at_load() -> None:
    with pytest.raises(ValueError, match="deny_nationalities"):
        PolicySettings(
            id="x", version=1, audience="a", entitlements=("e",), deny_nationalities=("ZZZ",)
        )
    assert PolicySettings(
        id="x", version=1, audience="a", entitlements=("e",), deny_nationalities=("chn", "CN")
    ).deny_nationalities == ("CN",)


attestation = st.builds(
    fact,
    st.sampled_from(["us_person_basis", "nationalities"]),
    st.sampled_from(["citizen", "permanent_resident", "US", "CN", "DE"]),
    assurance=st.sampled_from(["IAL1", "IAL2", "IAL3"]),
    age_days=st.integers(0, 400),
    expires_in_days=st.integers(-50, 400),
    revoked=st.booleans(),
)
subjects = st.builds(
    lambda atts, active: SubjectFacts(user_active=active, attestations=tuple(atts), screened=True),
    st.lists(attestation, max_size=6),
    st.booleans(),
)
policies = st.sampled_from([POLICY, NO_CN, RECENT])


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects)
def test_adding_a_denied_nationality_never_grants(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    with_cn = msgspec.structs.replace(
        subject, attestations=(*subject.attestations, fact("nationalities", "CN"))
    )
    if isinstance(decide(policy, subject, NOW), Deny) or "CN" in policy.deny_nationalities:
        assert isinstance(decide(policy, with_cn, NOW), Deny)


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects)
def test_an_expired_or_revoked_attestation_never_grants_alone(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    dead = tuple(
        msgspec.structs.replace(a, expires_at=NOW - timedelta(seconds=1))
        if i % 2
        else msgspec.structs.replace(a, revoked=True)
        for i, a in enumerate(subject.attestations)
    )
    assert isinstance(
        decide(policy, msgspec.structs.replace(subject, attestations=dead), NOW), Deny
    )


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects)
def test_lowering_assurance_never_turns_deny_into_grant(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    if not isinstance(decide(policy, subject, NOW), Deny):
        return
    weaker = tuple(msgspec.structs.replace(a, assurance="IAL1") for a in subject.attestations)
    assert isinstance(
        decide(policy, msgspec.structs.replace(subject, attestations=weaker), NOW), Deny
    )


@settings(max_examples=200, deadline=None)
@given(policy=policies, subject=subjects)
def test_grants_are_exactly_the_policy_and_deterministic(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    first, second = decide(policy, subject, NOW), decide(policy, subject, NOW)
    assert first == second
    if isinstance(first, Grant):
        assert first.entitlements == policy.entitlements
        assert first.lifetime <= 3600
