-- People, their upstream identities, browser sessions, sign-in transactions, and the
-- attestations proofing providers made about them.

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- Personal data: shown to the user and to operators only, never logged or put in tokens.
    email           text CHECK (length(email) <= 320),
    email_verified  boolean NOT NULL DEFAULT false,
    display_name    text CHECK (length(display_name) <= 200),
    created_at      timestamptz NOT NULL,
    disabled_at     timestamptz,
    disabled_reason text
);

-- An identity is the pair (provider, subject). Accounts are never linked by e-mail alone:
-- a second identity joins a user only while that user is signed in.
CREATE TABLE identities (
    provider       text NOT NULL CHECK (length(provider) BETWEEN 1 AND 64),
    subject        text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id        uuid NOT NULL REFERENCES users (id),
    email          text CHECK (length(email) <= 320),
    email_verified boolean NOT NULL DEFAULT false,
    linked_at      timestamptz NOT NULL,
    last_login_at  timestamptz NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- Server-side sessions; the cookie carries a random id whose SHA-256 is stored here, so
-- a database leak yields no usable session.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    csrf_secret  bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- One pending authorization request per sign-in attempt, found by the hash of `state`.
-- Single use: `used_at` is set in the same transaction that consumes it.
CREATE TABLE login_transactions (
    state_hash    bytea PRIMARY KEY,
    provider      text NOT NULL,
    nonce         text NOT NULL,
    code_verifier text NOT NULL,
    link_user_id  uuid REFERENCES users (id),
    return_to     text NOT NULL DEFAULT '/',
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

-- Nonces of ID tokens already accepted, kept until the token could no longer be valid.
CREATE TABLE seen_nonces (
    provider   text NOT NULL,
    nonce_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, nonce_hash)
);

-- What a proofing provider attested. History is kept: a new verification supersedes an
-- older one of the same kind from the same provider, it never overwrites it.
CREATE TABLE attestations (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL
        CHECK (kind IN ('nationalities', 'permanent_residency', 'us_person_basis')),
    -- Normalised: ISO 3166-1 alpha-2 codes, or the U.S.-person basis name.
    attested_values text[] NOT NULL CHECK (cardinality(attested_values) BETWEEN 1 AND 20),
    provider        text NOT NULL,
    trust_framework text NOT NULL,
    assurance       text NOT NULL,
    verified_at     timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    -- Evidence type and issuing country only: never document numbers or images.
    evidence        jsonb NOT NULL DEFAULT '[]'::jsonb,
    superseded_by   uuid REFERENCES attestations (id),
    revoked_at      timestamptz,
    revoked_by      text,
    revoked_reason  text CHECK (length(revoked_reason) <= 500)
);
CREATE INDEX attestations_user ON attestations (user_id, kind) WHERE superseded_by IS NULL;
