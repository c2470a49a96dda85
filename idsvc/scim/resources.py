"""SCIM User resources (RFC 7643 §4.1) to and from memberships.

A SCIM User is a membership of the token's organisation: ``id`` is the membership id,
``userName`` the e-mail address (compared by its key, ``idsvc.accounts.addresses``),
``active`` true for an active membership and false for a suspended one. Attributes idsvc
does not keep (titles, phone numbers, enterprise extensions) are accepted and not stored:
identity providers send whatever they map, and refusing a whole provisioning call over a
job title helps nobody.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import msgspec

from idsvc.accounts.addresses import AddressRefused, address_key, check_plain_text
from idsvc.http.control_chars import breaks_a_line
from idsvc.scim.errors import InvalidValue

__all__ = [
    "ERROR_SCHEMA",
    "LIST_SCHEMA",
    "PATCH_SCHEMA",
    "SEARCH_SCHEMA",
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
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_NAME_PARTS = (("formatted", 200), ("givenName", 100), ("familyName", 100))
_MAX_EMAILS = 10


class ScimMember(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str | None
    external_id: str | None
    display_name: str | None
    status: str
    user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    # The attributes the identity provider sent (see UserInput.attributes); None for a
    # membership enrolled another way.
    scim_attributes: dict[str, Any] | None = None


class UserInput(msgspec.Struct, frozen=True, kw_only=True):
    # The address a person claims the membership with: userName when it is an e-mail
    # address, else the primary (or work, or first) of ``emails``; None when neither is.
    claim_email: str | None
    user_name: str
    external_id: str | None
    display_name: str | None
    active: bool
    # userName, name, displayName, emails and active, as sent (validated and bounded): what
    # /Schemas advertises is what is stored and returned. "active" is present only if sent.
    attributes: dict[str, Any]


def _derived_attributes(member: ScimMember) -> dict[str, Any]:
    """A membership enrolled by invitation, CSV or the console, shown as a SCIM User."""
    attributes: dict[str, Any] = {"userName": member.email or "", "active": True}
    if member.email:
        attributes["emails"] = [{"value": member.email, "type": "work", "primary": True}]
    if member.display_name:
        attributes["displayName"] = member.display_name
        attributes["name"] = {"formatted": member.display_name}
    return attributes


def to_resource(member: ScimMember, base_url: str) -> dict[str, Any]:
    attributes = member.scim_attributes or _derived_attributes(member)
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": str(member.id)}
    if member.external_id:
        resource["externalId"] = member.external_id
    resource["userName"] = attributes.get("userName") or member.email or ""
    for key in ("name", "displayName", "emails"):
        if attributes.get(key):
            resource[key] = attributes[key]
    # The membership's state is the truth: a suspension made in the console shows as
    # active=false even if the provider never sent "active". An "active" the provider
    # removed (PATCH remove) reads as unassigned, which idsvc takes as active.
    if "active" in attributes or member.status != "active":
        resource["active"] = member.status == "active"
    resource["meta"] = {
        "resourceType": "User",
        "created": member.created_at.isoformat(),
        "lastModified": member.updated_at.isoformat(),
        "location": f"{base_url}/Users/{member.id}",
        "version": f'W/"{int(member.updated_at.timestamp() * 1_000_000)}"',
    }
    return resource


def _bool(value: Any, field: str) -> bool:
    # Microsoft Entra sends "True"/"False" as strings in PATCH values.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidValue(f"{field} must be a boolean")


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidValue(f"{field} must be text of at most {limit} characters")
    if breaks_a_line(value):
        raise InvalidValue(f"{field} must not contain control characters")
    return value.strip() or None


def _address_key(value: str, field: str) -> str:
    """The key of an address-valued attribute; an address not in plain form (a Kelvin sign
    for K, a zero-width space) is refused, naming the attribute."""
    try:
        return address_key(value)
    except AddressRefused as exc:
        raise InvalidValue(f"{field}: {exc.reason}") from None


def _name(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidValue("name must be an object")
    parts = {key: _text(value.get(key), f"name.{key}", limit) for key, limit in _NAME_PARTS}
    kept = {key: part for key, part in parts.items() if part}
    return kept or None


def _emails(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > _MAX_EMAILS:
        raise InvalidValue(f"emails must list at most {_MAX_EMAILS} addresses")
    emails: list[dict[str, Any]] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise InvalidValue("each of emails must be an object")
        address = _text(entry.get("value"), "emails.value", 320)
        if address is None or not _EMAIL.match(address):
            raise InvalidValue("emails.value must be an e-mail address")
        _address_key(address, f"emails[{index}].value")
        # Kept as sent (after the check), as /Schemas promises; the key is the claim's.
        kept: dict[str, Any] = {"value": address}
        kind = _text(entry.get("type"), "emails.type", 64)
        if kind:
            kept["type"] = kind
        if "primary" in entry and entry["primary"] is not None:
            kept["primary"] = _bool(entry["primary"], "emails.primary")
        emails.append(kept)
    if sum(1 for e in emails if e.get("primary")) > 1:  # RFC 7643 §2.4
        raise InvalidValue("at most one of emails may be primary")
    return emails or None


def _claim_email(user_name: str | None, emails: list[dict[str, Any]] | None) -> str | None:
    """The key of the address the membership is claimed with."""
    if user_name and _EMAIL.match(user_name):
        return _address_key(user_name, "userName")
    listed = emails or []
    chosen = (
        next((e for e in listed if e.get("primary")), None)
        or next((e for e in listed if e.get("type") == "work"), None)
        or next(iter(listed), None)
    )
    return _address_key(str(chosen["value"]), "emails.value") if chosen else None


def user_input(resource: dict[str, Any]) -> UserInput:
    """The attributes idsvc keeps, validated. A person claims the membership by e-mail: with
    neither an address as ``userName`` nor one in ``emails`` it is kept, unclaimable."""
    emails = _emails(resource.get("emails"))
    user_name = _text(resource.get("userName"), "userName", 320)
    if user_name is not None:
        try:
            # Not always an address ("jdoe"), but always what look-ups and uniqueness
            # compare: no invisible characters, no look-alike forms.
            check_plain_text(user_name)
        except AddressRefused as exc:
            raise InvalidValue(f"userName: {exc.reason}") from None
    claim_email = _claim_email(user_name, emails)
    user_name = user_name or claim_email
    if user_name is None:
        raise InvalidValue("userName is required")
    name = _name(resource.get("name"))
    display_name = _text(resource.get("displayName"), "displayName", 200)
    attributes: dict[str, Any] = {"userName": user_name}
    if name:
        attributes["name"] = name
    if display_name:
        attributes["displayName"] = display_name
    if emails:
        attributes["emails"] = emails
    active = resource.get("active")
    if active is not None:
        attributes["active"] = _bool(active, "active")
    given = " ".join(
        p for p in ((name or {}).get("givenName"), (name or {}).get("familyName")) if p
    )
    return UserInput(
        claim_email=claim_email,
        user_name=user_name,
        external_id=_text(resource.get("externalId"), "externalId", 256),
        # The membership's label holds 200 characters; the parts as sent stay in attributes.
        display_name=(display_name or (name or {}).get("formatted") or given or None or "")[:200]
        or None,
        active=attributes.get("active", True),
        attributes=attributes,
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
