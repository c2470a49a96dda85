-- Bearer tokens an organisation's admin creates for its identity provider's SCIM client.
-- Only the SHA-256 of a token is kept; the token is shown once, at creation.
CREATE TABLE scim_tokens (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organisations (id),
    token_hash   bytea NOT NULL UNIQUE,
    label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id, created_at);
