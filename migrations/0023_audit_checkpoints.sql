-- Signed checkpoints of archived audit months (idsvc.audit.archive): where the kept chain
-- now starts, and the archive file (by SHA-256) that holds what came before.
CREATE TABLE audit_checkpoints (
    anchor_pos  bigint PRIMARY KEY,
    anchor_hash bytea NOT NULL,
    file_name   text NOT NULL,
    file_sha256 text NOT NULL,
    events      integer NOT NULL CHECK (events > 0),
    -- The compact JWS (ES256, typ audit-checkpoint+jwt) written beside the archive.
    checkpoint  text NOT NULL,
    created_at  timestamptz NOT NULL
);
