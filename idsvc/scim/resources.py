"""SCIM User resources (RFC 7643 §4.1) to and from memberships.

A SCIM User is a membership of the token's organisation: ``id`` is the membership id,
``userName`` the (lower-cased) e-mail address, ``active`` true for an active membership
and false for a suspended one. Attributes idsvc does not keep (titles, phone numbers,
enterprise extensions) are accepted and not stored: identity providers send whatever
they map, and refusing a whole provisioning call over a job title helps nobody.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import msgspec

from idsvc.errors import BadRequest

__all__ = [
    "ERROR_SCHEMA",
    "LIST_SCHEMA",
    "PATCH_SCHEMA",
    "USER_SCHEMA",
    "ScimMember",
    "UserInput",
    "project",
    "to_resource",
    "user_input",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class ScimMember(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str | None
    external_id: str | None
    display_name: str | None
    status: str
    user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class UserInput(msgspec.Struct, frozen=True, kw_only=True):
    user_name: str
    external_id: str | None
    display_name: str | None
    active: bool


def to_resource(member: ScimMember, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(member.id),
        "userName": member.email or "",
        "active": member.status == "active",
        "emails": [{"value": member.email, "type": "work", "primary": True}]
        if member.email
        else [],
        "meta": {
            "resourceType": "User",
            "created": member.created_at.isoformat(),
            "lastModified": member.updated_at.isoformat(),
            "location": f"{base_url}/Users/{member.id}",
            "version": f'W/"{int(member.updated_at.timestamp() * 1_000_000)}"',
        },
    }
    if member.external_id:
        resource["externalId"] = member.external_id
    if member.display_name:
        resource["displayName"] = member.display_name
        resource["name"] = {"formatted": member.display_name}
    return resource


def _bool(value: Any, field: str) -> bool:
    # Microsoft Entra sends "True"/"False" as strings in PATCH values.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"{field} must be a boolean", code="invalidValue")


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{field} must be text of at most {limit} characters", code="invalidValue")
    return value.strip() or None


def _name(resource: dict[str, Any]) -> str | None:
    display = _text(resource.get("displayName"), "displayName", 200)
    if display:
        return display
    name = resource.get("name")
    if isinstance(name, dict):
        formatted = _text(name.get("formatted"), "name.formatted", 200)
        parts = [_text(name.get(k), f"name.{k}", 100) for k in ("givenName", "familyName")]
        return formatted or (" ".join(p for p in parts if p) or None)
    return None


def user_input(resource: dict[str, Any]) -> UserInput:
    """The attributes idsvc keeps, validated; ``userName`` (or a primary/work e-mail) must be
    an e-mail address, since that is how a person claims the membership."""
    user_name = _text(resource.get("userName"), "userName", 320)
    if user_name is None:
        listed = resource.get("emails")
        emails: list[Any] = listed if isinstance(listed, list) else []
        chosen = next((e for e in emails if isinstance(e, dict) and e.get("primary")), None)
        chosen = chosen or next(
            (e for e in emails if isinstance(e, dict) and e.get("type") == "work"), None
        )
        user_name = _text(chosen.get("value"), "emails.value", 320) if chosen else None
    if user_name is None or not _EMAIL.match(user_name):
        raise BadRequest("userName must be the person's e-mail address", code="invalidValue")
    return UserInput(
        user_name=user_name.lower(),
        external_id=_text(resource.get("externalId"), "externalId", 256),
        display_name=_name(resource),
        active=_bool(resource.get("active", True), "active"),
    )


def project(
    resource: dict[str, Any], attributes: str | None, excluded: str | None
) -> dict[str, Any]:
    """RFC 7644 §3.9: ``attributes`` keeps only those (plus id and schemas, always
    returned); ``excludedAttributes`` drops those. Sub-attributes select their parent."""
    always = {"id", "schemas"}
    if attributes:
        wanted = {a.strip().split(".")[0].lower() for a in attributes.split(",")} | always
        return {k: v for k, v in resource.items() if k.lower() in wanted}
    if excluded:
        dropped = {a.strip().split(".")[0].lower() for a in excluded.split(",")} - always
        return {k: v for k, v in resource.items() if k.lower() not in dropped}
    return resource
