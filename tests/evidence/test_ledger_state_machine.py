"""The evidence ledger's invariants over sequences of events, against an oracle.

A Hypothesis state machine drives one person through arbitrary sequences of what happens
in production, each through the service's own functions on a real PostgreSQL: sign-ins at
two providers with any subset of nationalities, residency, U.S.-person basis, assurance,
verification age and name (the claims go through the real OIDC4IDA mapping); operators'
revocations, overrides and most-recent-country determinations (proposed by one operator,
confirmed by another); list imports with the listed person present or gone; daily
re-screens; membership changes; time passing. After every step, for every policy of a
fixed set, idsvc's decision (the ledger's facts through the pure decision, as issuance
reads them) must equal the oracle's, which is written from the rules in
docs/attestations.md and docs/screening.md, not from the code.

Bounded in the default run; ``IDSVC_STATE_MACHINE_EXAMPLES`` (the slow tier sets it
higher) runs it longer.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from idsvc import db
from idsvc.attestations.errors import DeterminationUnsupported
from idsvc.attestations.mapping import attestations_from_claims, verified_person
from idsvc.attestations.service import confirm_most_recent_country, record_most_recent_country
from idsvc.attestations.store import record_attestations, revoke_attestation
from idsvc.config.providers import ProviderSettings
from idsvc.evidence.ledger import load_subject_facts
from idsvc.orgs.members.service import set_member_status
from idsvc.orgs.vetting.screening_hits import rescreen_all
from idsvc.policy.country_groups import country_groups
from idsvc.policy.decision import Grant, decide
from idsvc.policy.model import OrgRequirement, PolicySettings
from idsvc.rescreening.importing import import_list
from idsvc.screening.list_files import parse_list
from idsvc.screening.service import override_person_hit, remember_person, screen_person
from idsvc.settings import ScreeningSettings
from tests.support.factories import add_member, create_org, create_user
from tests.support.four_eyes import ONE_OPERATOR, TWO_OPERATORS

THRESHOLD = 88.0
SCREENING = ScreeningSettings(required=True, max_list_age=14 * 86_400)
EVIDENCE_DAYS = 30
LISTED_NAME = "Dana Petrovna Dual"  # matches the listed entry
SHORT_NAME = "Dana Dual"  # the same person without her patronymic: matches nothing
OPERATOR_A, OPERATOR_B = uuid.uuid4(), uuid.uuid4()
D5_E1 = country_groups().expand(("D:5", "E:1"))
D5 = country_groups().expand(("D:5",))
RANK = {"IAL1": 1, "IAL2": 2}

_base = PolicySettings(id="p", version=1, audience="a", entitlements=("use",))
POLICIES = {
    "deny CN": msgspec.structs.replace(_base, id="deny-cn", deny_nationalities=("CN",)),
    "deny D:5+E:1": msgspec.structs.replace(
        _base, id="deny-groups", deny_nationality_groups=("D:5", "E:1")
    ),
    "U.S. persons at IAL2": msgspec.structs.replace(_base, id="us-persons"),
    "most_recent + deny D:5": msgspec.structs.replace(
        _base, id="ear", require_us_person=False, nationality_rule="most_recent",
        deny_nationality_groups=("D:5",),
    ),
    # A policy that admits self-asserted identities: the waiver still needs IAL2.
    "most_recent + deny D:5, IAL1": msgspec.structs.replace(
        _base, id="ear-ial1", require_us_person=False, nationality_rule="most_recent",
        deny_nationality_groups=("D:5",), min_assurance="IAL1",
    ),
    "org program": msgspec.structs.replace(
        _base, id="program", require_us_person=False,
        organisation=OrgRequirement(programs=("research",)),
    ),
}  # fmt: skip


def _provider(provider_id: str) -> ProviderSettings:
    return ProviderSettings(
        id=provider_id,
        display_name=provider_id,
        issuer=f"https://{provider_id}.example",
        client_id="idsvc",
        trusted_for=("sign_in", "nationality", "permanent_residency", "us_person_status"),
        trust_frameworks=("nist_800_63A",),
        assurance_map={"IAL1": "IAL1", "IAL2": "IAL2"},
        max_evidence_age=EVIDENCE_DAYS * 86_400,
    )


PROVIDERS = {p: _provider(p) for p in ("idp-a", "idp-b")}


def _list(listed: bool) -> bytes:
    source = "Specially Designated Nationals (SDN) - Treasury Department"
    entries = [
        {"id": f"pad-{i}", "name": f"Padding Shipping Company {i}", "type": "Entity",
         "source": source}
        for i in range(3)
    ]  # fmt: skip
    if listed:
        entries.append(
            {"id": "sdn-1", "name": "DUAL, Dana Petrovna", "type": "Individual", "source": source}
        )
    return json.dumps({"total": len(entries), "results": entries}).encode()


# The oracle ---------------------------------------------------------------------------


@dataclass
class Record:
    db_id: uuid.UUID
    provider: str
    kind: str
    values: frozenset[str]
    assurance: str
    recorded_at: datetime
    expires_at: datetime
    inconsistent: bool
    current: bool = True
    revoked: bool = False


@dataclass
class Person:
    records: list[Record] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    list_imported_at: datetime | None = None
    entry_listed: bool = False
    hit: str | None = None  # None, "open", "overridden", "cleared"
    determination: tuple[str, datetime] | None = None
    member_active: bool = True

    def unrevoked(self, *kinds: str) -> list[Record]:
        return [r for r in self.records if r.kind in kinds and not r.revoked]

    def values(self, *kinds: str) -> set[str]:
        return {v for r in self.unrevoked(*kinds) for v in r.values}

    def us_person(self, now: datetime) -> bool:
        """A current, unrevoked, consistent, unexpired basis at IAL2 (every policy here
        asks IAL2, and the most-recent waiver always does)."""
        return any(
            r.current and not r.inconsistent and r.expires_at > now and RANK[r.assurance] >= 2
            for r in self.unrevoked("us_person_basis")
        )

    def nationality_backed(self, now: datetime, level: int = 2) -> bool:
        current = [r for r in self.unrevoked("nationalities") if r.current and r.expires_at > now]
        return any(RANK[r.assurance] >= level for r in current)

    def screened(self, now: datetime) -> bool:
        fresh = self.list_imported_at is not None and (
            now - self.list_imported_at <= timedelta(days=14)
        )
        return fresh and bool(self.names)

    def most_recent(self) -> str | None:
        if self.determination is None:
            return None
        country, at = self.determination
        evidence = self.unrevoked("nationalities", "permanent_residency")
        if country == "US" or country not in {v for r in evidence for v in r.values}:
            return None
        known = {v for r in evidence if r.recorded_at <= at for v in r.values}
        later = {v for r in evidence if r.recorded_at > at for v in r.values}
        return None if later - known else country

    def reasons_that_must_agree(self, policy: str, now: datetime) -> dict[str, bool]:
        """Whether each reason the oracle can tell apart must be among idsvc's reasons,
        whatever else refuses: a deny rule's reason appears even for a person refused
        on other grounds, so the invariants are checked in every state, not only in the
        rare one where everything else grants."""
        expected = {
            "screening_review": self.hit == "open",
            "screening_unavailable": not self.screened(now),
        }
        nationalities = self.values("nationalities")
        if policy == "deny CN":
            expected["nationality_denied"] = "CN" in nationalities
        elif policy == "deny D:5+E:1":
            expected["nationality_denied"] = bool(nationalities & D5_E1)
        elif policy.startswith("most_recent"):
            country = None if self.us_person(now) else self.most_recent()
            waived = self.us_person(now)
            expected["most_recent_country_unknown"] = not waived and country is None
            expected["nationality_denied"] = country is not None and country in D5
        return expected

    def grants(self, policy: str, now: datetime) -> bool:
        if not self.screened(now) or self.hit == "open":
            return False
        nationalities = self.values("nationalities")
        if policy == "deny CN":
            return self.us_person(now) and "CN" not in nationalities
        if policy == "deny D:5+E:1":
            return self.us_person(now) and not nationalities & D5_E1
        if policy == "U.S. persons at IAL2":
            return self.us_person(now)
        if policy.startswith("most_recent + deny D:5"):
            if not self.nationality_backed(now, 1 if policy.endswith("IAL1") else 2):
                return False
            if self.us_person(now):
                return True
            country = self.most_recent()
            return country is not None and country not in D5
        assert policy == "org program"
        return self.nationality_backed(now) and self.member_active


# The machine ----------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    database_url: str  # set by the test
    loop: asyncio.AbstractEventLoop
    # Events run in all examples of a test (printed by it, for the record).
    events = 0

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def start(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC)
        self.model = Person()
        self.steps = 0
        self.run(self._start())

    async def _start(self) -> None:
        self.conn = await db.connect(self.database_url)
        # Lists are global: each example starts with none.
        await self.conn.execute(
            "TRUNCATE screening_snapshots, screening_entries, screening_names, "
            "screened_people, person_screening_hits, screening_hits CASCADE"
        )
        async with self.conn.transaction():
            self.user = await create_user(self.conn, self.now)
            org = await create_org(self.conn, self.now, programs=("research",))
            self.membership = await add_member(self.conn, self.now, org, self.user)
            self.org = org

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.run(self.conn.close())

    def tick(self, seconds: float = 1) -> None:
        # Every event happens at its own moment, as with a real clock.
        self.now += timedelta(seconds=seconds)
        self.steps += 1
        LedgerMachine.events += 1

    # Events ---------------------------------------------------------------------------

    @rule(
        provider=st.sampled_from(sorted(PROVIDERS)),
        nationalities=st.sets(st.sampled_from(["USA", "CHN", "DEU", "IRN"]), max_size=3),
        residence=st.sampled_from([None, "USA", "CHN"]),
        basis=st.sampled_from([None, "citizen", "permanent_resident"]),
        assurance=st.sampled_from(["IAL1", "IAL2"]),
        verified_days_ago=st.integers(min_value=0, max_value=20),
        name=st.sampled_from([None, LISTED_NAME, SHORT_NAME]),
    )
    def sign_in(
        self,
        provider: str,
        nationalities: set[str],
        residence: str | None,
        basis: str | None,
        assurance: str,
        verified_days_ago: int,
        name: str | None,
    ) -> None:
        self.tick()
        verified_at = self.now - timedelta(days=verified_days_ago)
        claims: dict[str, object] = {}
        if nationalities:
            claims["nationalities"] = sorted(nationalities)
        if residence:
            claims["permanent_residence_country"] = residence
        if basis:
            claims["us_person_basis"] = basis
        if name:
            given, _, family = name.rpartition(" ")
            claims.update(given_name=given, family_name=family)
        oidc = {
            "sub": "s",
            "verified_claims": {
                "verification": {
                    "trust_framework": "nist_800_63A",
                    "assurance_level": assurance,
                    "time": verified_at.isoformat(),
                },
                "claims": claims,
            },
        }
        settings_ = PROVIDERS[provider]
        drafts = attestations_from_claims(oidc, settings_, now=self.now)
        person = verified_person(oidc, settings_)
        full = " ".join(p for p in (person.given_name, person.family_name) if p) or None
        ids = self.run(self._sign_in(provider, drafts, full))
        for draft, db_id in zip(drafts, ids, strict=True):
            for r in self.model.records:
                if r.provider == provider and r.kind == draft.kind:
                    r.current = False
            self.model.records.append(
                Record(
                    db_id=db_id, provider=provider, kind=draft.kind, values=frozenset(draft.values),
                    assurance=draft.assurance, recorded_at=self.now,
                    expires_at=verified_at + timedelta(days=EVIDENCE_DAYS),
                    inconsistent=_contradicts(draft.kind, nationalities, residence, basis),
                )
            )  # fmt: skip
        if full:
            self.model.names.add(full)
        self._screened_now(clear=False)

    async def _sign_in(self, provider: str, drafts, name: str | None) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
        # What oidc.attach does after the identity checks, in its order.
        async with self.conn.transaction():
            ids = await record_attestations(
                self.conn, user_id=self.user, provider=provider, drafts=drafts, now=self.now
            )
            if name:
                await remember_person(self.conn, user_id=self.user, name=name, birthdate=None,
                                      provider=provider, now=self.now)  # fmt: skip
                await screen_person(self.conn, user_id=self.user, threshold=THRESHOLD,
                                    actor="system", now=self.now)  # fmt: skip
        return ids

    @precondition(lambda self: any(not r.revoked for r in self.model.records))
    @rule(data=st.data())
    def operator_revokes(self, data: st.DataObject) -> None:
        self.tick()
        record = data.draw(st.sampled_from([r for r in self.model.records if not r.revoked]))
        self.run(self._revoke(record.db_id))
        record.revoked = True

    async def _revoke(self, attestation: uuid.UUID) -> None:
        async with self.conn.transaction():
            await revoke_attestation(self.conn, attestation, actor=f"user:{OPERATOR_A}",
                                     reason="the document was forged", now=self.now)  # fmt: skip

    @rule(listed=st.booleans())
    def list_imported(self, listed: bool) -> None:
        self.tick()
        data = _list(listed)
        self.run(self._import(data))
        self.model.list_imported_at = self.now
        self.model.entry_listed = listed
        self._screened_now(clear=True)

    async def _import(self, data: bytes) -> None:
        async with self.conn.transaction():
            await import_list(self.conn, data=data, rows=parse_list(data), actor="test",
                              now=self.now, force=False, max_entry_drop=0.5,
                              threshold=THRESHOLD)  # fmt: skip

    @rule()
    def daily_rescreen(self) -> None:
        self.tick()
        self.run(self._rescreen())
        self._screened_now(clear=True)

    async def _rescreen(self) -> None:
        async with self.conn.transaction():
            await rescreen_all(self.conn, threshold=THRESHOLD, now=self.now)

    @precondition(lambda self: self.model.hit == "open")
    @rule()
    def operator_overrides_hit(self) -> None:
        self.tick()
        self.run(self._override())
        self.model.hit = "overridden"

    async def _override(self) -> None:
        async with self.conn.transaction():
            hit = await self.conn.fetchval(
                "SELECT id FROM person_screening_hits WHERE user_id = $1 AND state = 'open'",
                self.user,
            )
            await override_person_hit(
                self.conn, user_id=self.user, hit_id=hit,
                justification="Different person: the listed one was born in 1950.",
                actor=f"user:{OPERATOR_A}", now=self.now, validity=timedelta(days=365),
                rule=ONE_OPERATOR,
            )  # fmt: skip

    @rule(country=st.sampled_from(["DE", "CN", "IR", "AT", "US"]))
    def operators_determine_most_recent_country(self, country: str) -> None:
        self.tick()
        supported = country != "US" and country in self.model.values(
            "nationalities", "permanent_residency"
        )
        accepted = self.run(self._determine(country))
        assert accepted == supported, (country, accepted)
        if accepted:
            self.model.determination = (country, self.now)

    async def _determine(self, country: str) -> bool:
        try:
            async with self.conn.transaction():
                determination, _ = await record_most_recent_country(
                    self.conn, user_id=self.user, country=country,
                    justification="naturalised 2019, per the certificate",
                    operator=OPERATOR_A, now=self.now, rule=TWO_OPERATORS,
                )  # fmt: skip
                await confirm_most_recent_country(
                    self.conn, user_id=self.user, attestation_id=determination,
                    operator=OPERATOR_B, now=self.now, rule=TWO_OPERATORS,
                )  # fmt: skip
        except DeterminationUnsupported:
            return False
        return True

    @rule(active=st.booleans())
    def admin_changes_membership(self, active: bool) -> None:
        self.tick()
        self.run(self._membership("active" if active else "suspended"))
        self.model.member_active = active

    async def _membership(self, status: str) -> None:
        async with self.conn.transaction():
            await set_member_status(self.conn, org_id=self.org, membership_id=self.membership.id,
                                    status=status, actor="test", now=self.now)  # type: ignore[arg-type]  # fmt: skip

    @rule(days=st.sampled_from([1, 6, 12]))
    def time_passes(self, days: int) -> None:
        self.tick(days * 86_400)

    def _screened_now(self, *, clear: bool) -> None:
        """The oracle's screening: every name, against the newest list, if there is one."""
        model = self.model
        if model.list_imported_at is None:
            return
        matches = model.entry_listed and LISTED_NAME in model.names
        if matches and model.hit in (None, "cleared"):
            model.hit = "open"
        if clear and not model.entry_listed and model.hit == "open":
            model.hit = "cleared"

    # The invariant -----------------------------------------------------------------------

    @invariant()
    def decisions_match_the_oracle(self) -> None:
        if not hasattr(self, "conn"):
            return
        facts = self.run(
            load_subject_facts(self.conn, self.user, screening=SCREENING, now=self.now)
        )
        for name, policy in POLICIES.items():
            decision = decide(policy, facts, self.now)
            granted = isinstance(decision, Grant)
            assert granted == self.model.grants(name, self.now), (name, decision, self.model)
            reasons = () if granted else decision.reasons  # type: ignore[union-attr]
            for reason, present in self.model.reasons_that_must_agree(name, self.now).items():
                assert (reason in reasons) == present, (name, reason, decision, self.model)


def _contradicts(
    kind: str, nationalities: set[str], residence: str | None, basis: str | None
) -> bool:
    """docs/attestations.md, "Evidence that contradicts itself"."""
    if kind != "us_person_basis":
        return False
    if basis == "citizen" and nationalities and "USA" not in nationalities:
        return True
    return basis == "permanent_resident" and residence is not None and residence != "USA"


EXAMPLES = int(os.environ.get("IDSVC_STATE_MACHINE_EXAMPLES", "30"))


def _run(database_url: str, *, examples: int, steps: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        LedgerMachine.database_url = database_url
        LedgerMachine.loop = loop
        LedgerMachine.events = 0
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.close()
        print(f"{LedgerMachine.events} events in {examples} examples")


def test_the_ledger_decides_as_the_oracle_over_every_sequence(database_url: str) -> None:
    _run(database_url, examples=EXAMPLES, steps=40)


@pytest.mark.slow
def test_the_ledger_over_longer_sequences(database_url: str) -> None:
    """The slow tier: more and longer sequences."""
    _run(
        database_url,
        examples=int(os.environ.get("IDSVC_STATE_MACHINE_LONG_EXAMPLES", "100")),
        steps=60,
    )
