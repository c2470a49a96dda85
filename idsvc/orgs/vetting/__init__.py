"""Requesting an organisation and its vetting by operators: status and programs, and the
screening of organisations against restricted-party lists."""
