-- An archive is judged by the checkpoint recorded when its partitions were dropped
-- (docs/audit.md, "Retention and partitioning"), never by the newest `audit.archived` event:
-- anyone who may write audit events could append one vouching for a forged archive.
--
-- Each checkpoint names the one `audit.archived` event recorded with it (`event_seq`). That
-- event claims the checkpoint as it is inserted, in the archiving transaction; any later
-- `audit.archived` event (a forgery, or a copy) finds nothing to claim and is refused.
ALTER TABLE audit_checkpoints ADD COLUMN event_seq bigint;

-- Checkpoints made before this migration: the first matching event is the one the archive
-- wrote (it committed with the checkpoint; anything matching later came after). 0 when that
-- event has since left with a later archive: no event has seq 0, so none can claim it.
UPDATE audit_checkpoints c SET event_seq = coalesce((
    SELECT min(e.seq) FROM audit_events e
    WHERE e.action = 'audit.archived'
      AND e.data->>'file' = c.file_name
      AND e.data->>'sha256' = c.file_sha256
      AND e.data->'anchor_pos' = to_jsonb(c.anchor_pos)
), 0);

-- One checkpoint per file name: a second archive under the same name would overwrite the
-- first one's file (idsvc audit archive also refuses an existing file).
CREATE UNIQUE INDEX audit_checkpoints_file_name ON audit_checkpoints (file_name);

-- Append-only, as audit_events: the only change allowed is the claim below filling
-- event_seq once. pg_trigger_depth() > 1 tells the claim (an UPDATE run by the trigger on
-- audit_events) from an UPDATE someone runs directly.
CREATE FUNCTION audit_checkpoints_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        IF OLD.event_seq IS NULL AND NEW.event_seq IS NOT NULL
           AND (NEW.anchor_pos, NEW.anchor_hash, NEW.file_name, NEW.file_sha256, NEW.events,
                NEW.checkpoint, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.anchor_pos, OLD.anchor_hash, OLD.file_name,
                                     OLD.file_sha256, OLD.events, OLD.checkpoint, OLD.created_at)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_checkpoints is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_guard();

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_guard();

-- An `audit.archived` event is accepted only if it claims a checkpoint that names exactly
-- what the event says and has no event yet. The row lock taken by the UPDATE makes a
-- concurrent second event wait for the archiving transaction, then find the claim taken.
CREATE FUNCTION audit_archived_claims_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_checkpoints SET event_seq = NEW.seq
    WHERE file_name = NEW.data->>'file'
      AND file_sha256 = NEW.data->>'sha256'
      AND to_jsonb(anchor_pos) = NEW.data->'anchor_pos'
      AND encode(anchor_hash, 'hex') = NEW.data->>'anchor_hash'
      AND event_seq IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit.archived refused: no checkpoint of % awaits its event (an '
                        'archive is recorded once, by idsvc audit archive)', NEW.data->>'file'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_archived_once
    BEFORE INSERT ON audit_events
    FOR EACH ROW WHEN (NEW.action = 'audit.archived')
    EXECUTE FUNCTION audit_archived_claims_checkpoint();
