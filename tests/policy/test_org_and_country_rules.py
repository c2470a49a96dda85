"""Organisation and country-group rules of the pure decision: a table row per rule, and
properties (Hypothesis) that must hold whatever the facts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsvc.policy.country_groups import country_groups
from idsvc.policy.decision import (
    AttestationFact,
    Deny,
    Grant,
    MembershipFact,
    SubjectFacts,
    decide,
)
from idsvc.policy.model import OrgRequirement, PolicySettings

NOW = datetime(2026, 11, 22, tzinfo=UTC)
ORG = uuid.UUID(int=1)
OTHER_ORG = uuid.UUID(int=2)
BASE = PolicySettings(id="m", version=1, audience="a", entitlements=("use",))
ORG_POLICY = msgspec.structs.replace(
    BASE,
    organisation=OrgRequirement(programs=("critical-infrastructure",)),
    disclose=("org",),
)
ADMINS_ONLY = msgspec.structs.replace(
    ORG_POLICY, organisation=OrgRequirement(programs=(), roles=("admin",))
)
NO_D5 = msgspec.structs.replace(BASE, deny_nationality_groups=("D:5",))
NO_E1_RESIDENTS = msgspec.structs.replace(BASE, deny_residency_groups=("E:1",))
ONLY_US_CA = msgspec.structs.replace(
    BASE, require_us_person=False, allow_nationalities=("USA", "CA")
)


def attested(kind: str, *values: str, expires_in_days: int = 300) -> AttestationFact:
    return AttestationFact(
        kind=kind,
        values=values,
        assurance="IAL2",
        verified_at=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=expires_in_days),
        revoked=False,
    )


def member(
    *,
    org: uuid.UUID = ORG,
    org_status: str = "approved",
    programs: tuple[str, ...] = ("critical-infrastructure",),
    role: str = "member",
    status: str = "active",
) -> MembershipFact:
    return MembershipFact(
        org_id=org, org_status=org_status, org_programs=programs, role=role, status=status
    )


CITIZEN = (attested("us_person_basis", "citizen"), attested("nationalities", "US"))


def person(
    *memberships: MembershipFact, attestations: tuple[AttestationFact, ...] = CITIZEN
) -> SubjectFacts:
    return SubjectFacts(
        user_active=True, attestations=attestations, memberships=memberships, screened=True
    )


TABLE = [
    ("member-of-approved-org-in-program", ORG_POLICY, person(member()), ()),
    ("no-membership", ORG_POLICY, person(), ("org_required",)),
    ("org-pending", ORG_POLICY, person(member(org_status="pending")), ("org_not_approved",)),
    ("org-suspended", ORG_POLICY, person(member(org_status="suspended")), ("org_not_approved",)),
    ("org-without-program", ORG_POLICY, person(member(programs=())), ("org_not_in_program",)),
    (
        "membership-suspended",
        ORG_POLICY,
        person(member(status="suspended")),
        ("membership_inactive",),
    ),
    ("membership-invited", ORG_POLICY, person(member(status="invited")), ("membership_inactive",)),
    ("member-not-admin", ADMINS_ONLY, person(member()), ("role_not_allowed",)),
    ("admin", ADMINS_ONLY, person(member(role="admin")), ()),
    (
        "closest-membership-reported",
        ORG_POLICY,
        person(
            member(org=OTHER_ORG, org_status="rejected", programs=()), member(status="suspended")
        ),
        ("membership_inactive",),
    ),
    (
        "d5-national",
        NO_D5,
        person(attestations=(*CITIZEN, attested("nationalities", "CN"))),
        ("nationality_denied",),
    ),
    ("not-d5", NO_D5, person(attestations=(*CITIZEN, attested("nationalities", "FR"))), ()),
    (
        "e1-resident",
        NO_E1_RESIDENTS,
        person(attestations=(*CITIZEN, attested("permanent_residency", "IR"))),
        ("residency_denied",),
    ),
    (
        "allowed-nationality",
        ONLY_US_CA,
        person(attestations=(attested("nationalities", "CA"),)),
        (),
    ),
    (
        "not-allowed-nationality",
        ONLY_US_CA,
        person(attestations=(attested("nationalities", "FR"),)),
        ("nationality_not_allowed",),
    ),
    (
        "lapsed-nationality-evidence-is-expired-not-missing",
        ONLY_US_CA,
        person(attestations=(attested("nationalities", "CA", expires_in_days=-1),)),
        ("attestation_expired",),
    ),
    (
        "every-reason-at-once",
        msgspec.structs.replace(ORG_POLICY, deny_nationality_groups=("E:1",)),
        person(
            member(org_status="suspended", status="suspended"),
            attestations=(attested("nationalities", "IR"),),
        ),
        ("not_us_person", "nationality_denied", "org_not_approved", "membership_inactive"),
    ),
]


@pytest.mark.parametrize(
    ("policy", "subject", "reasons"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_rule(policy: PolicySettings, subject: SubjectFacts, reasons: tuple[str, ...]) -> None:
    decision = decide(policy, subject, NOW)
    if reasons:
        assert isinstance(decision, Deny)
        assert decision.reasons == reasons
    else:
        assert isinstance(decision, Grant), decision


def test_grant_names_the_organisation_that_satisfied_the_policy() -> None:
    decision = decide(ORG_POLICY, person(member(org=OTHER_ORG, programs=()), member(org=ORG)), NOW)
    assert isinstance(decision, Grant)
    assert decision.org is not None
    assert decision.org.id == ORG
    assert decision.org.programs == ("critical-infrastructure",)


def test_country_groups_come_from_the_data_file_with_their_source() -> None:
    groups = country_groups()
    assert set(groups.groups) == {"D:1", "D:2", "D:3", "D:4", "D:5", "E:1", "E:2"}
    assert groups.effective
    assert groups.source_url.startswith("https://")
    assert "KP" in groups.expand(("E:1",))
    assert groups.expand(("E:2",)) == frozenset({"CU"})


@pytest.mark.parametrize(
    ("group", "country", "member"),
    [
        # 87 FR 13048 (2022-03-02): Belarus moved from A:4 to D:2 and D:4.
        ("D:2", "BY", True),
        ("D:4", "BY", True),
        # Conforming Change for Cambodia, RIN 0694-AK41 (2026-02-03): out of D:5.
        ("D:5", "KH", False),
    ],
)
def test_country_groups_follow_the_rules_that_changed_them(
    group: str, country: str, member: bool
) -> None:
    assert (country in country_groups().expand((group,))) is member
    policy = msgspec.structs.replace(BASE, deny_nationality_groups=(group,))
    decision = decide(
        policy, person(attestations=(*CITIZEN, attested("nationalities", country))), NOW
    )
    assert isinstance(decision, Deny) is member


def test_unknown_groups_and_org_claims_without_org_fail_at_load() -> None:
    with pytest.raises(ValueError, match="deny_nationality_groups: unknown country group 'D:9'"):
        msgspec.structs.replace(BASE, deny_nationality_groups=("D:9",))
    with pytest.raises(ValueError, match="disclose"):
        msgspec.structs.replace(BASE, disclose=("org",))


countries = st.sampled_from(["US", "CA", "FR", "CN", "IR", "KP", "RU", "CU", "MX", "DE"])
memberships = st.builds(
    MembershipFact,
    org_id=st.sampled_from([ORG, OTHER_ORG]),
    org_status=st.sampled_from(["pending", "approved", "rejected", "suspended"]),
    org_programs=st.lists(st.sampled_from(["critical-infrastructure", "research"]), max_size=2).map(
        tuple
    ),
    role=st.sampled_from(["admin", "member"]),
    status=st.sampled_from(["invited", "pending", "active", "suspended"]),
)
subjects = st.builds(
    lambda ms, nats, res: SubjectFacts(
        user_active=True,
        screened=True,
        attestations=(
            *CITIZEN,
            *(attested("nationalities", n) for n in nats),
            *(attested("permanent_residency", r) for r in res),
        ),
        memberships=tuple(ms),
    ),
    st.lists(memberships, max_size=3),
    st.lists(countries, max_size=3),
    st.lists(countries, max_size=2),
)
policies = st.sampled_from([ORG_POLICY, ADMINS_ONLY, NO_D5, NO_E1_RESIDENTS, ONLY_US_CA, BASE])


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects, extra=countries)
def test_adding_a_nationality_in_a_denied_group_never_grants(
    policy: PolicySettings, subject: SubjectFacts, extra: str
) -> None:
    denied = policy.country_rules().denied_nationalities
    if extra not in denied:
        return
    more = msgspec.structs.replace(
        subject, attestations=(*subject.attestations, attested("nationalities", extra))
    )
    assert isinstance(decide(policy, more, NOW), Deny)


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects)
def test_losing_memberships_never_turns_a_deny_into_a_grant(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    if isinstance(decide(policy, subject, NOW), Grant):
        return
    for kept in range(len(subject.memberships)):
        fewer = msgspec.structs.replace(subject, memberships=subject.memberships[:kept])
        assert isinstance(decide(policy, fewer, NOW), Deny)


@settings(max_examples=300, deadline=None)
@given(policy=policies, subject=subjects)
def test_a_grant_under_an_org_policy_always_names_a_qualifying_membership(
    policy: PolicySettings, subject: SubjectFacts
) -> None:
    decision = decide(policy, subject, NOW)
    if not isinstance(decision, Grant) or policy.organisation is None:
        return
    assert decision.org is not None
    assert any(
        m.org_id == decision.org.id
        and m.org_status == "approved"
        and m.status == "active"
        and set(policy.organisation.programs) <= set(m.org_programs)
        for m in subject.memberships
    )
