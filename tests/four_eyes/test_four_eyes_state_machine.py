"""Four eyes over every sequence: operators propose, approve, re-propose with other terms,
try their own proposals and let time pass, in any order; a Hypothesis state machine checks
each answer of ``propose_or_approve`` against an oracle of the rules (docs/four-eyes.md) and,
after every step, what the database holds: at most one open proposal, no approval by its
proposer, every refusal audited."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from idsvc import db
from idsvc.db import keeping_refusals
from idsvc.four_eyes.errors import ConflictOfInterest, OwnProposal, ProposalDiffers
from idsvc.four_eyes.service import Approved, FourEyes, Proposed, propose_or_approve

VALIDITY = timedelta(days=7)
OPERATORS = ("user:a", "user:b")
STAKEHOLDER = "user:c"  # the organisation's requester: never takes part


@dataclass
class Pending:
    proposer: str
    terms: dict[str, int]
    expires_at: datetime


class FourEyesMachine(RuleBasedStateMachine):
    database_url: str  # set by the test
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def start(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC)
        self.target = f"org:{uuid.uuid4()}"
        self.pending: Pending | None = None
        self.refusals = 0
        self.approvals = 0
        self.conn = self.run(db.connect(self.database_url))

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.run(self.conn.close())

    async def _call(self, actor: str, terms: dict[str, int]) -> object:
        try:
            async with keeping_refusals(self.conn):
                return await propose_or_approve(
                    self.conn, kind="org.approve", target=self.target, actor=actor,
                    now=self.now, rule=FourEyes(validity=VALIDITY), terms=terms,
                    conflicted={STAKEHOLDER: "requested this organisation"},
                )  # fmt: skip
        except (ConflictOfInterest, OwnProposal, ProposalDiffers) as refusal:
            return refusal

    @rule(actor=st.sampled_from((*OPERATORS, STAKEHOLDER)), value=st.sampled_from((1, 2)))
    def an_operator_asks(self, actor: str, value: int) -> None:
        terms = {"status": value}
        outcome = self.run(self._call(actor, terms))
        if actor == STAKEHOLDER:
            assert isinstance(outcome, ConflictOfInterest)
            self.refusals += 1
            return
        if self.pending is not None and self.pending.expires_at <= self.now:
            self.pending = None  # lapsed
        if self.pending is None:
            assert isinstance(outcome, Proposed), outcome
            self.pending = Pending(actor, terms, self.now + VALIDITY)
        elif actor != self.pending.proposer and terms == self.pending.terms:
            assert isinstance(outcome, Approved), outcome
            assert outcome.proposed_by == self.pending.proposer
            self.approvals += 1
            self.pending = None
        elif actor != self.pending.proposer:
            assert isinstance(outcome, ProposalDiffers), outcome
            self.refusals += 1
        elif terms == self.pending.terms:
            assert isinstance(outcome, OwnProposal), outcome
            self.refusals += 1
        else:  # the proposer replaces their own proposal
            assert isinstance(outcome, Proposed), outcome
            self.pending = Pending(actor, terms, self.now + VALIDITY)

    @rule(hours=st.sampled_from((1, 24, 6 * 24, 8 * 24)))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @invariant()
    def the_database_agrees(self) -> None:
        if not hasattr(self, "conn"):
            return
        rows = self.run(
            self.conn.fetch(
                "SELECT state, proposed_by, decided_by FROM pending_decisions WHERE target = $1",
                self.target,
            )
        )
        assert sum(r["state"] == "pending" for r in rows) <= 1
        approved = [r for r in rows if r["state"] == "approved"]
        assert len(approved) == self.approvals
        assert all(r["decided_by"] not in (None, r["proposed_by"]) for r in approved)
        refused = self.run(
            self.conn.fetchval(
                "SELECT count(*) FROM audit_events "
                "WHERE action = 'four_eyes.refused' AND target = $1",
                self.target,
            )
        )
        assert refused == self.refusals


def test_four_eyes_holds_over_every_sequence(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        FourEyesMachine.database_url = database_url
        FourEyesMachine.loop = loop
        run_state_machine_as_test(
            FourEyesMachine,
            settings=settings(
                max_examples=40,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.close()
