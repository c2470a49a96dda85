"""The org admin's access review page: each member of the open review, confirmed or
removed by choosing per row and submitting once (idsvc.orgs.members.reviews)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.forms import read_form
from idsvc.console.guard import form_csrf
from idsvc.console.org_admin.guard import administers
from idsvc.console.org_admin.pages import OrgAdminPages
from idsvc.console.org_admin.review.service import open_review, parse_decisions, record_decisions
from idsvc.db import Connection
from idsvc.errors import IdsvcError
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page

__all__ = ["routes"]


async def _review_page(
    conn: Connection,
    org_id: uuid.UUID,
    *,
    request: Request[Any, Any, Any],
    org_pages: OrgAdminPages,
    status: int = 200,
    **extra: Any,
) -> Template:
    org, review = await open_review(conn, org_id)
    return page(
        "console/review.html",
        title=f"Access review — {org.legal_name}",
        section=f"org-{org_id}",
        status=status,
        org=org,
        review=review,
        done=request.query_params.get("done"),
        **extra,
        **await org_pages.context(conn),
    )


@get("/my-orgs/{org_id:uuid}/review", include_in_schema=False, guards=[administers("read")])
async def review_page(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
) -> Template:
    return await _review_page(conn, org_id, request=request, org_pages=org_pages)


@post(
    "/my-orgs/{org_id:uuid}/review",
    include_in_schema=False,
    status_code=303,
    guards=[administers("enroll"), form_csrf],
)
async def review_decide(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    """Form fields ``decision-<membership id>`` = ``confirm`` / ``remove`` / ``later``."""
    data = await read_form(request)
    try:
        confirm, remove = parse_decisions(data)
        # A savepoint: decisions refused part-way leave nothing of themselves behind.
        async with conn.transaction():
            await record_decisions(
                conn, org_id, confirm=confirm, remove=remove, actor=actor, now=now
            )
    except ValueError:
        return await _review_page(
            conn, org_id, request=request, org_pages=org_pages, status=400,
            error="The form was not understood; reload it.",
        )  # fmt: skip
    except IdsvcError as exc:  # another admin decided meanwhile, or the review closed
        return await _review_page(
            conn, org_id, request=request, org_pages=org_pages, status=exc.status,
            error=exc.detail,
        )  # fmt: skip
    return Redirect(f"/console/my-orgs/{org_id}/review?done=recorded", status_code=303)


routes = [review_page, review_decide]
