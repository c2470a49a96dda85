"""``/v1/orgs/{id}/reviews``: an organisation's admins see the current access review and
confirm or remove each member (idsvc.orgs.reviews)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.errors import NotFound
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.admin_guard import org_admin_user
from idsvc.orgs.reviews import Review, current_review, decide_review
from idsvc.runtime import RuntimeDependency

__all__ = ["review_routes"]

_NO_STORE = {"Cache-Control": "no-store"}
_Ids = Annotated[list[uuid.UUID], msgspec.Meta(max_length=10_000)]


class ReviewDecisions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    confirm: _Ids = []
    remove: _Ids = []


@get("/v1/orgs/{org_id:uuid}/reviews/current")
async def current(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Review]:
    await org_admin_user(request, runtime, org_id, changing=False, action="read")
    async with runtime.pool.acquire() as conn:
        review = await current_review(conn, org_id)
    if review is None:
        raise NotFound("no access review yet for this organisation")
    return Response(review, headers=_NO_STORE)


@post("/v1/orgs/{org_id:uuid}/reviews", status_code=200, opt=documented(body=ReviewDecisions))
async def decide(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Review]:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="enroll")
    body = await read_json(request, ReviewDecisions)
    async with runtime.pool.acquire() as conn, conn.transaction():
        review = await decide_review(
            conn,
            org_id=org_id,
            confirm=body.confirm,
            remove=body.remove,
            actor=f"user:{user}",
            now=runtime.clock(),
        )
    return Response(review, headers=_NO_STORE)


review_routes = [current, decide]
