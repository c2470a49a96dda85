"""The device verification page (RFC 8628 §3.3): the signed-in person checks the code
their terminal shows and approves or denies the program."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from idsvc.accounts.guards import signed_in_form
from idsvc.accounts.sessions import Session, csrf_token
from idsvc.crypto.opaque import normalize_user_code
from idsvc.db.database import Database
from idsvc.http.inject import Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.http.ratelimit import RateLimiter
from idsvc.oauth.client_auth import ClientRegistry
from idsvc.oauth.device import decide_device, pending_device
from idsvc.oidc.service import SignInService

__all__ = ["device_routes"]

_UNKNOWN = "That code is unknown, expired or already used: start again in your terminal."


def _display(code: str | None) -> str:
    return f"{code[:4]}-{code[4:]}" if code else ""


def _client_name(clients: ClientRegistry, client_id: str) -> str:
    client = clients.clients.get(client_id)
    return (client.name or client.id) if client else client_id


@get("/device", include_in_schema=False)
async def device_page(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    clients: Injected[ClientRegistry],
    database: Injected[Database],
    now: Now,
) -> Template:
    typed = request.query_params.get("user_code", "")[:20]
    code = normalize_user_code(typed)
    session = maybe_session
    context: dict[str, Any] = {
        "user_code": _display(code) or typed,
        "signed_in": session is not None,
        "providers": list(signin.providers.values()),
        "return_to": f"/device?user_code={_display(code)}" if code else "/device",
        "csrf_token": csrf_token(session) if session else "",
    }
    if session is not None and typed:
        async with database.connection() as conn:
            client_id = await pending_device(conn, typed, now)
        if client_id is None:
            context["error"] = _UNKNOWN
        else:
            context["client_name"] = _client_name(clients, client_id)
    return page("device.html", title="Connect a device", **context)


@post("/device", include_in_schema=False, status_code=200, guards=[signed_in_form])
async def device_decision(
    *,
    request: Request[Any, Any, Any],
    session: Injected[Session],
    token_limiter: Injected[RateLimiter],
    clients: Injected[ClientRegistry],
    conn: Transaction,
    now: Now,
) -> Response[Any]:
    form = await request.form()
    # Guessing codes needs many tries: each person gets the token-request budget.
    await token_limiter.hit(f"device:{session.user_id}")
    typed = str(form.get("user_code", ""))[:20]
    approve = form.get("decision") == "approve"
    client_id = await decide_device(
        conn, typed_code=typed, user_id=session.user_id, approve=approve, now=now
    )
    if client_id is None:
        return page(
            "device.html",
            title="Connect a device",
            status=400,
            signed_in=True,
            user_code=typed,
            error=_UNKNOWN,
            csrf_token=csrf_token(session),
        )
    return page(
        "device.html",
        title="Connect a device",
        signed_in=True,
        outcome="approved" if approve else "denied",
        client_name=_client_name(clients, client_id),
    )


device_routes = [device_page, device_decision]
