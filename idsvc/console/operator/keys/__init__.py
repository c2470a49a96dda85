"""Operator pages for the signing keys: their schedule, rotation and emergency rotation."""
