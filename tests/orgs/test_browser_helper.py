"""The signed-in caller helper yields a session the app accepts, CSRF included."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.signin import session_caller


async def test_the_helper_session_is_accepted_and_csrf_still_enforced(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    caller = await session_caller(pool, clock())
    client.cookies.update(caller.cookies)
    me = await client.get("/v1/me")
    assert me.status_code == 200, me.text
    no_csrf = await client.post("/v1/eligibility-tokens", json={"audience": "x"})
    assert no_csrf.status_code == 403
    with_csrf = await client.post(
        "/v1/eligibility-tokens",
        json={"audience": "x"},
        headers=caller.headers,
    )
    assert with_csrf.status_code == 400  # past CSRF: no policy protects "x"
