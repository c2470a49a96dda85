"""``GET /dev/outbox``: the mails `idsvc dev` would have sent, newest first. Registered only
in development, where no SMTP server is needed.

Operators only: the mails carry invitation codes, and whoever reads a code can accept the
invitation (with an account whose provider verified the invited address, but a shared
development machine is no reason to hand codes to every visitor)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from idsvc.console.guard import SignInFirst, Viewer, operator_viewer, provide_viewer
from idsvc.http.inject import Injected
from idsvc.http.pages import page
from idsvc.mail.senders import ConsoleMailer

__all__ = ["outbox_route"]


def _sign_in_first(_: Request[Any, Any, Any], exc: SignInFirst) -> Response[Any]:
    # The page lives outside /console and its error pages, so it redirects by itself.
    return Redirect(exc.detail, status_code=303)


def outbox_route(mailer: ConsoleMailer) -> HTTPRouteHandler:
    @get(
        "/dev/outbox",
        include_in_schema=False,
        guards=[operator_viewer],
        dependencies={"viewer": Provide(provide_viewer, sync_to_thread=False)},
        exception_handlers={SignInFirst: _sign_in_first},
    )
    async def outbox(*, viewer: Injected[Viewer]) -> Response[Any]:
        return page(
            "outbox.html",
            title="Development outbox",
            mails=list(reversed(mailer.outbox)),
            **viewer.page_context(),
        )

    return outbox
