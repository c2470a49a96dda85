-- Token Status Lists (IETF OAuth "Token Status List"): every eligibility token has a slot
-- (list, index) whose 2-bit status gateways read from the published list. A slot also
-- records what the token depended on, so that revoking any of those finds its tokens.
CREATE TABLE status_lists (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Entries; indices are drawn at random below this.
    size       integer NOT NULL CHECK (size BETWEEN 8 AND 16777216),
    created_at timestamptz NOT NULL,
    -- Set when allocation starts failing: no new tokens go into a full list.
    full_at    timestamptz,
    -- Set once every token in it has expired: the list is no longer served.
    retired_at timestamptz,
    -- Bumped by every status change, so caches know when to rebuild.
    version    bigint NOT NULL DEFAULT 0
);
CREATE INDEX status_lists_open ON status_lists (id) WHERE full_at IS NULL;

CREATE TABLE token_statuses (
    list_id    bigint NOT NULL REFERENCES status_lists (id),
    idx        integer NOT NULL CHECK (idx >= 0),
    -- 0 VALID, 1 INVALID (final), 2 SUSPENDED (reversible).
    status     smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    user_id    uuid NOT NULL,
    org_id     uuid,
    grant_id   uuid,
    kid        text NOT NULL,
    jti        text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX token_statuses_user ON token_statuses (user_id, expires_at);
CREATE INDEX token_statuses_org ON token_statuses (org_id, expires_at) WHERE org_id IS NOT NULL;
CREATE INDEX token_statuses_grant ON token_statuses (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX token_statuses_kid ON token_statuses (kid, expires_at);
