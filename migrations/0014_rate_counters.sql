-- Rate-limit counters every instance shares: per key and one-minute window. With counters
-- per instance, N instances allowed N times every limit. UNLOGGED (no WAL on the request
-- path): a PostgreSQL crash or failover forgets the current minute's counts, which resets
-- those limits once; the windows last a minute anyway.
CREATE UNLOGGED TABLE rate_counters (
    bucket     text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 300),
    window_min bigint NOT NULL,
    hits       integer NOT NULL,
    PRIMARY KEY (bucket, window_min)
);
