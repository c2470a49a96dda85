"""``GET /dev/outbox``: the mails `idsvc dev` would have sent, newest first. Registered only
in development, where no SMTP server is needed."""

from __future__ import annotations

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from idsvc.mail.senders import ConsoleMailer
from idsvc.web.pages import page

__all__ = ["outbox_route"]


def outbox_route(mailer: ConsoleMailer) -> HTTPRouteHandler:
    @get("/dev/outbox", include_in_schema=False)
    async def outbox() -> Template:
        return page("outbox.html", title="Development outbox", mails=list(reversed(mailer.outbox)))

    return outbox
