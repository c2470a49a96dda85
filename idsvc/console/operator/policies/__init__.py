"""The operator's policy page: every policy, and what one decides for one person."""
