"""Errors of signing in and linking identities.

A sign-in fails one way, ``SignInRefused``, with a stable reason for the page and the
audit trail. It is not an ``IdsvcError``: the sign-in routes answer it themselves (a page
for a browser, a problem for anything else, see :mod:`idsvc.oidc.pages`), after the
refusal was audited in a transaction of its own (:func:`idsvc.oidc.service.audit_refusal`).
"""

from __future__ import annotations

__all__ = ["SignInRefused"]


class SignInRefused(Exception):
    """Sign-in failed; ``reason`` is a stable code for the page and the audit trail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
