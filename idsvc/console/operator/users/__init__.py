"""Operator pages for people: finding them, their attestations and screening hits, what
each service's policy needs of them, and erasure."""
