"""Minimal, strict JOSE: base64url, public JWKs, compact JWS. Only ``cryptography``,
``msgspec`` and the standard library, so the gateway verifier can use it."""
