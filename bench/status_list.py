"""Status lists at scale: size of a 1,000,000-slot list with 0.1 % and 10 % revoked, the
time to build and sign it, and the cost of revoking a member who holds 100 live tokens.

    python bench/status_list.py

The reference for build time is compressing the same bytes alone (zlib level 9), the
floor of any encoder; revocation is compared with one plain UPDATE of a single row.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from idsvc import db
from idsvc.jose.jws import sign_compact
from idsvc.keys.material import generate_private_key
from idsvc.tokens.revocation import revoke_membership_tokens
from idsvc.tokens.status_list import encode_statuses, pack_statuses
from idsvc.tokens.status_slots import StatusAllocator

SLOTS = 1_000_000


def list_figures(fraction: float) -> tuple[int, float, float]:
    rng = random.Random(42)
    revoked = rng.sample(range(SLOTS), int(SLOTS * fraction))
    key = generate_private_key("ES256")
    started = time.perf_counter()
    packed = pack_statuses(SLOTS, ((i, 1) for i in revoked))
    lst = encode_statuses(packed)
    sign_compact(
        {"alg": "ES256", "typ": "statuslist+jwt"},
        b'{"status_list":{"bits":2,"lst":"' + lst.encode() + b'"}}',
        key,
        "ES256",
    )
    built = time.perf_counter() - started
    started = time.perf_counter()
    zlib.compress(packed, 9)
    floor = time.perf_counter() - started
    return len(lst), built, floor


async def revocation_cost() -> tuple[float, float]:
    async with scratch_database() as url:
        conn = await db.connect(url)
        try:
            now = datetime.now(UTC)
            org, user = uuid.uuid4(), uuid.uuid4()
            allocator = StatusAllocator(SLOTS)
            async with conn.transaction():
                for _ in range(100):
                    await allocator.allocate(
                        conn, user_id=user, org_id=org, grant_id=None, kid="k",
                        jti=uuid.uuid4().hex, expires_at=now + timedelta(minutes=5), now=now,
                    )  # fmt: skip
                # Other people's tokens in the same list, so the update has to find its own.
                for _ in range(5000):
                    await allocator.allocate(
                        conn, user_id=uuid.uuid4(), org_id=org, grant_id=None, kid="k",
                        jti=uuid.uuid4().hex, expires_at=now + timedelta(minutes=5), now=now,
                    )  # fmt: skip
            await conn.execute("ANALYZE token_statuses")
            started = time.perf_counter()
            async with conn.transaction():
                changed = await revoke_membership_tokens(
                    conn, org, user, actor="bench", reason="bench", now=now
                )
            revoke = time.perf_counter() - started
            assert changed == 100
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute("UPDATE status_lists SET version = version + 1")
            one_row = time.perf_counter() - started
        finally:
            await conn.close()
    return revoke, one_row


def main() -> None:
    header = ("list of 1,000,000 slots", "lst bytes", "build+sign ms", "zlib alone ms")
    print(f"{header[0]:28} {header[1]:>10} {header[2]:>14} {header[3]:>14}")
    for fraction in (0.001, 0.1):
        size, built, floor = list_figures(fraction)
        name = f"{fraction:.1%} revoked"
        print(f"{name:28} {size:10,} {built * 1000:14.0f} {floor * 1000:14.0f}")
    revoke, one_row = asyncio.run(revocation_cost())
    print(
        f"revoking a member with 100 live tokens: {revoke * 1000:.1f} ms "
        f"(one-row UPDATE: {one_row * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
