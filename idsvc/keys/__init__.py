"""Signing keys: generation, encryption at rest, the rotation schedule, the key ring, and
the JWKS. Private keys never leave this package except as signatures."""
