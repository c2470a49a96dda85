from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from idsvc import db
from idsvc.db.migrate import MigrationError, apply_migrations, load_migrations, pending_migrations

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

from tests.support.cli import run_idsvc
from tests.support.pg import TestDatabases


@pytest.fixture
async def empty_database(databases: TestDatabases) -> AsyncIterator[str]:
    url = await databases.create_empty()
    try:
        yield url
    finally:
        await databases.drop(url)


async def test_two_processes_migrating_at_once_apply_once(empty_database: str) -> None:
    async def run() -> tuple[int, str]:
        code, out, err = await run_idsvc("migrate", database_url=empty_database)
        return code, out + err

    results = await asyncio.gather(run(), run())
    assert [code for code, _ in results] == [0, 0], results
    outputs = sorted(out for _, out in results)
    # One applied everything, the other waited on the lock and found nothing to do.
    assert "up to date" in outputs[1] or "up to date" in outputs[0]
    assert sum("applied 0001_" in out for out in outputs) == 1

    conn = await db.connect(empty_database)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
        assert await pending_migrations(conn) == []
    finally:
        await conn.close()


def _write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


async def test_changed_applied_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE first (id int);")
    _write(tmp_path, "0002_second.sql", "CREATE TABLE second (id int);")
    conn = await db.connect(empty_database)
    try:
        assert len(await apply_migrations(conn, tmp_path)) == 2
        _write(tmp_path, "0001_first.sql", "CREATE TABLE first (id bigint);")
        with pytest.raises(
            MigrationError, match=r"0001_first\.sql was changed after it was applied"
        ):
            await apply_migrations(conn, tmp_path)
        with pytest.raises(MigrationError):
            await pending_migrations(conn, tmp_path)
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(empty_database: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE ok (id int);")
    _write(tmp_path, "0002_broken.sql", "CREATE TABLE half (id int); SELECT no_such_function();")
    conn = await db.connect(empty_database)
    try:
        with pytest.raises(Exception, match="no_such_function"):
            await apply_migrations(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 1
    finally:
        await conn.close()


async def test_missing_file_of_applied_migration_is_refused(
    empty_database: str, tmp_path: Path
) -> None:
    _write(tmp_path, "0001_ok.sql", "SELECT 1;")
    conn = await db.connect(empty_database)
    try:
        await apply_migrations(conn, tmp_path)
        (tmp_path / "0001_ok.sql").unlink()
        with pytest.raises(MigrationError, match="file is missing"):
            await apply_migrations(conn, tmp_path)
    finally:
        await conn.close()


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "1_oops.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)
