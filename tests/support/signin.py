"""Signing in, for tests. Two ways, one module:

* through the real flow, idsvc → the provider → idsvc, as a person does:
  ``sign_in`` (HTTP, any ``httpx`` client; the demo provider's persona page, or a provider
  that answers at once) and ``open_signed_in_page`` (a real Chromium);
* straight to the database, for tests whose subject is not sign-in itself:
  ``session_caller`` writes a user (unless given one) and a session, and returns the cookie
  and the CSRF header a browser would send; ``call`` makes one request as that caller.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import msgspec

from idsvc import db
from idsvc.accounts.operators import grant_operator
from idsvc.accounts.sessions import SESSION_COOKIE, Session, create_session, csrf_token
from tests.support.factories import create_user

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from playwright.async_api import Browser, BrowserContext, Page

__all__ = [
    "Caller",
    "call",
    "choose_persona",
    "confirm_link",
    "open_signed_in_page",
    "session_caller",
    "sign_in",
]

_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
_TRANSACTION = re.compile(r'name="transaction" value="([^"]+)"')
_SESSION = "SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1"
_ATTEST = """
INSERT INTO attestations (id, user_id, kind, attested_values, provider, trust_framework,
                          assurance, verified_at, expires_at, recorded_at)
VALUES ($1, $2, 'us_person_basis', '{citizen}', 'test', 'test', 'IAL2', $3, $4, $3)
"""


# Through the real flow ----------------------------------------------------------------


async def sign_in(
    client: httpx.AsyncClient,
    persona: str | None = None,
    *,
    provider: str = "demo",
    return_to: str | None = None,
) -> httpx.Response:
    """The whole round trip through ``/login/{provider}``; returns idsvc's answer to the
    callback. With ``persona``, the person picks it on the demo provider's page; without,
    the provider answers at once (a test's own provider). ``return_to`` is the page the
    sign-in was started from."""
    params = {"return_to": return_to} if return_to is not None else None
    start = await client.get(f"/login/{provider}", params=params)
    assert start.status_code == 303, start.text
    if persona is not None:
        callback = await choose_persona(client, start.headers["location"], persona)
    else:
        callback = (await client.get(start.headers["location"])).headers["location"]
    return await client.get(callback)


async def choose_persona(client: httpx.AsyncClient, authorize_url: str, persona: str) -> str:
    """At the demo provider's page, pick a persona; returns the callback URL it redirects to."""
    page = await client.get(authorize_url)
    assert page.status_code == 200, page.text
    action = html.unescape(_FORM_ACTION.search(page.text).group(1))  # type: ignore[union-attr]
    transaction = html.unescape(_TRANSACTION.search(page.text).group(1))  # type: ignore[union-attr]
    decided = await client.post(
        httpx.URL(authorize_url).join(action),
        data={"transaction": transaction, "persona": persona},
    )
    assert decided.status_code == 303, decided.text
    return decided.headers["location"]


async def confirm_link(client: httpx.AsyncClient, callback: httpx.Response) -> httpx.Response:
    """Answer the confirmation page that a signed-in browser's sign-in leads to, as the
    person does when the identity is theirs; returns the answer to the POST."""
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"].startswith("/link"), callback.headers["location"]
    page = await client.get(callback.headers["location"], headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return await client.post("/link", data={"csrf_token": csrf, "decision": "link"})


async def open_signed_in_page(
    browser: Browser, service: str, persona: str, start: str = "/me"
) -> tuple[BrowserContext, Page]:
    """A new browser context that opens ``start`` and signs in there with the demo
    provider's ``persona`` (its display name); returns the context and its page."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{service}{start}")
    await page.get_by_role("link", name="Sign in with the demo identity provider").click()
    await page.get_by_role("button", name=f"Continue as {persona}").click()
    return context, page


# Straight to the database ---------------------------------------------------------------


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    cookies: dict[str, str]
    headers: dict[str, str]


async def session_caller(
    pool: db.Pool,
    now: datetime,
    *,
    email: str | None = None,
    subject: str | None = None,
    user_id: uuid.UUID | None = None,
    us_person: bool = False,
    operator: bool = False,
) -> Caller:
    """A session for a new user (provider ``test``, the given ``email`` or ``subject``) or
    for ``user_id``. ``us_person``: the user also holds a current U.S.-person attestation
    (citizen, IAL2, a year), as a proofing provider records it. ``operator``: the user is
    also made an operator at run time (configured operators are named by ``subject``).

    Set ``cookies`` on the client (``client.cookies.update``) and pass ``headers`` on
    state-changing requests (they carry X-CSRF-Token)."""
    async with db.transaction(pool) as conn:
        if user_id is None:
            user_id = await create_user(conn, now, email=email, subject=subject)
        cookie = await create_session(conn, user_id=user_id, now=now, absolute_lifetime=86_400)
        row = await conn.fetchrow(_SESSION, user_id)
    session = msgspec.convert({k: row[k] for k in Session.__struct_fields__ if k in row}, Session)
    if us_person:
        async with db.transaction(pool) as conn:
            await conn.execute(_ATTEST, uuid.uuid4(), user_id, now, now + timedelta(days=365))
    if operator:
        async with db.transaction(pool) as conn:
            await grant_operator(
                conn, user_id=user_id, reason="tests: four eyes", actor="test", now=now
            )
    return Caller(
        user_id=user_id,
        cookies={SESSION_COOKIE: cookie},
        headers={"x-csrf-token": csrf_token(session)},
    )


async def call(
    client: AsyncTestClient[Litestar],
    caller: Caller,
    method: str,
    url: str,
    json: object = None,
) -> httpx.Response:
    """One request as ``caller``: its session cookie, and its CSRF header."""
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    if json is None:
        return await client.request(method, url, headers=caller.headers)
    return await client.request(method, url, json=json, headers=caller.headers)
