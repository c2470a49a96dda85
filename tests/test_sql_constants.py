"""Every SQL constant in the package is prepared against the migrated schema, so a wrong
column or a type PostgreSQL cannot infer fails here, not in a live request."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import AsyncIterator

import pytest

import idsvc
from idsvc import db
from tests.support.pg import TestDatabases

_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
# Statements that only make sense inside the migration or a maintenance function.
_SKIP_MODULES = {"idsvc.db.migrate"}


def sql_constants() -> list[tuple[str, str]]:
    found = []
    for module_info in pkgutil.walk_packages(idsvc.__path__, "idsvc."):
        if module_info.name in _SKIP_MODULES:
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if name.lstrip("_").isupper() and isinstance(value, str) and _SQL.match(value):
                found.append((f"{module_info.name}.{name}", value))
    return found


CONSTANTS = sql_constants()


@pytest.fixture(scope="module")
async def schema_pool(databases: TestDatabases) -> AsyncIterator[db.Pool]:
    """One migrated database for every statement: preparing changes nothing."""
    url = await databases.create()
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()
        await databases.drop(url)


def test_the_package_has_sql_constants() -> None:
    assert len(CONSTANTS) > 30


@pytest.mark.parametrize(("name", "sql"), CONSTANTS, ids=[n for n, _ in CONSTANTS])
async def test_sql_constant_prepares(schema_pool: db.Pool, name: str, sql: str) -> None:
    async with schema_pool.acquire() as conn:
        await conn.prepare(sql)
