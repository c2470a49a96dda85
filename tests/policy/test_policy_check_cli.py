"""`idsvc policy check` from a real TOML file against a real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from idsvc import db
from idsvc.accounts.users import sign_in_identity
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import record_attestations
from tests.support.cli import run_idsvc
from tests.support.screening import import_demo_list, screen

CONFIG = """
[[policies]]
id = "mythos-5"
version = 3
audience = "https://api.example.com/mythos-5"
min_assurance = "IAL2"
deny_nationalities = ["CHN"]
entitlements = ["model:mythos-5:invoke"]
"""


async def make_user(
    pool: db.Pool,
    subject: str,
    assurance: str,
    nationalities: tuple[str, ...],
    email: str | None = None,
) -> uuid.UUID:
    now = datetime.now(UTC)
    common = AttestationDraft(
        kind="nationalities",
        values=nationalities,
        trust_framework="t",
        assurance=assurance,
        verified_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=300),
        evidence=(),
    )
    basis = AttestationDraft(
        kind="us_person_basis",
        values=("citizen",),
        trust_framework="t",
        assurance=assurance,
        verified_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=300),
        evidence=(),
    )
    async with db.transaction(pool) as conn:
        user, _ = await sign_in_identity(
            conn,
            provider="p",
            subject=subject,
            email=email,
            email_verified=email is not None,
            display_name=None,
            link_to=None,
            now=now,
        )
        await record_attestations(
            conn, user_id=user.id, provider="p", drafts=[common, basis], now=now
        )
        # Screened against a current list, as every person must be before a grant.
        if await conn.fetchval("SELECT count(*) FROM screening_snapshots") == 0:
            await import_demo_list(conn, now)
        await screen(conn, now, user.id)
    return user.id


async def check(database_url: str, config: Path, user: uuid.UUID | str) -> tuple[int, str]:
    code, out, err = await run_idsvc(
        "policy",
        "check",
        "--user",
        str(user),
        "--audience",
        "https://api.example.com/mythos-5",
        database_url=database_url,
        config=str(config),
    )
    return code, out + err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "idsvc.toml"
    path.write_text(CONFIG)
    return path


async def test_grant_and_deny_are_explained(pool: db.Pool, database_url: str, config: Path) -> None:
    citizen = await make_user(pool, "a", "IAL2", ("US",))
    code, out = await check(database_url, config, citizen)
    assert code == 0, out
    assert "GRANT: model:mythos-5:invoke at IAL2" in out
    assert "policy mythos-5@3" in out

    weak_dual = await make_user(pool, "b", "IAL1", ("US", "CN"))
    code, out = await check(database_url, config, weak_dual)
    assert code == 1
    assert "DENY: assurance_too_low, nationality_denied" in out
    assert "IAL2 or higher" in out


async def test_a_user_can_be_named_by_e_mail(
    pool: db.Pool, database_url: str, config: Path
) -> None:
    # Found: the user id was the only way, and operators found it only in the audit export.
    await make_user(pool, "c", "IAL2", ("US",), email="carol@example.com")
    code, out = await check(database_url, config, "Carol@Example.com")
    assert code == 0, out
    assert "GRANT" in out
    code, out = await check(database_url, config, "nobody@example.com")
    assert code == 2
    assert "no account has the e-mail address" in out
    await make_user(pool, "d", "IAL2", ("US",), email="carol@example.com")
    code, out = await check(database_url, config, "carol@example.com")
    assert code == 2
    assert "several accounts" in out


async def test_bad_arguments(database_url: str, config: Path) -> None:
    code, out = await check(database_url, config, "not-a-uuid")
    assert code == 2
    assert "UUID" in out
