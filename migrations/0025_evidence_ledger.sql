-- The evidence ledger (idsvc.evidence.ledger): a person's facts are read from every
-- attestation ever recorded, not only the newest of each provider and kind, because a
-- nationality or residency once attested counts for deny rules until an operator revokes
-- the evidence (re-proofing with one passport must not shed the other citizenship).
CREATE INDEX attestations_user_all ON attestations (user_id, kind);

-- A most-recent-country determination takes effect only when a second operator confirms
-- it (four eyes). Determinations recorded before this migration were made by one operator:
-- they stay on record, pending, until another operator confirms them.
ALTER TABLE attestations
    ADD COLUMN determined_by text,
    ADD COLUMN confirmed_by  text,
    ADD COLUMN confirmed_at  timestamptz,
    ADD CONSTRAINT attestations_confirmed_by_another
        CHECK (confirmed_by IS NULL OR confirmed_by IS DISTINCT FROM determined_by);
UPDATE attestations SET determined_by = 'unknown (before four eyes)'
WHERE kind = 'most_recent_country';

-- Every name ever verified for a person is screened, at every screening: one row per
-- (person, provider, name), never overwritten by a later sign-in that verified a shorter
-- name. Each row remembers the list snapshot it was last screened against, so that
-- issuance can tell a person screened against the current list from one never screened.
ALTER TABLE screened_people DROP CONSTRAINT screened_people_pkey;
ALTER TABLE screened_people
    ADD PRIMARY KEY (user_id, provider, name),
    ADD COLUMN screened_snapshot uuid REFERENCES screening_snapshots (id) ON DELETE SET NULL,
    ADD COLUMN screened_at       timestamptz;

-- Nobody was screened against a snapshot before this migration (the column is new), and
-- issuance now refuses the unscreened: the daily re-screen is made due at once, so the
-- first upkeep run after the upgrade screens every kept name against the newest list.
DELETE FROM scheduled_runs WHERE job = 'rescreen';
