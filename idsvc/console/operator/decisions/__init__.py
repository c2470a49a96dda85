"""The operators' Decisions page: what waits for a second operator, and approving it."""
