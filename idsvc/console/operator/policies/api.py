"""``GET /console/policies``: every policy, and (with ``user`` and ``audience``) what one
decides for one person."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.response import Template

from idsvc.console.forms import FormErrors, validate_form
from idsvc.console.guard import Viewer, operator_viewer
from idsvc.console.operator.policies.service import check_policy
from idsvc.http.inject import Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings

__all__ = ["routes"]


class CheckForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user: uuid.UUID
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


@get("/policies", include_in_schema=False, guards=[operator_viewer])
async def policies_page(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    conn: Transaction,
    now: Now,
) -> Template:
    raw = {k: str(v).strip() for k, v in request.query_params.items() if k in ("user", "audience")}
    result = None
    errors: FormErrors = {}
    if raw:
        form, errors = validate_form(CheckForm, raw)
        if form is not None and form.audience not in policies:
            errors = {"audience": "No policy protects that audience."}
        if form is not None and not errors:
            result = await check_policy(
                conn, policies[form.audience], form.user, now, screening=screening
            )
            if result is None:
                errors = {"user": "No user has that id."}
    return page(
        "console/policies.html",
        title="Policies",
        section="policies",
        status=400 if errors else 200,
        policies=list(policies.values()),
        values=raw,
        errors=errors,
        result=result,
        **viewer.page_context(),
    )


routes = [policies_page]
