"""The org admin's access review page: each member of the open review, confirmed or
removed by choosing per row and submitting once (idsvc.orgs.members.reviews)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.admin_common import admin_context, admin_viewer
from idsvc.console.forms import read_form
from idsvc.errors import BadRequest, IdsvcError
from idsvc.http.pages import page
from idsvc.orgs.members.reviews import current_review, decide_review
from idsvc.orgs.vetting.organisations import get_organisation
from idsvc.runtime import Runtime, RuntimeDependency

__all__ = ["review_pages"]


async def _review_page(
    request: Request[Any, Any, Any], runtime: Runtime, org_id: uuid.UUID, **extra: Any
) -> Template:
    seen = await admin_viewer(request, runtime, org_id, "read")
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        review = await current_review(conn, org_id)
    return page(
        "console/review.html",
        title=f"Access review — {org.legal_name}",
        section=f"org-{org_id}",
        status=extra.pop("status", 200),
        org=org,
        review=review,
        done=request.query_params.get("done"),
        **extra,
        **await admin_context(runtime, seen),
    )


@get("/my-orgs/{org_id:uuid}/review", include_in_schema=False)
async def review_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    return await _review_page(request, runtime, org_id)


@post("/my-orgs/{org_id:uuid}/review", include_in_schema=False, status_code=303)
async def review_decide(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    """Form fields ``decision-<membership id>`` = ``confirm`` / ``remove`` / ``later``."""
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    data = await read_form(request, seen.session)
    confirm, remove = [], []
    try:
        for name, value in data.items():
            if not name.startswith("decision-") or value == "later":
                continue
            membership = uuid.UUID(name.removeprefix("decision-"))
            if value == "confirm":
                confirm.append(membership)
            elif value == "remove":
                remove.append(membership)
            else:
                raise BadRequest("each decision is confirm, remove or later")
        async with runtime.pool.acquire() as conn, conn.transaction():
            await decide_review(
                conn,
                org_id=org_id,
                confirm=confirm,
                remove=remove,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except ValueError:
        return await _review_page(
            request, runtime, org_id, status=400, error="The form was not understood; reload it."
        )
    except IdsvcError as exc:  # another admin decided meanwhile, or the review closed
        return await _review_page(request, runtime, org_id, status=exc.status, error=exc.detail)
    return Redirect(f"/console/my-orgs/{org_id}/review?done=recorded", status_code=303)


review_pages = [review_page, review_decide]
