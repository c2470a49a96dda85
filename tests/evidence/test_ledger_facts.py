"""The ledger's facts, read from records written by the service's own functions."""

from __future__ import annotations

import uuid
from datetime import timedelta

from idsvc import db
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.service import confirm_most_recent_country, record_most_recent_country
from idsvc.attestations.store import record_attestations
from idsvc.evidence.ledger import load_subject_facts
from idsvc.policy.decision import Deny, decide
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.four_eyes import TWO_OPERATORS

EAR = PolicySettings(
    id="ear", version=1, audience="a", entitlements=("use",), require_us_person=False,
    nationality_rule="most_recent", deny_nationality_groups=("D:5",),
)  # fmt: skip
# Screening is not this test's subject.
UNSCREENED_OK = ScreeningSettings(required=False)


def nationalities(clock: FakeClock, *codes: str) -> AttestationDraft:
    return AttestationDraft(
        kind="nationalities", values=codes, trust_framework="t", assurance="IAL2",
        verified_at=clock() - timedelta(days=1), expires_at=clock() + timedelta(days=300),
        evidence=(),
    )  # fmt: skip


async def test_a_re_recording_of_known_nationalities_does_not_lapse_a_determination(
    pool: db.Pool, clock: FakeClock
) -> None:
    """Found by the state machine (tests/evidence/test_ledger_state_machine.py): the ledger
    kept the *newest* superseded record of each set of values, so nationalities known before
    a determination, recorded again after it, looked new, and the determination lapsed."""
    async with db.transaction(pool) as conn:
        person = await create_user(conn, clock())
        await record_attestations(
            conn, user_id=person, provider="p", drafts=[nationalities(clock, "DE", "CN")],
            now=clock(),
        )  # fmt: skip
        clock.advance(60)
        proposed, _ = await record_most_recent_country(
            conn, user_id=person, country="DE", justification="naturalised in 2001, certificate",
            operator=uuid.uuid4(), now=clock(), rule=TWO_OPERATORS,
        )  # fmt: skip
        await confirm_most_recent_country(
            conn, user_id=person, attestation_id=proposed, operator=uuid.uuid4(), now=clock(),
            rule=TWO_OPERATORS,
        )  # fmt: skip
        for codes in (("DE", "CN"), ("DE",)):  # the same passports again, then one
            clock.advance(60)
            await record_attestations(
                conn, user_id=person, provider="p", drafts=[nationalities(clock, *codes)],
                now=clock(),
            )  # fmt: skip
        facts = await load_subject_facts(conn, person, screening=UNSCREENED_OK, now=clock())
    decision = decide(EAR, facts, clock())
    assert not isinstance(decision, Deny), decision
