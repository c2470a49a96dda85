"""Eligibility policies: the model (one per audience) and the pure decision function."""
