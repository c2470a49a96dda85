-- Every policy version the service has enforced, with its exact content. A version's
-- content never changes: a different content under a known id and version is refused at
-- start, so `pol` in a token always names one definite rule set.
CREATE TABLE policy_versions (
    policy_id     text NOT NULL,
    version       integer NOT NULL,
    audience      text NOT NULL,
    content       jsonb NOT NULL,
    content_hash  bytea NOT NULL,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (policy_id, version)
);
