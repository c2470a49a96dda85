-- Single-use values (DPoP proof ids, client assertion ids) remembered across every
-- instance of the service until they expire: with per-instance memory a proof replayed
-- against another instance was accepted.
--
-- UNLOGGED: no WAL, so remembering costs no disk flush on the token path. The price is
-- that a PostgreSQL crash (or a failover, since unlogged tables are not replicated)
-- forgets what it held: a proof captured in the last minute before could then be replayed
-- once. Every value here expires within minutes (a DPoP proof's iat window, an
-- assertion's exp), and each instance's own memory still refuses replays to itself.
CREATE UNLOGGED TABLE replay_guard (
    scope      text NOT NULL CHECK (length(scope) BETWEEN 1 AND 40),
    key_hash   bytea NOT NULL CHECK (length(key_hash) = 32),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX replay_guard_expiry ON replay_guard (expires_at);
