-- Organisations and their members. Other org features (domains, invitations, screening,
-- SCIM tokens) add their own tables in later migrations; these two are what policies,
-- enrolment and revocation all share.
CREATE TABLE organisations (
    id                 uuid PRIMARY KEY,
    legal_name         text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 300),
    -- ISO 3166-1 alpha-2 country of incorporation.
    country            text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    registration_ids   jsonb NOT NULL DEFAULT '[]'::jsonb,
    contact_email      text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 320),
    status             text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    status_reason      text CHECK (length(status_reason) <= 2000),
    -- What the organisation applied for, and what operators granted: policies look only
    -- at the granted programs.
    programs_requested text[] NOT NULL DEFAULT '{}',
    programs           text[] NOT NULL DEFAULT '{}',
    -- With a verified domain: off, or join as a pending or an active member.
    auto_join          text NOT NULL DEFAULT 'off' CHECK (auto_join IN ('off', 'pending', 'active')),
    requested_by       uuid REFERENCES users (id),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX organisations_status ON organisations (status, created_at);

-- A person's place in an organisation. Before the person signs in, a membership is known
-- by e-mail only (an invitation, a CSV row, a SCIM user); `user_id` is filled in when a
-- user with that verified e-mail claims it.
CREATE TABLE memberships (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organisations (id),
    user_id      uuid REFERENCES users (id),
    -- Lower-cased; personal data, never logged.
    email        text CHECK (length(email) BETWEEN 3 AND 320),
    role         text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    status       text NOT NULL
        CHECK (status IN ('invited', 'pending', 'active', 'suspended', 'removed')),
    source       text NOT NULL
        CHECK (source IN ('request', 'invitation', 'csv', 'scim', 'auto_join', 'operator')),
    external_id  text CHECK (length(external_id) <= 256),
    display_name text CHECK (length(display_name) <= 200),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (user_id IS NOT NULL OR email IS NOT NULL)
);
-- Removed memberships stay for the record; a person can be enrolled again afterwards.
CREATE UNIQUE INDEX memberships_org_user ON memberships (org_id, user_id)
    WHERE user_id IS NOT NULL AND status <> 'removed';
CREATE UNIQUE INDEX memberships_org_email ON memberships (org_id, email)
    WHERE email IS NOT NULL AND status <> 'removed';
CREATE INDEX memberships_user ON memberships (user_id) WHERE status <> 'removed';
CREATE INDEX memberships_email ON memberships (email) WHERE user_id IS NULL AND status <> 'removed';
