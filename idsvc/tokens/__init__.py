"""Eligibility tokens: the claim set (design 3.2), pairwise subjects, and minting."""
