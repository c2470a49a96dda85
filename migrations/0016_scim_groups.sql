-- SCIM Groups (RFC 7643 §4.2) an organisation's identity provider pushes (Okta, Entra).
-- An org admin may give a group a role: its members hold that role in the organisation
-- while they are in it (e.g. members of "idsvc-admins" are admins).
CREATE TABLE scim_groups (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organisations (id),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 256),
    external_id  text CHECK (length(external_id) <= 256),
    role         text CHECK (role IN ('admin')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX scim_groups_org_name ON scim_groups (org_id, lower(display_name));

CREATE TABLE scim_group_members (
    group_id      uuid NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    membership_id uuid NOT NULL REFERENCES memberships (id),
    -- The group gave this membership its role (it was not an admin before): only such a
    -- role is taken back when the membership leaves, never one an admin appointed.
    granted       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (group_id, membership_id)
);
CREATE INDEX scim_group_members_membership ON scim_group_members (membership_id);
