-- Token signing keys. A key's lifecycle is fixed by its timestamps, so every instance
-- agrees on which key signs at any instant without coordination:
--   next      published_at <= now < activates_at   (in the JWKS, not signing)
--   current   activates_at <= now < retires_at     (signing)
--   retiring  retires_at   <= now < expires_at     (in the JWKS until its tokens expired)
--   retired   expires_at   <= now, or revoked      (gone from the JWKS)
-- `announced_state` only records which transitions were already audited.
CREATE TABLE signing_keys (
    kid             text PRIMARY KEY CHECK (length(kid) BETWEEN 8 AND 64),
    alg             text NOT NULL CHECK (alg IN ('ES256', 'EdDSA', 'RS256')),
    public_jwk      jsonb NOT NULL,
    -- AES-256-GCM: 12-byte nonce || ciphertext || 16-byte tag, AAD = kid || 0 || alg.
    private_key_enc bytea NOT NULL,
    kek_id          text NOT NULL,
    published_at    timestamptz NOT NULL,
    activates_at    timestamptz NOT NULL,
    retires_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text,
    announced_state text NOT NULL DEFAULT 'next'
        CHECK (announced_state IN ('next', 'current', 'retiring', 'retired')),
    CHECK (published_at <= activates_at AND activates_at < retires_at AND retires_at <= expires_at)
);

CREATE INDEX signing_keys_live ON signing_keys (alg, activates_at) WHERE revoked_at IS NULL;

-- Long-lived service secrets (e.g. the pairwise-subject key), encrypted like private keys,
-- created once by whichever instance starts first.
CREATE TABLE service_secrets (
    name       text PRIMARY KEY,
    value_enc  bytea NOT NULL,
    kek_id     text NOT NULL,
    created_at timestamptz NOT NULL
);
