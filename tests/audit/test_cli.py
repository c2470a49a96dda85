"""`idsvc audit verify` and `idsvc audit export` as an operator runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec
import pytest

from tests.support.audit import seal_all, tamper, write_events
from tests.support.cli import run_idsvc

if TYPE_CHECKING:
    from pathlib import Path

    from idsvc import db


async def idsvc(database_url: str, *args: str) -> tuple[int, str, str]:
    return await run_idsvc(*args, database_url=database_url)


async def test_verify_seals_and_passes_then_names_the_edited_event(
    pool: db.Pool, database_url: str
) -> None:
    await write_events(pool, writers=3, per_writer=10)
    code, out, _ = await idsvc(database_url, "audit", "verify", "--seal")
    assert code == 0
    assert "audit chain OK: 30 events verified" in out

    await tamper(pool, "UPDATE audit_events SET target = 'forged' WHERE chain_pos = 17")
    code, _, err = await idsvc(database_url, "audit", "verify")
    assert code == 1
    assert "position 17 was altered" in err


async def test_export_since(pool: db.Pool, database_url: str) -> None:
    await write_events(pool, writers=2, per_writer=5)
    await seal_all(pool)
    code, out, err = await idsvc(database_url, "audit", "export", "--since", "2026-01-01T00:00:00Z")
    assert code == 0, err
    lines = [msgspec.json.decode(line) for line in out.splitlines()]
    assert len(lines) == 10
    assert {line["action"] for line in lines} == {"test.event"}
    code, _, err = await idsvc(database_url, "audit", "export", "--since", "yesterday")
    assert code == 2
    assert "ISO 8601" in err


@pytest.mark.parametrize("failure", ["missing database", "unreachable server"])
async def test_without_its_database_a_command_says_so_in_one_line(
    pg_admin_url: str, tmp_path: Path, failure: str
) -> None:
    url = (
        urlsplit(pg_admin_url)._replace(path="/idsvc_no_such_database").geturl()
        if failure == "missing database"
        # Port 1 on loopback: nothing listens there, the connection is refused at once.
        else "postgresql://postgres@127.0.0.1:1/postgres"
    )
    archive = tmp_path / "audit-y2026m08-y2026m08.jsonl"
    archive.write_text("{}\n")
    (tmp_path / f"{archive.name}.checkpoint.jwt").write_text("a.b.c\n")
    for args in (("audit", "verify"), ("audit", "verify-archive", str(archive))):
        code, out, err = await idsvc(url, *args)
        assert code == 2, (args, err)
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
        assert "cannot connect to the database" in err
        assert out == ""
