"""Forward-only SQL migrations from ``migrations/NNNN_name.sql``.

Each file runs in its own transaction together with the row that records it, so a failed
migration leaves nothing behind. A session-level advisory lock makes concurrent starts
safe: one instance applies, the others wait on the lock and then find nothing to do.
Checksums catch an applied file that was edited afterwards, which would otherwise leave
databases built at different times with different schemas.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from idsvc.db import Connection
from idsvc.settings import MIGRATIONS_DIR

__all__ = [
    "MIGRATIONS_DIR",
    "Migration",
    "MigrationError",
    "apply_migrations",
    "load_migrations",
    "pending_migrations",
]

# Any fixed 64-bit number works; it only has to be the same for every instance.
_MIGRATION_LOCK_KEY = 0x1D5C_0001
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
_INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"


class MigrationError(Exception):
    """The database and the migration files disagree; the message says how."""


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    name: str
    checksum: str
    sql: str = ""


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        body = path.read_bytes()
        migrations.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                checksum=hashlib.sha256(body).hexdigest(),
                sql=body.decode("utf-8"),
            )
        )
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return migrations


async def _applied(conn: Connection) -> dict[int, Migration]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch(_SELECT_APPLIED)
    return {
        row["version"]: Migration(
            version=row["version"], name=row["name"], checksum=row["checksum"]
        )
        for row in rows
    }


def _check_history(applied: dict[int, Migration], files: list[Migration]) -> list[Migration]:
    """Refuse a drifted history; return the files still to apply."""
    by_version = {m.version: m for m in files}
    for version, done in applied.items():
        on_disk = by_version.get(version)
        if on_disk is None:
            raise MigrationError(
                f"migration {version:04d}_{done.name} is applied but its file is missing: "
                "this build is older than the database"
            )
        if on_disk.checksum != done.checksum:
            raise MigrationError(
                f"migration {version:04d}_{done.name}.sql was changed after it was applied "
                f"(checksum {done.checksum[:12]} in the database, {on_disk.checksum[:12]} on "
                "disk); write a new migration instead"
            )
    return [m for m in files if m.version not in applied]


async def pending_migrations(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """What ``apply_migrations`` would apply; raises on a drifted history."""
    return _check_history(await _applied(conn), load_migrations(directory))


async def apply_migrations(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration under the advisory lock; return what was applied."""
    files = load_migrations(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        todo = _check_history(await _applied(conn), files)
        for migration in todo:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    _INSERT_APPLIED, migration.version, migration.name, migration.checksum
                )
        return todo
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY)
