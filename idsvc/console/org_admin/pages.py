"""What the org admin pages share: their forms, and the organisation page every form of it
returns to (with the form's errors on a refusal), rendered by :class:`OrgAdminPages`,
which handlers receive as ``org_pages``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import Template

from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import Viewer
from idsvc.console.org_admin.service import admin_menu, org_overview
from idsvc.db import Connection
from idsvc.errors import InvalidCsvRequest
from idsvc.http.inject import Injected, Now
from idsvc.http.pages import page
from idsvc.orgs.members.member_list import MemberQuery
from idsvc.orgs.state_rules import ORG_ACTIONS, allowed
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

__all__ = [
    "MAX_CSV_BYTES",
    "AutoJoinForm",
    "DomainForm",
    "GroupRoleForm",
    "InviteForm",
    "MemberAction",
    "OrgAdminPages",
    "RequestForm",
    "RoleForm",
    "TokenForm",
    "csv_text",
    "provide_org_admin_pages",
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


class DomainForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    domain: Annotated[str, msgspec.Meta(min_length=3, max_length=253)]


class AutoJoinForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["off", "pending", "active"]


class InviteForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    emails: Annotated[str, msgspec.Meta(min_length=3, max_length=50_000)]
    role: Literal["member", "admin"] = "member"


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class OrgAdminPages:
    """The request's org admin pages: who is looking, and what the organisation page shows.
    Its methods take the connection, so a handler that must stay outside a transaction
    (DNS, mail) renders from a connection of its own."""

    def __init__(
        self,
        *,
        request: Request[Any, Any, Any],
        viewer: Viewer,
        policies: dict[str, PolicySettings],
        settings: Settings,
        now: datetime,
    ) -> None:
        self.request = request
        self.viewer = viewer
        self.policies = policies
        self.settings = settings
        self.now = now

    async def context(self, conn: Connection) -> dict[str, Any]:
        """What every org admin page shows around its content."""
        return {
            **self.viewer.page_context(),
            **await admin_menu(conn, self.viewer.session.user_id),
        }

    async def org_page(
        self,
        conn: Connection,
        org_id: uuid.UUID,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        **extra: Any,
    ) -> Template:
        raw = {
            k: v
            for k, v in self.request.query_params.items()
            if k in ("q", "after") and isinstance(v, str)
        }
        query = MemberQuery(q=raw.get("q", "")[:320], after=raw.get("after") or None, limit=50)
        shown = await org_overview(
            conn, org_id, query, policies=self.policies,
            screening=self.settings.config.screening,
            sees_eligibility=self.settings.config.orgs.admin_sees_eligibility, now=self.now,
        )  # fmt: skip
        return page(
            "console/my_org.html",
            title=shown.org.legal_name,
            section=f"org-{org_id}",
            status=status,
            org=shown.org,
            members=shown.members,
            q=query.q,
            tokens=shown.tokens,
            domains=shown.domains,
            groups=shown.groups,
            # Forms the organisation's state allows (state_rules); the rest are not shown.
            may={action: allowed(shown.org.status, action) for action in ORG_ACTIONS},
            scim_base=f"{self.settings.service.issuer}/scim/v2",
            errors=errors or {},
            values=values or {},
            **extra,
            **await self.context(conn),
        )

    async def form_or_page(
        self, conn: Connection, org_id: uuid.UUID, *, struct: Any, failed: str
    ) -> tuple[Any, Template | None]:
        """The posted form as ``struct``, or the organisation page showing its errors."""
        data = await read_form(self.request)
        form, errors = validate_form(struct, data)
        if form is None:
            shown = await self.org_page(
                conn, org_id, status=400, errors=errors, values=data, failed=failed
            )
            return None, shown
        return form, None


def provide_org_admin_pages(
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    settings: Injected[Settings],
    now: Now,
) -> OrgAdminPages:
    return OrgAdminPages(
        request=request, viewer=viewer, policies=policies, settings=settings, now=now
    )


async def csv_text(request: Request[Any, Any, Any]) -> str:
    """The CSV of an import form, uploaded or pasted (its CSRF token was checked by the
    route's ``form_csrf`` guard)."""
    form = await request.form()
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
