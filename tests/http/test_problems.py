"""Bad HTTP input gets an RFC 9457 problem with a stable type, never a 500 or a trace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar, Request, post

from idsvc.errors import Conflict
from idsvc.http.body import read_json
from idsvc.http.openapi import documented

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient


class Probe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    count: Annotated[int, msgspec.Meta(ge=0, le=10)]


class NameTaken(Conflict):
    """The probe's name is taken."""

    code = "name_taken"


@post("/test-probe", opt=documented(body=Probe))
async def probe(request: Request[Any, Any, Any]) -> dict[str, object]:
    data = await read_json(request, Probe)
    if data.name == "taken":
        raise NameTaken("that name is taken")
    if data.name == "crash":
        raise RuntimeError("secret internal detail")
    if data.name == "deadlock":
        # What PostgreSQL answers to one of two transactions that waited for each other.
        raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    return {"name": data.name}


@pytest.fixture
def app(app: Litestar) -> Litestar:
    app.register(probe)
    return app


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:idsvc:problem:{code}"
    assert body["status"] == status
    assert body["title"]
    return body


async def test_unknown_route(client: AsyncTestClient[Litestar]) -> None:
    assert_problem(await client.get("/no/such/route"), 404, "not_found")


async def test_wrong_method(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'"string"', b"\xff\xfe"],
    ids=["malformed", "empty", "array", "string", "not-utf8"],
)
async def test_malformed_json(client: AsyncTestClient[Litestar], body: bytes) -> None:
    response = await client.post(
        "/test-probe", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(
        response,
        400,
        "malformed_json" if body != b"[]" and body != b'"string"' else "invalid_request",
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "a", "count": "3"}, "count"),
        ({"name": "a", "count": 11}, "count"),
        ({"name": "", "count": 1}, "name"),
        ({"name": "a" * 21, "count": 1}, "name"),
        ({"count": 1}, "name"),
        ({"name": "a", "count": 1, "admin": True}, "admin"),
    ],
    ids=["wrong-type", "out-of-range", "too-short", "too-long", "missing", "unknown-field"],
)
async def test_invalid_fields(
    client: AsyncTestClient[Litestar], payload: dict[str, object], field: str
) -> None:
    body = assert_problem(await client.post("/test-probe", json=payload), 400, "invalid_request")
    assert field in str(body)


async def test_oversized_body(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/test-probe",
        content=b'{"name": "' + b"a" * 10_000 + b'", "count": 1}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload_too_large")


async def test_domain_error_keeps_its_code(client: AsyncTestClient[Litestar]) -> None:
    body = assert_problem(
        await client.post("/test-probe", json={"name": "taken", "count": 1}), 409, "name_taken"
    )
    assert body["detail"] == "that name is taken"


async def test_unexpected_error_is_a_bare_500(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/test-probe", json={"name": "crash", "count": 1})
    body = assert_problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"]


async def test_a_deadlock_is_a_retryable_503_not_a_500(client: AsyncTestClient[Litestar]) -> None:
    """Found merging the last-admin rule: paths that lock several memberships can deadlock
    with one that locks one; PostgreSQL aborts one transaction, which changed nothing."""
    response = await client.post("/test-probe", json={"name": "deadlock", "count": 1})
    assert_problem(response, 503, "concurrent_change")
    assert response.headers["retry-after"] == "1"
    assert "deadlock detected" not in response.text


async def test_valid_request_passes(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/test-probe", json={"name": "ok", "count": 1})
    assert response.status_code == 201
    assert response.headers["x-request-id"]
