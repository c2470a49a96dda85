-- Append-only, hash-chained audit trail. See docs/audit.md for the design.
--
-- Writers only INSERT (inside their own business transaction) and never wait for each
-- other. A single sealer, elected by an advisory lock, later gives each committed event the
-- next chain position and its hash; the chain therefore follows seal (commit) order.

CREATE SEQUENCE audit_event_seq AS bigint CACHE 1;

CREATE TABLE audit_events (
    seq         bigint      NOT NULL DEFAULT nextval('audit_event_seq'),
    occurred_at timestamptz NOT NULL,
    actor       text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
    action      text        NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    target      text        NOT NULL CHECK (length(target) <= 300),
    data        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- Set once by the sealer, never by a writer.
    chain_pos   bigint,
    prev_hash   bytea,
    hash        bytea,
    PRIMARY KEY (occurred_at, seq)
) PARTITION BY RANGE (occurred_at);

-- Catches events outside every monthly partition (clock far off); monthly partitions are
-- created ahead of time by audit_ensure_partitions().
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

CREATE INDEX audit_events_unsealed ON audit_events (seq) WHERE hash IS NULL;
CREATE INDEX audit_events_chain_pos ON audit_events (chain_pos) WHERE chain_pos IS NOT NULL;
CREATE INDEX audit_events_target ON audit_events (target, occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at);

-- The head of the chain: the last sealed position and its hash. One row.
CREATE TABLE audit_chain (
    id        smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_pos  bigint   NOT NULL,
    last_hash bytea    NOT NULL,
    -- Where verification starts: position and previous hash of the oldest event kept.
    -- Moves forward only when old partitions are dropped under the retention policy.
    anchor_pos  bigint NOT NULL,
    anchor_hash bytea  NOT NULL
);
INSERT INTO audit_chain (last_pos, last_hash, anchor_pos, anchor_hash)
VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000',
        1, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only at the database level: a writer cannot forge a seal, nobody may change an
-- event, and the only permitted update is the sealer filling the three chain columns of a
-- not-yet-sealed event. Deleting or truncating is refused; retention drops whole
-- partitions (see docs/audit.md), which is a DDL act of an owner, audited by its anchor.
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.chain_pos IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
            RAISE EXCEPTION 'audit events are sealed by the sealer, not by writers'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND OLD.hash IS NULL AND OLD.chain_pos IS NULL
       AND NEW.hash IS NOT NULL AND NEW.chain_pos IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND (NEW.seq, NEW.occurred_at, NEW.actor, NEW.action, NEW.target, NEW.data)
           IS NOT DISTINCT FROM (OLD.seq, OLD.occurred_at, OLD.actor, OLD.action, OLD.target, OLD.data)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();

CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (TRUNCATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();

-- Creates the monthly partitions from the current month to `months_ahead` months ahead.
-- Safe to call repeatedly and from several instances (IF NOT EXISTS, advisory lock).
CREATE FUNCTION audit_ensure_partitions(months_ahead integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    month_start date;
    part_name text;
BEGIN
    PERFORM pg_advisory_xact_lock(487245001);
    FOR i IN 0..months_ahead LOOP
        month_start := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        part_name := format('audit_events_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
        IF to_regclass(part_name) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                    part_name,
                    (month_start::timestamp AT TIME ZONE 'UTC'),
                    ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            EXCEPTION WHEN check_violation THEN
                -- The default partition already holds rows of that month (the clock was
                -- off); leave them there rather than fail start-up.
                RAISE NOTICE 'audit partition % skipped: default partition has its rows', part_name;
            END;
        END IF;
    END LOOP;
END
$$;

SELECT audit_ensure_partitions(2);
