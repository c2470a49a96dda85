"""What an organisation's admins do about SCIM: its bearer tokens, and the role its
identity provider's Groups give their members."""
