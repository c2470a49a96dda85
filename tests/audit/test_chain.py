from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import msgspec
import pytest

from idsvc import db
from idsvc.audit import export_events, record_event, seal_pending, verify_chain
from tests.support.audit import T0, seal_all, tamper, write_events


async def test_concurrent_writers_verify_clean(pool: db.Pool) -> None:
    await write_events(pool, writers=20, per_writer=50)
    assert await seal_all(pool) == 1000
    async with pool.acquire() as conn:
        report = await verify_chain(conn)
        positions = await conn.fetch("SELECT chain_pos FROM audit_events ORDER BY chain_pos")
    assert report.ok, report.problem
    assert report.checked == 1000
    assert report.unsealed == 0
    assert [r["chain_pos"] for r in positions] == list(range(1, 1001))


async def test_sealing_while_writers_run_and_two_sealers_at_once(pool: db.Pool) -> None:
    async def sealer() -> None:
        for _ in range(30):
            async with pool.acquire() as conn:
                await seal_pending(conn, batch_size=50)

    await asyncio.gather(write_events(pool, writers=10, per_writer=30), sealer(), sealer())
    await seal_all(pool)
    async with pool.acquire() as conn:
        report = await verify_chain(conn)
    assert report.ok, report.problem
    assert report.checked == 300


@pytest.fixture
async def sealed_chain(pool: db.Pool) -> db.Pool:
    await write_events(pool, writers=4, per_writer=25)
    await seal_all(pool)
    return pool


async def verify(pool: db.Pool) -> object:
    async with pool.acquire() as conn:
        return await verify_chain(conn)


async def test_edited_event_is_named(sealed_chain: db.Pool) -> None:
    await tamper(
        sealed_chain,
        """UPDATE audit_events SET data = jsonb_set(data, '{i}', '999') WHERE chain_pos = 42""",
    )
    report = await verify(sealed_chain)
    assert not report.ok
    assert report.problem.kind == "altered"
    assert report.problem.position == 42
    assert "position 42 was altered" in report.problem.message


async def test_edited_actor_is_named(sealed_chain: db.Pool) -> None:
    await tamper(sealed_chain, "UPDATE audit_events SET actor = 'user:x' WHERE chain_pos = 7")
    report = await verify(sealed_chain)
    assert (report.problem.kind, report.problem.position) == ("altered", 7)


async def test_deleted_event_is_named(sealed_chain: db.Pool) -> None:
    await tamper(sealed_chain, "DELETE FROM audit_events WHERE chain_pos = 60")
    report = await verify(sealed_chain)
    assert (report.problem.kind, report.problem.position) == ("missing", 60)
    assert report.checked == 59


async def test_reordered_events_are_named(sealed_chain: db.Pool) -> None:
    # Swap the places of two events, keeping each one's own seal columns intact.
    await tamper(
        sealed_chain,
        """UPDATE audit_events SET chain_pos = CASE chain_pos WHEN 30 THEN 31 ELSE 30 END
           WHERE chain_pos IN (30, 31)""",
    )
    report = await verify(sealed_chain)
    assert report.problem.position == 30
    assert report.problem.kind == "relinked"


async def test_deleted_tail_is_named(sealed_chain: db.Pool) -> None:
    await tamper(sealed_chain, "DELETE FROM audit_events WHERE chain_pos > 95")
    report = await verify(sealed_chain)
    assert report.problem.kind == "truncated"
    assert "ends at position 95" in report.problem.message


async def test_an_anchor_moved_without_an_archive_is_named(sealed_chain: db.Pool) -> None:
    # Verification starts at the anchor: moving it would leave the events before it in the
    # table, never checked. It must be where the recorded archives end (here: none).
    await tamper(
        sealed_chain,
        """UPDATE audit_chain SET anchor_pos = 50,
               anchor_hash = (SELECT prev_hash FROM audit_events WHERE chain_pos = 50)""",
    )
    report = await verify(sealed_chain)
    assert report.problem.kind == "unanchored"
    assert "starts at position 50" in report.problem.message


async def test_database_refuses_changes(sealed_chain: db.Pool) -> None:
    async with sealed_chain.acquire() as conn:
        for sql in (
            "UPDATE audit_events SET actor = 'x' WHERE chain_pos = 1",
            "DELETE FROM audit_events WHERE chain_pos = 1",
            "TRUNCATE audit_events",
            "UPDATE audit_events SET hash = '\\x00' WHERE chain_pos = 1",
            """INSERT INTO audit_events (occurred_at, actor, action, target, hash)
               VALUES (now(), 'a', 'b', 'c', '\\x00')""",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match=r"append-only|sealed"):
                await conn.execute(sql)
    assert (await verify(sealed_chain)).ok


async def test_database_refuses_changes_to_the_archive_record(pool: db.Pool) -> None:
    await pool.execute(
        """INSERT INTO audit_checkpoints (anchor_pos, anchor_hash, file_name, file_sha256,
                                          events, checkpoint, created_at)
           VALUES (5, '\\x00', 'audit-y2026m08-y2026m08.jsonl', 'aa', 4, 'a.b.c', now())"""
    )
    async with pool.acquire() as conn:
        for sql in (
            "UPDATE audit_checkpoints SET file_sha256 = 'bb'",
            # Only the trigger that records an audit.archived event claims the checkpoint.
            "UPDATE audit_checkpoints SET event_seq = 1",
            "DELETE FROM audit_checkpoints",
            "TRUNCATE audit_checkpoints",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(sql)


async def test_record_event_needs_a_transaction(pool: db.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await record_event(conn, at=T0, actor="system", action="x")


async def test_rolled_back_event_is_not_kept(pool: db.Pool) -> None:
    async def change_that_fails(conn: db.Connection) -> None:
        async with conn.transaction():
            await record_event(conn, at=T0, actor="system", action="x")
            raise ZeroDivisionError

    async with pool.acquire() as conn:
        with pytest.raises(ZeroDivisionError):
            await change_that_fails(conn)
        assert await conn.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_export_writes_json_lines_in_chain_order(sealed_chain: db.Pool) -> None:
    async with sealed_chain.acquire() as conn, conn.transaction():
        lines = [line async for line in export_events(conn, since=T0 - timedelta(days=1))]
    events = [msgspec.json.decode(line) for line in lines]
    assert len(events) == 100
    assert [e["chain_pos"] for e in events] == list(range(1, 101))
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert len(events[0]["hash"]) == 64
