"""Org admin pages for how people arrive: SCIM tokens and groups, domains, auto-join."""
