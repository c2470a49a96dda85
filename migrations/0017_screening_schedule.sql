-- An override is a judgement about a listed entry at a time; lists and people change, so
-- it lapses (default one year, [screening] override_validity) and the hit opens again at
-- the next screening that still finds it.
ALTER TABLE screening_hits ADD COLUMN override_expires_at timestamptz;
UPDATE screening_hits SET override_expires_at = decided_at + interval '365 days'
WHERE state = 'overridden';

-- When scheduled jobs last ran, shared by every instance: the daily re-screen runs once a
-- day in all, whichever instance gets there first (the row lock decides).
CREATE TABLE scheduled_runs (
    job         text PRIMARY KEY CHECK (length(job) <= 64),
    last_run_at timestamptz NOT NULL
);
