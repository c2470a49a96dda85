"""Errors of the web console's forms.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest

__all__ = ["FormTooLarge"]


class FormTooLarge(BadRequest):
    """The console form is larger than the service accepts; send less."""

    code = "payload_too_large"
