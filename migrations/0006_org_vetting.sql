-- Vetting organisations: operators granted at run time, restricted-party screening lists
-- and their hits, and the e-mail domains organisations prove they control.

-- Operators named in the configuration need a restart to change; a grant takes effect at
-- the next request. Revoking deletes the row: the audit trail keeps the history.
CREATE TABLE operator_grants (
    user_id    uuid PRIMARY KEY REFERENCES users (id),
    reason     text NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
    granted_by text NOT NULL CHECK (length(granted_by) BETWEEN 1 AND 300),
    granted_at timestamptz NOT NULL
);

-- One imported list file (Consolidated Screening List format). The newest snapshot is the
-- one organisations are screened against; older ones stay for the record of past hits.
CREATE TABLE screening_snapshots (
    id          uuid PRIMARY KEY,
    -- Import order: the newest snapshot is the last imported, whatever the clocks said.
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    file_sha256 bytea NOT NULL CHECK (length(file_sha256) = 32),
    entries     integer NOT NULL CHECK (entries >= 0),
    names       integer NOT NULL CHECK (names >= 0),
    -- Entries per list source, e.g. {"Entity List (EL) - Bureau of Industry and Security": 12}.
    sources     jsonb NOT NULL DEFAULT '{}'::jsonb,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL
);

CREATE TABLE screening_entries (
    id            uuid PRIMARY KEY,
    snapshot_id   uuid NOT NULL REFERENCES screening_snapshots (id) ON DELETE CASCADE,
    -- Stable across snapshots (the list's `_id`, else entity number, else source + name):
    -- a hit an operator overrode is not raised again by the next import of the same entry.
    entry_key     text NOT NULL CHECK (length(entry_key) BETWEEN 1 AND 1000),
    source        text NOT NULL CHECK (length(source) BETWEEN 1 AND 300),
    entity_number text,
    type          text,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    alt_names     text[] NOT NULL DEFAULT '{}',
    programs      text[] NOT NULL DEFAULT '{}',
    addresses     text,
    source_list_url text
);
CREATE INDEX screening_entries_snapshot ON screening_entries (snapshot_id);

-- Every name of an entry (primary and alternates), normalised once at import, so a
-- screening loads plain strings and scores them without re-normalising the list.
CREATE TABLE screening_names (
    snapshot_id uuid NOT NULL REFERENCES screening_snapshots (id) ON DELETE CASCADE,
    entry_id    uuid NOT NULL REFERENCES screening_entries (id) ON DELETE CASCADE,
    name        text NOT NULL,
    normalized  text NOT NULL
);
CREATE INDEX screening_names_snapshot ON screening_names (snapshot_id);

-- A listed party an organisation's name resembles. An open hit blocks approval until an
-- operator overrides it with a justification; `cleared` means a later list no longer
-- matched it.
CREATE TABLE screening_hits (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organisations (id),
    snapshot_id   uuid NOT NULL REFERENCES screening_snapshots (id),
    entry_id      uuid NOT NULL REFERENCES screening_entries (id),
    entry_key     text NOT NULL,
    list_source   text NOT NULL,
    screened_name text NOT NULL,
    matched_name  text NOT NULL,
    score         real NOT NULL CHECK (score BETWEEN 0 AND 100),
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'overridden', 'cleared')),
    found_at      timestamptz NOT NULL,
    decided_at    timestamptz,
    decided_by    text,
    justification text CHECK (length(justification) BETWEEN 20 AND 2000),
    UNIQUE (org_id, entry_key)
);
CREATE INDEX screening_hits_open ON screening_hits (org_id) WHERE state = 'open';

-- Domains an organisation claims; verified by a TXT record `_idsvc-challenge.<domain>`
-- holding `challenge`. The challenge is published in DNS by design, so it is no secret and
-- is stored as is. Stored as IDNA A-labels, lower case, without the trailing dot.
CREATE TABLE org_domains (
    org_id          uuid NOT NULL REFERENCES organisations (id),
    domain          text NOT NULL CHECK (length(domain) BETWEEN 3 AND 253),
    challenge       text NOT NULL CHECK (length(challenge) BETWEEN 20 AND 100),
    created_at      timestamptz NOT NULL,
    verified_at     timestamptz,
    last_checked_at timestamptz,
    PRIMARY KEY (org_id, domain)
);
-- Many organisations may claim a domain; only one can prove it.
CREATE UNIQUE INDEX org_domains_verified ON org_domains (domain) WHERE verified_at IS NOT NULL;
