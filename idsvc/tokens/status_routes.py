"""``GET /status-lists/{id}``: a status list as ``application/statuslist+jwt``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from idsvc.errors import NotFound
from idsvc.http.openapi import documented
from idsvc.runtime import RuntimeDependency

__all__ = ["status_list_routes"]

MEDIA_TYPE = "application/statuslist+jwt"
_MAX_LIST_ID = 2**63 - 1  # bigint


@get(
    "/status-lists/{list_id:int}",
    opt=documented(returns=(MEDIA_TYPE,), conditional=True),
)
async def status_list(
    request: Request[Any, Any, Any], list_id: FromPath[int], runtime: RuntimeDependency
) -> Response[bytes]:
    if not 0 < list_id <= _MAX_LIST_ID:
        # Found: an id beyond PostgreSQL's bigint reached the query and answered 500.
        raise NotFound("no such status list")
    document = await runtime.status_lists.document(runtime.pool, list_id, runtime.clock())
    if document is None:
        raise NotFound("no such status list")
    headers = {
        "Cache-Control": f"public, max-age={runtime.status_lists.ttl}",
        "ETag": document.etag,
    }
    if request.headers.get("if-none-match") == document.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(document.body, media_type=MEDIA_TYPE, headers=headers)


status_list_routes = [status_list]
