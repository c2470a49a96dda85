"""Operator pages for the audit trail: filter, verify the hash chain, export."""
