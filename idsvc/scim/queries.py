"""A SCIM list or search request read into one shape (RFC 7644 §3.4.2 by query string,
§3.4.3 by POST body): the filter text, the page, and the attributes to project."""

from __future__ import annotations

from typing import Any

import msgspec

from idsvc.scim.discovery import MAX_RESULTS
from idsvc.scim.errors import InvalidFilter, InvalidSyntax, InvalidValue
from idsvc.scim.resources import SEARCH_SCHEMA

__all__ = ["ListQuery", "list_query", "search_query"]


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A list or search request (RFC 7644 §3.4.2 by query string, §3.4.3 by POST body)."""

    filter: str | None = None
    start: int = 1
    count: int = 100
    attributes: str | None = None
    excluded: str | None = None


def _int(raw: Any, name: str, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool):
        raise InvalidValue(f"{name} must be an integer")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be an integer") from None


def _names(raw: Any, name: str) -> str | None:
    """attributes / excludedAttributes: a comma-separated string or (in a body) a list."""
    if raw is None:
        return None
    if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        raw = ",".join(raw)
    if not isinstance(raw, str) or len(raw) > 2000:
        raise InvalidValue(f"{name} must list attribute names")
    return raw


def list_query(params: Any) -> ListQuery:
    """From the query string (a mapping) or a search body."""
    text = params.get("filter")
    if text is not None and not isinstance(text, str):
        raise InvalidFilter("filter must be text")
    return ListQuery(
        filter=text or None,
        start=max(1, _int(params.get("startIndex"), "startIndex", 1)),  # below 1 means 1
        count=min(max(0, _int(params.get("count"), "count", 100)), MAX_RESULTS),
        attributes=_names(params.get("attributes"), "attributes"),
        excluded=_names(params.get("excludedAttributes"), "excludedAttributes"),
    )


def search_query(body: dict[str, Any]) -> ListQuery:
    """From a POST .search body, which must name the SearchRequest schema."""
    listed = body.get("schemas")
    if not isinstance(listed, list) or SEARCH_SCHEMA not in listed:
        raise InvalidSyntax(f"schemas must include {SEARCH_SCHEMA}")
    return list_query(body)
