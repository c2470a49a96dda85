"""The guard for OAuth endpoints: ``guards=[oauth_client]``.

It reads the form (RFC 6749 parameters: ``oauth.form.read_form``, which Litestar keeps for
the handler) and authenticates the client (``oauth.service.OAuthClients``: Basic, a client
assertion, or a public client's id), before the handler takes anything from the pool. The
client and the form reach the handler as ``client`` and ``form``; the actor is
``client:<id>``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.config.oauth import ClientSettings
from idsvc.http.inject import Injected, service, set_actor
from idsvc.oauth.form import read_form
from idsvc.oauth.service import OAuthClients

__all__ = ["Form", "oauth_client", "provide_client", "provide_form"]

_CLIENT_KEY = "idsvc_oauth_client"
_FORM_KEY = "idsvc_oauth_form"

Form: TypeAlias = Injected[dict[str, str]]


async def oauth_client(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not isinstance(connection, Request):
        raise TypeError("oauth_client guards HTTP routes only")
    form = await read_form(connection)
    clients = service(connection, "oauth_clients", OAuthClients)
    client = await clients.authenticate(form, connection.headers.get("authorization"))
    connection.state[_FORM_KEY] = form
    connection.state[_CLIENT_KEY] = client
    set_actor(connection, f"client:{client.id}")


def provide_client(request: ASGIConnection[Any, Any, Any, Any]) -> ClientSettings:
    client: ClientSettings = request.state[_CLIENT_KEY]
    return client


def provide_form(request: ASGIConnection[Any, Any, Any, Any]) -> dict[str, str]:
    form: dict[str, str] = request.state[_FORM_KEY]
    return form
