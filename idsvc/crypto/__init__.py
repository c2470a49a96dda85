"""Encryption at rest under the key-encryption key: below every feature that stores a secret
(signing keys, per-person data keys in the audit trail)."""
