-- Crypto-shredding: personal values in audit events (attested nationalities, an
-- operator's determination, justifications naming a person) are sealed under a data key
-- of the person's own, itself encrypted under the key-encryption key. The chain hashes the
-- sealed form, so erasing a person (deleting this key) makes those values unreadable for
-- good while `idsvc audit verify` still passes.
CREATE TABLE person_data_keys (
    user_id     uuid PRIMARY KEY REFERENCES users (id),
    -- NULL once the person is erased: nothing sealed for them can be opened again.
    wrapped_key bytea,
    -- Which key-encryption key wrapped it (KeyEncryptionKey.kek_id), for re-wrapping at a
    -- KEK rotation, as for signing keys.
    kek_id      text,
    created_at  timestamptz NOT NULL,
    erased_at   timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('active', 'disabled', 'erased'));
