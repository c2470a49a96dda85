"""Errors of the signing keys.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Unavailable

__all__ = ["NoSigningKey"]


class NoSigningKey(Unavailable):
    """No signing key of the algorithm is current, so no token was issued; an operator must activate
    one."""

    code = "no_signing_key"
