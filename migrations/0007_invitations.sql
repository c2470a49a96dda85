-- Invitations by e-mail: a single-use code (only its SHA-256 is kept) for an invited
-- membership, accepted by signing in with a provider that verifies the same address.
CREATE TABLE invitations (
    membership_id uuid PRIMARY KEY REFERENCES memberships (id),
    org_id        uuid NOT NULL REFERENCES organisations (id),
    code_hash     bytea NOT NULL UNIQUE,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    sent_at       timestamptz,
    accepted_at   timestamptz,
    revoked_at    timestamptz
);
