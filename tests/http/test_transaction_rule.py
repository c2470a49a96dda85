"""The one transaction rule (``db.database.Database.transaction``), through Litestar's
dependency injection as handlers receive it: a handler that returns commits, one that
raises an ``AuditedRefusal`` commits what it wrote and still answers the refusal, anything
else rolls back; and the commit is done before the response reaches the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar, Request, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.db.database import Database
from idsvc.errors import AccessDenied, BadRequest, Unavailable
from idsvc.http.inject import Transaction, provide_transaction
from idsvc.http.problems import exception_handlers

_CREATE = "CREATE TABLE IF NOT EXISTS rule_probe (label text PRIMARY KEY)"
_WRITE = "INSERT INTO rule_probe (label) VALUES ($1)"


@post("/returns/{label:str}", status_code=200)
async def returns(label: FromPath[str], conn: Transaction) -> dict[str, str]:
    await conn.execute(_WRITE, label)
    return {"written": label}


@post("/reads/{label:str}", status_code=200)
async def reads(label: FromPath[str], request: Request[Any, Any, Any], conn: Transaction) -> None:
    """Like every handler that decodes its body after its dependencies are resolved."""
    await request.body()
    await conn.execute(_WRITE, label)


@post("/audited/{label:str}")
async def audited(label: FromPath[str], conn: Transaction) -> None:
    await conn.execute(_WRITE, label)
    raise AccessDenied("refused after its audit event was written")


@post("/fails/{label:str}")
async def fails(label: FromPath[str], conn: Transaction) -> None:
    await conn.execute(_WRITE, label)
    raise BadRequest("refused half-way")


@post("/crashes/{label:str}")
async def crashes(label: FromPath[str], conn: Transaction) -> None:
    await conn.execute(_WRITE, label)
    raise ZeroDivisionError


@pytest.fixture
async def probe(
    pool: db.Pool, database_url: str
) -> AsyncIterator[tuple[AsyncTestClient[Litestar], db.Pool]]:
    """The app, with its own pool opened in its own event loop (as the service's lifespan
    does); the test reads what was committed through another pool."""
    await pool.execute(_CREATE)
    database = Database()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        app_pool = await db.create_pool(database_url, min_size=1, max_size=2)
        database.attach(app_pool)
        try:
            yield
        finally:
            database.attach(None)
            await app_pool.close()

    app = Litestar(
        route_handlers=[returns, audited, fails, crashes],
        dependencies={"conn": Provide(provide_transaction(database))},
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
    )
    async with AsyncTestClient(app) as client:
        yield client, pool


async def _stored(pool: db.Pool, label: str) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM rule_probe WHERE label = $1", label))


async def test_a_handler_that_returns_commits_before_its_answer(probe: tuple) -> None:
    client, pool = probe
    response = await client.post("/returns/kept")
    assert response.status_code == 200
    # Read on another connection right after the answer: already committed.
    assert await _stored(pool, "kept")


async def test_an_audited_refusal_commits_what_it_wrote_and_is_answered(probe: tuple) -> None:
    client, pool = probe
    response = await client.post("/audited/denial-event")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:idsvc:problem:access_denied"
    assert await _stored(pool, "denial-event")


@pytest.mark.parametrize(("path", "status"), [("/fails/", 400), ("/crashes/", 500)])
async def test_any_other_exception_rolls_back(probe: tuple, path: str, status: int) -> None:
    client, pool = probe
    response = await client.post(f"{path}half-done")
    assert response.status_code == status
    assert not await _stored(pool, "half-done")


async def test_without_a_pool_the_transaction_fails_closed() -> None:
    database = Database()
    with pytest.raises(Unavailable):
        async with database.transaction():
            pass


async def test_no_connection_is_held_while_the_body_arrives(pool: db.Pool) -> None:
    """Found in review: the transaction began before the handler read its body, so a
    client sending its body slowly held a pooled connection (and an open transaction)."""
    await pool.execute(_CREATE)
    database = Database()
    database.attach(pool)
    app = Litestar(
        route_handlers=[reads],
        dependencies={"conn": Provide(provide_transaction(database))},
        exception_handlers=exception_handlers,
    )
    body_sent = asyncio.Event()
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        await body_sent.wait()  # the client is slow
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/reads/slow",
        "raw_path": b"/reads/slow",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"content-length", b"0")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    request = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.3)
        idle_while_waiting = pool.get_idle_size() == pool.get_size()
    finally:
        body_sent.set()  # the request ends either way, and gives its connection back
        await asyncio.wait_for(request, 10)
    assert idle_while_waiting, "a connection was taken before the body arrived"
    assert sent[0]["status"] == 200
    assert await _stored(pool, "slow")
