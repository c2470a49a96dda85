"""Org admin pages for organisations: one's organisations, the request form, an
organisation's page and its own audit trail."""
