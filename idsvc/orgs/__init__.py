"""Organisations: vetting, domains, members and their enrolment."""
