-- Access reviews: every approved organisation re-certifies its members every
-- [orgs] review_interval. An org admin confirms or removes each member before the due date;
-- memberships not confirmed by then are suspended (their tokens through the status list).
CREATE TABLE access_reviews (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organisations (id),
    opened_at    timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    reminded_at  timestamptz,
    closed_at    timestamptz,
    CHECK (due_at > opened_at)
);
-- At most one open review per organisation.
CREATE UNIQUE INDEX access_reviews_open ON access_reviews (org_id) WHERE closed_at IS NULL;
CREATE INDEX access_reviews_org ON access_reviews (org_id, opened_at);

CREATE TABLE access_review_items (
    review_id     uuid NOT NULL REFERENCES access_reviews (id),
    membership_id uuid NOT NULL REFERENCES memberships (id),
    decision      text NOT NULL DEFAULT 'pending'
        CHECK (decision IN ('pending', 'confirmed', 'removed', 'suspended', 'kept')),
    decided_by    text,
    decided_at    timestamptz,
    PRIMARY KEY (review_id, membership_id)
);
