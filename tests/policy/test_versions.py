from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from idsvc import db
from idsvc.policy.model import PolicySettings
from idsvc.policy_versions.errors import PolicyVersionConflict
from idsvc.policy_versions.service import record_policy_versions

NOW = datetime(2026, 11, 22, tzinfo=UTC)
V1 = PolicySettings(id="m", version=1, audience="a", entitlements=("use",))


async def record(pool: db.Pool, *policies: PolicySettings) -> None:
    async with db.transaction(pool) as conn:
        await record_policy_versions(conn, policies, now=NOW)


async def events(pool: db.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT target FROM audit_events WHERE action = 'policy.version.recorded'"
    )
    return [r["target"] for r in rows]


async def test_each_version_is_recorded_and_audited_once(pool: db.Pool) -> None:
    await record(pool, V1)
    await record(pool, V1)
    assert await events(pool) == ["policy:m@1"]
    await record(pool, msgspec.structs.replace(V1, version=2, min_assurance="IAL3"))
    assert await events(pool) == ["policy:m@1", "policy:m@2"]


async def test_changing_a_version_in_place_is_refused(pool: db.Pool) -> None:
    await record(pool, V1)
    with pytest.raises(PolicyVersionConflict, match="give the changed policy a new version"):
        await record(pool, msgspec.structs.replace(V1, deny_nationalities=("CN",)))
    assert await events(pool) == ["policy:m@1"]
