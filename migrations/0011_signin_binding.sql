-- Sign-in integrity (login CSRF, identity linking by a third party).

-- A sign-in transaction belongs to the browser that started it: the SHA-256 of a random
-- value that only that browser holds, in a short-lived HttpOnly cookie. A callback without
-- the matching cookie is refused. Transactions started before this migration have none and
-- can no longer complete; they expired within ten minutes anyway.
ALTER TABLE login_transactions ADD COLUMN browser_binding_hash bytea;

-- Who a proofing provider verified the person behind an identity to be, as keyed MACs of
-- the normalised verified name and date of birth (never the values themselves): enough to
-- tell that two identities name different people, nothing to read a name back from.
ALTER TABLE identities
    ADD COLUMN verified_name_mac      bytea CHECK (length(verified_name_mac) = 32),
    ADD COLUMN verified_birthdate_mac bytea CHECK (length(verified_birthdate_mac) = 32);

-- A new identity that a signed-in browser is about to link to its account, waiting for that
-- browser to confirm it. Found by the browser binding of the sign-in (one per browser), and
-- only for the account signed in when it started; gone after ten minutes or one answer.
CREATE TABLE pending_links (
    browser_binding_hash bytea PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES users (id),
    provider             text NOT NULL,
    identity             jsonb NOT NULL,
    created_at           timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL
);
CREATE INDEX pending_links_expiry ON pending_links (expires_at);
