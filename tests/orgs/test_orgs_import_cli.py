"""`idsvc orgs import` as an admin would run it: a real file, a real database."""

from __future__ import annotations

from pathlib import Path

from idsvc import db
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock
from tests.support.factories import create_org


async def test_the_cli_previews_applies_and_refuses_bad_files(
    pool: db.Pool, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
    good = tmp_path / "staff.csv"
    good.write_text("email,role\n" + "".join(f"p{n}@acme.example,member\n" for n in range(250)))
    code, out, _ = await run_idsvc(
        "orgs", "import", "--org", str(org), str(good), "--dry-run", database_url=database_url
    )
    assert code == 0
    assert "would add 250" in out
    assert await pool.fetchval("SELECT count(*) FROM memberships") == 0
    code, out, err = await run_idsvc(
        "orgs", "import", "--org", str(org), str(good), database_url=database_url
    )
    assert code == 0, err
    assert "added 250" in out
    assert "applying: 250/250" in err
    assert await pool.fetchval("SELECT count(*) FROM memberships WHERE org_id = $1", org) == 250
    bad = tmp_path / "bad.csv"
    bad.write_text("email,role\nok@acme.example,member\nbroken,member\n")
    code, _, err = await run_idsvc(
        "orgs", "import", "--org", str(org), str(bad), database_url=database_url
    )
    assert code == 1
    assert f"{bad}:3 (email): not an e-mail address" in err
    assert (
        await pool.fetchval("SELECT count(*) FROM memberships WHERE email = 'ok@acme.example'") == 0
    )
