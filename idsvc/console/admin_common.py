"""What the org admin pages share: who is looking (an admin of *that* organisation, through
the API's ``require_org_admin``), the organisation page they return to, and their forms."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import Template

from idsvc.accounts.sessions import csrf_valid
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import Viewer, viewer
from idsvc.errors import CsrfFailed, InvalidCsvRequest
from idsvc.http.pages import page
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.domains.service import (
    list_domains,
)
from idsvc.orgs.members.member_list import MemberQuery, list_members
from idsvc.orgs.state_rules import ORG_ACTIONS, OrgAction, allowed
from idsvc.orgs.vetting.organisations import get_organisation, list_user_organisations
from idsvc.runtime import Runtime
from idsvc.scim.group_admin_routes import group_view
from idsvc.scim.groups import list_groups
from idsvc.scim.tokens import list_tokens

__all__ = [
    "MAX_CSV_BYTES",
    "AutoJoinForm",
    "DomainForm",
    "InviteForm",
    "MemberAction",
    "RequestForm",
    "RoleForm",
    "TokenForm",
    "admin_context",
    "admin_viewer",
    "csv_text",
    "form_or_page",
    "org_page",
    "split_list",
]


MAX_CSV_BYTES = 8 * 1024 * 1024


class RequestForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    legal_name: Annotated[str, msgspec.Meta(min_length=2, max_length=300)]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=3)]
    contact_email: Annotated[
        str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    domains: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    programs: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[a-z0-9, -]*$")] = ""


class MemberAction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["active", "suspended", "removed"]
    # Destructive actions need the box ticked: a second, deliberate step.
    confirm: Literal["yes"] | None = None


class RoleForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "member"]


class GroupRoleForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["none", "admin"]


class TokenForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


async def admin_context(runtime: Runtime, seen: Viewer) -> dict[str, Any]:
    async with runtime.pool.acquire() as conn:
        mine = await list_user_organisations(conn, seen.session.user_id)
    admin_of = [o for o in mine if o.role == "admin" and o.member_status == "active"]
    return {
        **seen.page_context(),
        "console_orgs": [{"id": o.id, "legal_name": o.legal_name} for o in admin_of],
        "mine": mine,
    }


async def admin_viewer(
    request: Request[Any, Any, Any], runtime: Runtime, org_id: uuid.UUID, action: OrgAction
) -> Viewer:
    seen = await viewer(request, runtime)
    async with runtime.pool.acquire() as conn:
        await require_org_admin(
            conn,
            org_id=org_id,
            user_id=seen.session.user_id,
            operators=runtime.settings.config.operators,
            action=action,
        )
    return seen


async def org_page(
    request: Request[Any, Any, Any], runtime: Runtime, org_id: uuid.UUID, seen: Viewer, **extra: Any
) -> Template:
    raw = {
        k: v for k, v in request.query_params.items() if k in ("q", "after") and isinstance(v, str)
    }
    query = MemberQuery(q=raw.get("q", "")[:320], after=raw.get("after") or None, limit=50)
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        members = await list_members(
            conn, org_id, query, policies=runtime.policies, now=runtime.clock()
        )
        tokens = await list_tokens(conn, org_id)
        domains = await list_domains(conn, org_id)
        groups = [group_view(g) for g in await list_groups(conn, org_id)]
    return page(
        "console/my_org.html",
        title=org.legal_name,
        section=f"org-{org_id}",
        status=extra.pop("status", 200),
        org=org,
        members=members,
        q=query.q,
        tokens=tokens,
        domains=domains,
        groups=groups,
        # Forms the organisation's state allows (state_rules); the rest are not shown.
        may={action: allowed(org.status, action) for action in ORG_ACTIONS},
        scim_base=f"{runtime.settings.service.issuer}/scim/v2",
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        **extra,
        **await admin_context(runtime, seen),
    )


class DomainForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    domain: Annotated[str, msgspec.Meta(min_length=3, max_length=253)]


class AutoJoinForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["off", "pending", "active"]


class InviteForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    emails: Annotated[str, msgspec.Meta(min_length=3, max_length=50_000)]
    role: Literal["member", "admin"] = "member"


async def form_or_page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    org_id: uuid.UUID,
    seen: Viewer,
    *,
    struct: Any,
    failed: str,
) -> tuple[Any, Template | None]:
    data = await read_form(request, seen.session)
    form, errors = validate_form(struct, data)
    if form is None:
        page_ = await org_page(
            request, runtime, org_id, seen, status=400, errors=errors, values=data, failed=failed
        )
        return None, page_
    return form, None


async def csv_text(request: Request[Any, Any, Any], seen: Viewer) -> str:
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_valid(seen.session, token if isinstance(token, str) else None):
        raise CsrfFailed("the form is stale or came from another site; reload the page")
    upload, pasted = form.get("file"), form.get("csv")
    raw = (
        await upload.read()
        if isinstance(upload, UploadFile)
        else (pasted or "").encode()
        if isinstance(pasted, str)
        else b""
    )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCsvRequest("the file must be UTF-8 text") from None
