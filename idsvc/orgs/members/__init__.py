"""An organisation's members: the member list with eligibility, state and role changes,
the eligibility report, and access reviews."""
