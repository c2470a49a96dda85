"""The operators' queue of decisions awaiting a second operator, and approval from it."""
