"""CSV enrolment: rows/s for 1,000 and 10,000 new members, parse + plan + apply (one
transaction, with an audit event per member), against a plain COPY of the same rows into
an unindexed table measured in the same run.

    python bench/csv_import.py
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from idsvc import db
from idsvc.orgs.enrolment.service import apply_import, parse_members_csv, plan_import

_ORG = """
INSERT INTO organisations (id, legal_name, country, contact_email, status, created_at, updated_at)
VALUES ($1, 'Bench Corp', 'US', 'c@bench.example', 'approved', $2, $2)
"""


async def run(rows: int) -> tuple[float, float]:
    text = "email,role,display_name\n" + "".join(
        f"person{n}@bench.example,member,Person {n}\n" for n in range(rows)
    )
    async with scratch_database() as url:
        conn = await db.connect(url)
        try:
            org = uuid.uuid4()
            now = datetime.now(UTC)
            await conn.execute(_ORG, org, now)
            started = time.perf_counter()
            parsed, errors = parse_members_csv(text)
            assert not errors
            async with conn.transaction():
                plan = await plan_import(conn, org, parsed)
                await apply_import(conn, org, plan, actor="bench", now=now)
            imported = time.perf_counter() - started
            await conn.execute("CREATE TABLE plain (email text, role text, display_name text)")
            records = [(f"person{n}@bench.example", "member", f"Person {n}") for n in range(rows)]
            started = time.perf_counter()
            await conn.copy_records_to_table("plain", records=records)
            copied = time.perf_counter() - started
        finally:
            await conn.close()
    return rows / imported, rows / copied


def main() -> None:
    print(f"{'rows':>7} {'import rows/s':>14} {'plain COPY rows/s':>18} {'ratio':>6}")
    for rows in (1_000, 10_000):
        imported, copied = asyncio.run(run(rows))
        print(f"{rows:7,} {imported:14,.0f} {copied:18,.0f} {imported / copied:6.2f}")


if __name__ == "__main__":
    main()
