"""SCIM PATCH (RFC 7644 §3.5.2) on the User attributes idsvc keeps, in the forms identity
providers send: Okta's ``{"op": "replace", "value": {"active": false}}``, Entra's
capitalised ``"Replace"`` with ``"False"`` strings, paths such as ``active``, ``userName``,
``name.givenName`` and ``emails[type eq "work"].value``."""

from __future__ import annotations

import copy
from typing import Any

from idsvc.scim.errors import InvalidPath, InvalidSyntax, NoTarget
from idsvc.scim.filters import FilterError, parse_filter

__all__ = ["apply_patch"]

_MAX_OPERATIONS = 100


def _set_email(resource: dict[str, Any], selector: str, value: Any, op: str) -> None:
    try:
        matches = parse_filter(selector)
    except FilterError as exc:
        raise InvalidPath(f"path: {exc}") from None
    emails = [e for e in resource.get("emails") or [] if isinstance(e, dict)]
    chosen = [e for e in emails if matches(e)]
    if op == "remove":
        resource["emails"] = [e for e in emails if e not in chosen]
        return
    if not chosen:  # add or replace creates the selected entry (Entra's first provisioning)
        entry = {"type": "work", "primary": True}
        emails.append(entry)
        chosen = [entry]
    for entry in chosen:
        entry["value"] = value
    resource["emails"] = emails


def _apply_sub(resource: dict[str, Any], key: str, sub: str, op: str, value: Any) -> None:
    parent = resource.setdefault(key, {})
    if not isinstance(parent, dict):
        raise InvalidPath(f"unsupported path {key}.{sub}")
    if op == "remove":
        parent.pop(sub, None)
    else:
        parent[sub] = value


def _apply(resource: dict[str, Any], op: str, path: str | None, value: Any) -> None:
    if path is None:
        if op == "remove" or not isinstance(value, dict):
            raise InvalidSyntax("an operation without a path needs an object value")
        for key, item in value.items():
            _apply(resource, op, key, item)
        return
    if path.startswith("urn:ietf:params:scim:schemas:core:2.0:User:"):
        path = path.rsplit(":", 1)[1]
    head, _, rest = path.partition(".")
    if "[" in path:
        attribute, _, remainder = path.partition("[")
        selector, _, sub = remainder.partition("]")
        if attribute.lower() != "emails" or sub not in ("", ".value"):
            raise InvalidPath(f"unsupported path {path}")
        _set_email(resource, selector, value, op)
        return
    key = next((k for k in resource if k.lower() == head.lower()), head)
    if rest:  # name.givenName
        _apply_sub(resource, key, rest, op, value)
        return
    current = resource.get(key)
    if op == "remove":
        resource.pop(key, None)
    elif op == "add" and isinstance(current, list):
        # RFC 7644 §3.5.2.1: add to a multi-valued attribute appends, without duplicates.
        added = value if isinstance(value, list) else [value]
        resource[key] = current + [v for v in added if v not in current]
    elif isinstance(current, dict) and isinstance(value, dict):
        # §3.5.2.1 and §3.5.2.3: sub-attributes not given are left unchanged.
        resource[key] = {**current, **value}
    else:
        resource[key] = value


def apply_patch(resource: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The resource after the operations (the input is not modified); all or nothing."""
    operations = body.get("Operations")
    if not isinstance(operations, list) or not 0 < len(operations) <= _MAX_OPERATIONS:
        raise InvalidSyntax("Operations must list 1 to 100 operations")
    patched = copy.deepcopy(resource)
    for operation in operations:
        if not isinstance(operation, dict):
            raise InvalidSyntax("each operation must be an object")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise InvalidSyntax("op must be add, replace or remove")
        path = operation.get("path")
        if path is not None and (not isinstance(path, str) or len(path) > 500):
            raise InvalidPath("path must be text")
        if op == "remove" and path is None:
            raise NoTarget("remove needs a path")
        _apply(patched, op, path, operation.get("value"))
    return patched
