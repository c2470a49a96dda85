-- Four eyes on every compliance decision (idsvc.four_eyes): the kinds of decision a
-- second operator must approve, what exactly was proposed (terms, sealed under the
-- person's or the organisation's key where they may name a fact about a person) and the
-- proposer's note. An approver approves these terms, not others: a proposal whose terms
-- differ from the approver's request is refused, and the proposer may replace their own.
ALTER TABLE pending_decisions DROP CONSTRAINT pending_decisions_kind_check;
ALTER TABLE pending_decisions ADD CONSTRAINT pending_decisions_kind_check CHECK (kind IN (
    'legal_hold.lift',
    'org.approve',
    'org.programs.grant',
    'person_hit.override',
    'most_recent_country.confirm',
    'attestation.reinstate',
    'erasure.despite_retention',
    'country_groups.sign_off'
));
ALTER TABLE pending_decisions DROP CONSTRAINT pending_decisions_state_check;
ALTER TABLE pending_decisions ADD CONSTRAINT pending_decisions_state_check
    CHECK (state IN ('pending', 'approved', 'expired', 'replaced'));
ALTER TABLE pending_decisions ADD COLUMN terms jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE pending_decisions ADD COLUMN note jsonb;
-- The operators' queue: what waits for a second operator, oldest first.
CREATE INDEX pending_decisions_queue ON pending_decisions (proposed_at) WHERE state = 'pending';

-- Determinations are confirmed through the same mechanism (kind
-- 'most_recent_country.confirm'), whose own constraint keeps the proposer from approving;
-- where a deployment waives four eyes (development), one operator both proposes and
-- confirms, which this older, determination-only rule would refuse.
ALTER TABLE attestations DROP CONSTRAINT attestations_confirmed_by_another;
