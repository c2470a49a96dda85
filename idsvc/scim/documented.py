"""The SCIM bodies and query parameters, as the OpenAPI document describes them.

The SCIM handlers parse bodies themselves (``protocol.read_body`` then ``user_input`` /
``group_input`` / the PATCH and search readers), because RFC 7643 attribute names are
case-insensitive and unknown attributes are kept as sent; these structs only describe the
common shape, so they accept unknown members.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

__all__ = [
    "ScimGroupBody",
    "ScimListQuery",
    "ScimPatchBody",
    "ScimProjection",
    "ScimSearchBody",
    "ScimUserBody",
]

_Text = Annotated[str, msgspec.Meta(max_length=1024)]
_Names = Annotated[str, msgspec.Meta(max_length=2048, description="comma-separated")]


class ScimName(msgspec.Struct, frozen=True, kw_only=True):
    givenName: _Text | None = None  # noqa: N815 - RFC 7643 names
    familyName: _Text | None = None  # noqa: N815


class ScimEmail(msgspec.Struct, frozen=True, kw_only=True):
    value: _Text
    type: _Text | None = None
    primary: bool | None = None


class ScimUserBody(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 7643 section 4.1 User; the organisation's member is found by ``userName``."""

    schemas: list[_Text]
    userName: _Text  # noqa: N815
    externalId: _Text | None = None  # noqa: N815
    displayName: _Text | None = None  # noqa: N815
    name: ScimName | None = None
    emails: list[ScimEmail] | None = None
    active: bool | None = None


class ScimMemberRef(msgspec.Struct, frozen=True, kw_only=True):
    value: _Text


class ScimGroupBody(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 7643 section 4.2 Group."""

    schemas: list[_Text]
    displayName: _Text  # noqa: N815
    externalId: _Text | None = None  # noqa: N815
    members: list[ScimMemberRef] | None = None


class ScimPatchOperation(msgspec.Struct, frozen=True, kw_only=True):
    op: _Text
    path: _Text | None = None
    value: Any = None


class ScimPatchBody(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 7644 section 3.5.2 PatchOp."""

    schemas: list[_Text]
    Operations: list[ScimPatchOperation]


class ScimSearchBody(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 7644 section 3.4.3 SearchRequest."""

    schemas: list[_Text]
    filter: _Text | None = None
    startIndex: int | None = None  # noqa: N815
    count: int | None = None
    attributes: list[_Text] | None = None
    excludedAttributes: list[_Text] | None = None  # noqa: N815


class ScimProjection(msgspec.Struct, frozen=True, kw_only=True):
    """Which attributes to return (RFC 7644 section 3.9)."""

    attributes: _Names | None = None
    excludedAttributes: _Names | None = None  # noqa: N815


class ScimListQuery(ScimProjection, frozen=True, kw_only=True):
    """Filtering and paging a list (RFC 7644 sections 3.4.2.2 and 3.4.2.4)."""

    filter: _Text | None = None
    startIndex: int | None = None  # noqa: N815
    count: int | None = None
