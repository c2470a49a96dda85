-- OAuth 2.0 for programs: device authorizations (RFC 8628) and the refresh-token grants
-- they create. Codes and refresh tokens are stored as SHA-256 hashes only: a database
-- leak yields nothing a client could present.
CREATE TABLE device_authorizations (
    device_code_hash bytea PRIMARY KEY,
    -- What the person types; stored normalised (upper-case, no dash) and unique while live.
    user_code        text NOT NULL CHECK (user_code ~ '^[BCDFGHJKLMNPQRSTVWXZ]{8}$'),
    client_id        text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
    status           text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
    user_id          uuid REFERENCES users (id),
    poll_interval    integer NOT NULL CHECK (poll_interval BETWEEN 1 AND 60),
    last_polled_at   timestamptz,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    decided_at       timestamptz
);
CREATE UNIQUE INDEX device_authorizations_live_user_code ON device_authorizations (user_code)
    WHERE status = 'pending';

-- One grant per approval. Refresh tokens rotate inside it; presenting an already rotated
-- refresh token revokes the whole grant (OAuth 2.0 Security BCP, refresh token reuse).
CREATE TABLE oauth_grants (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id),
    client_id      text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
    -- RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key.
    dpop_jkt       text CHECK (dpop_jkt ~ '^[A-Za-z0-9_-]{43}$'),
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    revoked_reason text CHECK (length(revoked_reason) <= 200)
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    grant_id   uuid NOT NULL REFERENCES oauth_grants (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    -- Set when the token is exchanged for its successor; a second use is reuse.
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
