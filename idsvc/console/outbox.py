"""``GET /dev/outbox``: the mails `idsvc dev` would have sent, newest first. Registered only
in development, where no SMTP server is needed.

Operators only: the mails carry invitation codes, and whoever reads a code can accept the
invitation (with an account whose provider verified the invited address, but a shared
development machine is no reason to hand codes to every visitor)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from idsvc.console.guard import SignInFirst, operator_viewer
from idsvc.http.pages import page
from idsvc.mail.senders import ConsoleMailer
from idsvc.runtime import RuntimeDependency

__all__ = ["outbox_route"]


def outbox_route(mailer: ConsoleMailer) -> HTTPRouteHandler:
    @get("/dev/outbox", include_in_schema=False)
    async def outbox(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
        try:
            seen = await operator_viewer(request, runtime)
        except SignInFirst as redirect:
            return Redirect(redirect.detail, status_code=303)
        return page(
            "outbox.html",
            title="Development outbox",
            mails=list(reversed(mailer.outbox)),
            **seen.page_context(),
        )

    return outbox
