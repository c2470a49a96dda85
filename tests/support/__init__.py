"""Helpers shared by the tests: clocks, settings, test databases, serving an app, signing
in, factories for users and organisations, fake servers (SMTP, DNS, providers, gateways).

Test modules (``test_*.py``) import from here and from nowhere else in ``tests``; conftest
files hold only fixtures. ``tests/test_layout.py`` checks both."""
