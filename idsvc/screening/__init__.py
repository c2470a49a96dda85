"""Restricted-party screening: import lists in the Consolidated Screening List format,
match organisation names against them, and keep the hits operators decide on."""
