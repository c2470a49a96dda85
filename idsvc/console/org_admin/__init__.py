"""Console pages for organisation admins: request an organisation, and for each
organisation they administer its state, members, enrolment (invitations, CSV, SCIM,
domains), access review and audit trail. One sub-package per area."""
