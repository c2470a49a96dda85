"""Enrolling an organisation's members from a CSV file, checked whole before anything is
applied (dry run and real)."""
