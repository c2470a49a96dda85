"""SCIM 2.0 (RFC 7643/7644) provisioning of organisation members by their identity
provider (design 3.5): a SCIM User is a membership of the token's organisation."""
