"""``GET /console``: each audience is sent to its own start page."""

from __future__ import annotations

from litestar import get
from litestar.response import Redirect

from idsvc.console.guard import Viewer, signed_in_viewer
from idsvc.http.inject import Injected

__all__ = ["routes"]


@get("/", include_in_schema=False, guards=[signed_in_viewer])
async def console_home(*, viewer: Injected[Viewer]) -> Redirect:
    return Redirect("/console/orgs" if viewer.operator else "/console/my-orgs", status_code=303)


routes = [console_home]
