"""When a restricted-party list changes: import a snapshot safely (from the CLI or the
scheduled fetch) and re-screen organisations and people in the same transaction. Above both
``screening`` (lists, matching, people) and ``orgs`` (organisation hits)."""
