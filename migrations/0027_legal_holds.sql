-- Four eyes, one mechanism: a decision one operator proposes and another approves
-- (idsvc.four_eyes). The action runs when the second operator approves it, in the same
-- transaction; a proposal lapses at expires_at.
CREATE TABLE pending_decisions (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('legal_hold.lift')),
    target      text NOT NULL CHECK (length(target) BETWEEN 1 AND 200),
    proposed_by text NOT NULL,
    proposed_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'expired')),
    decided_by  text,
    decided_at  timestamptz,
    -- The rule itself, also in the database: nobody approves their own proposal.
    CONSTRAINT pending_decisions_second_operator
        CHECK (decided_by IS NULL OR decided_by <> proposed_by)
);
-- One open proposal per action on a target.
CREATE UNIQUE INDEX pending_decisions_open ON pending_decisions (kind, target)
    WHERE state = 'pending';

-- Legal holds (15 CFR 762.6(b)): while an investigation or proceeding is known, a person's
-- or an organisation's records are kept: erasure by hand and by the retention job refuse.
-- Placed by one operator (keeping records is the safe side); lifted only by two.
CREATE TABLE legal_holds (
    id             uuid PRIMARY KEY,
    target         text NOT NULL CHECK (target ~ '^(user|org):[0-9a-f-]{36}$'),
    case_reference text NOT NULL CHECK (length(case_reference) BETWEEN 1 AND 100),
    -- Why, sealed under the person's (or the organisation's) data key: it may name people.
    reason         jsonb NOT NULL,
    placed_by      text NOT NULL,
    placed_at      timestamptz NOT NULL,
    lifted_by      text,
    lifted_at      timestamptz
);
CREATE INDEX legal_holds_active ON legal_holds (target) WHERE lifted_at IS NULL;
