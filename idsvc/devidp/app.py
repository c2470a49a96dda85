"""The demo provider as a Litestar app, on its own or mounted inside another app."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from litestar import Litestar, asgi
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from idsvc.devidp.api import ROUTES
from idsvc.devidp.pages import TEMPLATE_DIRECTORY
from idsvc.devidp.provider import DemoIdP

if TYPE_CHECKING:
    from litestar.handlers import ASGIRouteHandler
    from litestar.types import Receive, Scope, Send

    from idsvc.devidp.settings import DemoIdPSettings

__all__ = ["create_demo_idp", "demo_idp_mount"]

# Token and persona forms are a few hundred bytes.
MAX_REQUEST_BODY = 16 * 1024


def create_demo_idp(settings: DemoIdPSettings) -> Litestar:
    idp = DemoIdP(settings)

    def provide_idp() -> DemoIdP:
        return idp

    return Litestar(
        route_handlers=ROUTES,
        dependencies={"idp": Provide(provide_idp, sync_to_thread=False)},
        template_config=TemplateConfig(directory=TEMPLATE_DIRECTORY, engine=JinjaTemplateEngine),
        request_max_body_size=MAX_REQUEST_BODY,
        openapi_config=None,
        logging_config=None,  # the host process configures logging (idsvc.http.logs)
    )


def demo_idp_mount(settings: DemoIdPSettings) -> ASGIRouteHandler:
    """A route handler that serves the demo provider under the issuer's path.

    Add it to another app's ``route_handlers``; the issuer's scheme, host and port must
    be where that app is reached, e.g. ``http://127.0.0.1:8000/demo-idp``.
    """
    path = urlsplit(settings.issuer).path.rstrip("/")
    if not path:
        raise ValueError(
            "devidp.issuer: mounting needs a path, e.g. http://127.0.0.1:8000/demo-idp"
        )
    app = create_demo_idp(settings)

    @asgi(path, is_mount=True, copy_scope=True)
    async def demo_idp(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return demo_idp
