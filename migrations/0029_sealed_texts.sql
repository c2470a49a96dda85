-- Free texts that may name a person (reasons, justifications) are sealed like attested
-- values (0022, idsvc.audit.personal): in the columns below as in audit events, under a
-- data key of whom they are about, so that destroying the key erases them everywhere.
--
-- A membership exists before anyone claims it (an invitation, a CSV row, a SCIM user), so
-- it has a data key of its own: an admin's reason for a member's status is sealed under
-- it, and erasing a person destroys the keys of every membership they held or that was
-- enrolled by their address. An organisation's texts (an operator's status reason, a
-- screening override's justification) are sealed under the organisation's key; nothing
-- erases an organisation yet, so that key is only ever destroyed by a future erasure.
CREATE TABLE membership_data_keys (
    membership_id uuid PRIMARY KEY REFERENCES memberships (id),
    -- NULL once destroyed: nothing sealed under it can be opened again.
    wrapped_key   bytea,
    kek_id        text,
    created_at    timestamptz NOT NULL,
    erased_at     timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

CREATE TABLE org_data_keys (
    org_id      uuid PRIMARY KEY REFERENCES organisations (id),
    wrapped_key bytea,
    kek_id      text,
    created_at  timestamptz NOT NULL,
    erased_at   timestamptz,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

-- Each text column becomes jsonb holding the sealed form ({"person"|"membership"|"org": id,
-- "sealed": ...}). A migration has no key-encryption key, so it cannot seal what is there:
-- texts written before stay readable as JSON strings (to_jsonb), until the person they are
-- about is erased (erasure overwrites them). The length limits move to the requests that
-- carry the texts; a sealed text is longer than the text, so the bound here is generous.
ALTER TABLE organisations
    DROP CONSTRAINT organisations_status_reason_check,
    ALTER COLUMN status_reason TYPE jsonb USING to_jsonb(status_reason),
    ADD CONSTRAINT organisations_status_reason_check CHECK (
        jsonb_typeof(status_reason) IN ('object', 'string') AND length(status_reason::text) <= 20000);
ALTER TABLE screening_hits
    DROP CONSTRAINT screening_hits_justification_check,
    ALTER COLUMN justification TYPE jsonb USING to_jsonb(justification),
    ADD CONSTRAINT screening_hits_justification_check CHECK (
        jsonb_typeof(justification) IN ('object', 'string') AND length(justification::text) <= 20000);
ALTER TABLE person_screening_hits
    DROP CONSTRAINT person_screening_hits_justification_check,
    ALTER COLUMN justification TYPE jsonb USING to_jsonb(justification),
    ADD CONSTRAINT person_screening_hits_justification_check CHECK (
        jsonb_typeof(justification) IN ('object', 'string') AND length(justification::text) <= 20000);
ALTER TABLE attestations
    DROP CONSTRAINT attestations_revoked_reason_check,
    ALTER COLUMN revoked_reason TYPE jsonb USING to_jsonb(revoked_reason),
    ADD CONSTRAINT attestations_revoked_reason_check CHECK (
        jsonb_typeof(revoked_reason) IN ('object', 'string') AND length(revoked_reason::text) <= 20000);
ALTER TABLE operator_grants
    DROP CONSTRAINT operator_grants_reason_check,
    ALTER COLUMN reason TYPE jsonb USING to_jsonb(reason),
    ADD CONSTRAINT operator_grants_reason_check CHECK (
        jsonb_typeof(reason) IN ('object', 'string') AND length(reason::text) <= 20000);
