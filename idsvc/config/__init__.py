"""Configuration structs that features share with ``idsvc.settings``: upstream identity
providers and OAuth clients. Below every feature, so settings can be read anywhere."""
