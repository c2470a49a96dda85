"""The OAuth 2.0 token endpoint for programs: device authorization (RFC 8628), rotating
refresh tokens, token exchange (RFC 8693), DPoP (RFC 9449), introspection and revocation."""
