-- Secondary fields of listed entries, to rank and explain hits (never to drop one).
ALTER TABLE screening_entries
    ADD COLUMN dates_of_birth text[] NOT NULL DEFAULT '{}',
    ADD COLUMN nationalities  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN citizenships   text[] NOT NULL DEFAULT '{}',
    ADD COLUMN countries      text[] NOT NULL DEFAULT '{}';

-- People are screened too: every name (and birth date, when given) that an identity-proofing
-- provider verified for the person, one row per provider, each screened at every screening:
-- a second provider's (or a shorter) name must never replace the one that matched.
-- Personal data; operators only.
CREATE TABLE screened_people (
    user_id      uuid NOT NULL REFERENCES users (id),
    provider     text NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    birthdate    date,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, provider)
);

-- A person's hits, kept per (person, listed entry) like an organisation's. An open hit
-- holds the person's eligibility (reason screening_review) until an operator clears it.
CREATE TABLE person_screening_hits (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    snapshot_id         uuid NOT NULL REFERENCES screening_snapshots (id),
    entry_id            uuid NOT NULL REFERENCES screening_entries (id),
    entry_key           text NOT NULL,
    list_source         text NOT NULL,
    screened_name       text NOT NULL,
    matched_name        text NOT NULL,
    score               real NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- The verified birth date against the entry's dates of birth (screening.people).
    birthdate_match     text NOT NULL
        CHECK (birthdate_match IN ('same', 'same_year', 'different', 'unknown')),
    state               text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'overridden', 'cleared')),
    found_at            timestamptz NOT NULL,
    decided_at          timestamptz,
    decided_by          text,
    justification       text CHECK (length(justification) BETWEEN 20 AND 2000),
    override_expires_at timestamptz,
    UNIQUE (user_id, entry_key)
);
CREATE INDEX person_screening_hits_open ON person_screening_hits (user_id) WHERE state = 'open';
