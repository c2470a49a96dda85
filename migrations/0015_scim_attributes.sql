-- The SCIM User attributes an organisation's identity provider sent (userName, name,
-- displayName, emails, whether active was given), kept as sent so /scim/v2 returns what
-- it advertises. NULL for memberships that did not come through SCIM. Personal data, never
-- logged; bounded so a provisioning client cannot store megabytes per member.
ALTER TABLE memberships ADD COLUMN scim_attributes jsonb
    CHECK (scim_attributes IS NULL OR octet_length(scim_attributes::text) <= 16384);

-- A provider may push a User with no e-mail address (a userName that is not one, no
-- emails). The membership is kept but nobody can claim it until an address is given:
-- claiming matches by e-mail only.
ALTER TABLE memberships DROP CONSTRAINT memberships_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_claimable
    CHECK (user_id IS NOT NULL OR email IS NOT NULL OR source = 'scim');
