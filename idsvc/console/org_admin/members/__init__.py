"""Org admin pages for members: state and role changes, CSV import, invitations."""
