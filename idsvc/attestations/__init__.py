"""Nationality, permanent residency and U.S.-person attestations from proofing providers."""
