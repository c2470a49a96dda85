"""Helpers shared by the tests: test databases, serving an app, signing in, factories for
users and organisations, fake servers (SMTP, DNS, providers, gateways)."""
