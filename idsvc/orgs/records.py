"""Organisations and memberships as stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["MemberRole", "MemberSource", "MemberStatus", "Membership", "OrgStatus", "Organisation"]

OrgStatus = Literal["pending", "approved", "rejected", "suspended"]
MemberRole = Literal["admin", "member"]
MemberStatus = Literal["invited", "pending", "active", "suspended", "removed"]
MemberSource = Literal["request", "invitation", "csv", "scim", "auto_join", "operator"]


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    legal_name: str
    country: str
    registration_ids: list[dict[str, str]]
    contact_email: str
    status: OrgStatus
    status_reason: str | None
    programs_requested: list[str]
    programs: list[str]
    auto_join: Literal["off", "pending", "active"]
    requested_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    user_id: uuid.UUID | None
    email: str | None
    role: MemberRole
    status: MemberStatus
    source: MemberSource
    external_id: str | None
    display_name: str | None
    created_at: datetime
    updated_at: datetime
