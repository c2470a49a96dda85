"""SCIM errors: each code is the RFC 7644 §3.12 ``scimType`` that ``scim_error`` sends.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code. ``NotFound``
(no such User, Group, resource type or schema in the token's organisation) and
``Unauthenticated`` (no live bearer token) are shared codes, named here so the feature's
errors are found in one place.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Conflict, NotFound, Unauthenticated

__all__ = [
    "InvalidFilter",
    "InvalidPath",
    "InvalidSyntax",
    "InvalidValue",
    "Mutability",
    "NoTarget",
    "NotFound",
    "Unauthenticated",
    "Uniqueness",
]


class InvalidFilter(BadRequest):
    """The SCIM filter is not text or cannot be parsed; `detail` says where, fix the filter."""

    code = "invalidFilter"


class InvalidSyntax(BadRequest):
    """The SCIM request body is not a JSON object of the expected shape (or is too large); fix the
    request."""

    code = "invalidSyntax"


class InvalidPath(BadRequest):
    """A SCIM PATCH path is malformed or names an attribute that cannot be patched; use a supported
    path."""

    code = "invalidPath"


class NoTarget(BadRequest):
    """A SCIM PATCH operation has no path where one is needed (or no object value to apply); name
    the target."""

    code = "noTarget"


class InvalidValue(BadRequest):
    """A SCIM attribute or query parameter has a missing, wrongly typed or out-of-range value;
    `detail` names it."""

    code = "invalidValue"


class Mutability(BadRequest):
    """A SCIM change is not compatible with the current state of its target: a User who has not
    signed in yet cannot be given the admin role by a Group; `detail` names the User."""

    code = "mutability"


class Uniqueness(Conflict):
    """Another SCIM resource already has that userName, e-mail address or displayName; choose
    another."""

    code = "uniqueness"
