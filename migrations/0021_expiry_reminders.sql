-- People are e-mailed before a verification they depend on expires (opt-out).
ALTER TABLE users ADD COLUMN expiry_reminders boolean NOT NULL DEFAULT true;

-- One reminder per attestation: a later run never sends the same reminder twice.
CREATE TABLE expiry_reminders (
    attestation_id uuid PRIMARY KEY REFERENCES attestations (id),
    user_id        uuid NOT NULL REFERENCES users (id),
    sent_at        timestamptz NOT NULL
);
