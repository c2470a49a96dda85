"""Imports that cannot silently clear (issue 24, defect 7): a list that lacks a whole source,
or most of one, is refused although the total stays within max_entry_drop; the command
names the hits an import clears, and a dry run clears nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from idsvc import db
from idsvc.cli.screening import screening_import
from idsvc.screening.service import remember_person, screen_person
from tests.support.factories import create_user
from tests.support.settings import make_settings

SDN = "Specially Designated Nationals (SDN) - Treasury Department"
ENTITY_LIST = "Entity List (EL) - Bureau of Industry and Security"
LISTED = {"id": "sdn-1", "name": "OSTROVSKY, Boris Gennadyevich", "type": "Individual",
          "source": SDN}  # fmt: skip


def a_list(*, sdn: bool, entity_list: int = 38) -> bytes:
    entries = [
        {"id": f"el-{i}", "name": f"Trading Company Number {i}", "type": "Entity",
         "source": ENTITY_LIST}
        for i in range(entity_list)
    ]  # fmt: skip
    if sdn:
        entries.append(LISTED)
    return json.dumps({"total": len(entries), "results": entries}).encode()


async def _import(tmp_path: Path, database_url: str, data: bytes, **flags: bool) -> int:
    """``idsvc screening import`` as the command runs it (its output goes to capsys)."""
    path = tmp_path / "list.json"
    path.write_bytes(data)
    return await screening_import(make_settings(database_url, tmp_path), path=path, **flags)


@pytest.fixture
async def held_person(
    pool: db.Pool, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> object:
    code = await _import(tmp_path, database_url, a_list(sdn=True))
    assert code == 0
    async with db.transaction(pool) as conn:
        now = datetime.now(UTC)
        person = await create_user(conn, now)
        await remember_person(conn, user_id=person, name="Boris Gennadyevich Ostrovsky",
                              birthdate=None, provider="p", now=now)  # fmt: skip
        outcome = await screen_person(conn, user_id=person, threshold=88.0, actor="t", now=now)
    assert len(outcome.new_hits) == 1
    capsys.readouterr()
    return person


async def _state(pool: db.Pool) -> str:
    return str(await pool.fetchval("SELECT state FROM person_screening_hits"))


async def test_a_list_without_a_source_is_refused_and_clears_nothing(
    held_person: object, pool: db.Pool, tmp_path: Path, database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # 38 of 39 entries: within the 10 % total drop, but the SDN source is gone.
    code = await _import(tmp_path, database_url, a_list(sdn=False))
    err = capsys.readouterr().err
    assert code == 1
    assert f"source {SDN!r} is missing" in err
    assert await _state(pool) == "open"
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 1


async def test_a_source_that_shrank_is_refused(
    pool: db.Pool, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _import(tmp_path, database_url, a_list(sdn=True, entity_list=38)) == 0
    capsys.readouterr()
    # 30 of 38 Entity List entries (21 % fewer); a new, large source keeps the total within
    # bounds, and the shrunken source is still refused.
    bigger = json.loads(a_list(sdn=True, entity_list=30))
    bigger["results"] += [
        {"id": f"x-{i}", "name": f"Other Company {i}", "type": "Entity", "source": "Other"}
        for i in range(100)
    ]
    code = await _import(tmp_path, database_url, json.dumps(bigger).encode())
    assert code == 1
    assert f"source {ENTITY_LIST!r} has 30 entries" in capsys.readouterr().err


async def test_the_hits_an_import_clears_are_printed_and_a_dry_run_clears_none(
    held_person: object, pool: db.Pool, tmp_path: Path, database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # The entry really left the list (the operator forces the import of the smaller list).
    code = await _import(tmp_path, database_url, a_list(sdn=False), force=True, dry_run=True)
    out = capsys.readouterr().out
    assert code == 0
    assert "would clear 1 hits" in out
    assert f"person {held_person}" in out
    assert "OSTROVSKY, Boris Gennadyevich" in out
    assert "dry run: nothing was changed" in out
    assert await _state(pool) == "open"
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 1
    code = await _import(tmp_path, database_url, a_list(sdn=False), force=True)
    out = capsys.readouterr().out
    assert code == 0
    assert "cleared 1 hits" in out
    assert "OSTROVSKY" in out
    assert await _state(pool) == "cleared"
