"""Erasing a person: afterwards a dump of every table holds none of their personal values,
what the audit trail sealed for them cannot be opened, their tokens are revoked — and the
audit chain still verifies. Every free text that may name them (reasons, justifications,
wherever stored) is sealed from the start, and is gone with them: from the tables, the
audit trail and its archive."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.accounts.operators import grant_operator, revoke_operator
from idsvc.attestations.service import record_most_recent_country
from idsvc.attestations.store import (
    counting_attestations,
    operator_reads_attestations,
    revoke_attestation,
)
from idsvc.audit.personal import ERASED, open_sealed
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.erasure.retention import erase_past_retention
from idsvc.erasure.service import erase_person
from idsvc.keys.rotation import ensure_keys
from idsvc.keys.service import rotation_policy
from idsvc.orgs.members.errors import LastAdmin
from idsvc.orgs.members.service import enrol_member, set_member_status
from idsvc.orgs.vetting.organisations import get_organisation, set_org_programs, set_org_status
from idsvc.orgs.vetting.screening_hits import list_hits, override_hit, screen_organisation
from idsvc.policy.model import PolicySettings
from idsvc.screening.service import hits_of_person, override_person_hit
from idsvc.settings import KeySettings
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service
from tests.support.factories import add_member, attest, create_org, create_user
from tests.support.four_eyes import ONE_OPERATOR, TWO_OPERATORS
from tests.support.screening import THRESHOLD, import_demo_list, screen
from tests.support.settings import TEST_KEK
from tests.support.signin import sign_in

MODEL = "https://api.example.com/open-model"
POLICY = PolicySettings(
    id="open", version=1, audience=MODEL, require_us_person=False, entitlements=("use",)
)
# Frieda National, as the demo provider verifies her.
HER_VALUES = ("frieda@example.com", "Frieda", "1992-01-23", "demo-c4a85e13-foreign-national")


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


async def _dump(pool: db.Pool) -> str:
    """Every row of every table, as text (what a stolen backup would hold); see also
    :func:`_pg_dump`."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    parts = []
    for table in tables:
        rows = await pool.fetch(f'SELECT row_to_json(t)::text AS r FROM "{table["tablename"]}" t')
        parts.extend(r["r"] for r in rows)
    return "\n".join(parts)


async def test_an_erased_person_is_nowhere_and_the_chain_still_verifies(
    service: str, database_url: str, pool: db.Pool
) -> None:
    async with httpx.AsyncClient(base_url=service, timeout=10) as browser:
        await sign_in(browser, "foreign-national")
        await browser_token(browser, MODEL)
    user_id: uuid.UUID = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-c4a85e13-foreign-national'"
    )
    before = await _dump(pool)
    assert all(value in before for value in HER_VALUES)  # the test can see them at all
    recorded = await pool.fetch(
        "SELECT data FROM audit_events WHERE action = 'attestation.recorded' AND target = $1",
        f"user:{user_id}",
    )
    async with pool.acquire() as conn:
        opened = [await open_sealed(conn, r["data"]) for r in recorded]
    assert {"values": ["DE"], "inconsistency": None} in [o["personal"] for o in opened]

    # An enrolment by her address she never claimed (a pending organisation's CSV row), and
    # an organisation she named herself as the compliance contact of.
    async with db.transaction(pool) as conn:
        pending = await create_org(conn, datetime.now(UTC), status="pending", name="Later Co")
        await conn.execute(
            "UPDATE organisations SET contact_email = 'Frieda@Example.com' WHERE id = $1", pending
        )
        await enrol_member(
            conn, org_id=pending, email="frieda@example.com", user_id=None, role="member",
            status="active", source="csv", actor="test", now=datetime.now(UTC),
        )  # fmt: skip

    # Active just now: her records are still under their retention duty (15 CFR 762.6).
    code, _, err = await run_idsvc(
        "users", "erase", str(user_id), "--reason", "request of the person, case 2026-117",
        database_url=database_url,
    )  # fmt: skip
    assert code == 1
    assert "kept until" in err
    # Despite the retention period: four eyes (the service's default), one login each.
    despite = ("users", "erase", str(user_id), "--reason", "request of the person, case 2026-117",
               "--despite-retention")  # fmt: skip
    code, out, err = await run_idsvc(*despite, database_url=database_url, login="officer-a")
    assert code == 3, err
    assert "another operator runs the same command" in out
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", user_id) == "active"
    code, out, err = await run_idsvc(*despite, database_url=database_url, login="officer-a")
    assert code == 1
    assert "another operator must approve" in err
    code, out, err = await run_idsvc(*despite, database_url=database_url, login="officer-b")
    assert code == 0, err
    assert "1 token(s) revoked" in out

    after = await _dump(pool)
    for value in HER_VALUES:
        assert value not in after, value
    nationality = await pool.fetch(
        "SELECT attested_values FROM attestations WHERE user_id = $1", user_id
    )
    assert {tuple(r["attested_values"]) for r in nationality} == {("erased",)}
    async with pool.acquire() as conn:
        for row in recorded:
            assert (await open_sealed(conn, row["data"]))["personal"] == ERASED
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM token_statuses WHERE user_id = $1 AND status <> 1", user_id
        )
        == 0
    )  # every token of hers invalid
    erased = await pool.fetchrow(
        "SELECT actor, data FROM audit_events WHERE action = 'person.erased'"
    )
    assert erased["actor"].startswith("cli:")
    assert erased["data"]["tokens_revoked"] == 1

    code, out, err = await run_idsvc("audit", "verify", database_url=database_url)
    assert code == 0, out + err
    again = await run_idsvc(
        "users", "erase", str(user_id), "--reason", "twice", database_url=database_url
    )
    assert again[0] == 1
    assert "already erased" in again[2]


# A text that names a person, as an admin or an operator might write it, given in every
# free-text field the service stores; and texts written before sealing existed.
MARKER = "Zebulon Quintavius 1961-02-03"
MARKER_PARTS = ("Zebulon", "Quintavius", "1961-02-03")
LEGACY = "Philomena Thistlewood 1958-07-09"
JULY = datetime(2026, 7, 14, 9, 0, tzinfo=UTC)  # a month that has ended, to archive


async def _pg_dump(database_url: str, pool: db.Pool) -> str:
    """The whole database as ``pg_dump`` writes it (the query dump where it is missing)."""
    if shutil.which("pg_dump") is None:
        return await _dump(pool)
    proc = await asyncio.create_subprocess_exec(
        "pg_dump", "--data-only", "--no-owner", f"--dbname={database_url}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _names_nobody(text: str, parts: tuple[str, ...] = MARKER_PARTS) -> list[str]:
    return [part for part in parts if part in text]


async def test_every_text_that_may_name_a_person_is_sealed_and_goes_with_them(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    """Each kind of free text (a member's status reason, given by an admin for a claimed
    membership and for one never claimed; an attestation's revocation reason; a
    determination's justification; a person's and an organisation's screening override
    justifications; an organisation's status and programs reasons; an operator grant's
    reasons) names Zebulon. None of them is ever in clear in the database or in the audit
    archive; operators read them opened; erasing Zebulon makes his unreadable for good (and
    blanks texts written before sealing), and the chain still verifies."""
    await pool.execute(
        "CREATE TABLE audit_events_y2026m07 PARTITION OF audit_events"
        " FOR VALUES FROM ('2026-07-01 00:00+00') TO ('2026-08-01 00:00+00')"
    )
    clock = FakeClock(JULY)
    async with pool.acquire() as conn:
        await import_demo_list(conn, clock())
    async with db.transaction(pool) as conn:
        zeb = await create_user(conn, clock(), email="zeb@example.com")
        op = await create_user(conn, clock(), email="op@provider.example")
        await attest(conn, clock(), zeb, nationalities=("DE",), basis=None)
        nationality = await conn.fetchval("SELECT id FROM attestations WHERE user_id = $1", zeb)
        # An organisation resembling a listed party: its hit is overridden, then approved.
        org_id = await create_org(
            conn, clock(), status="pending", name="Vantablack Dual-Use Machinery LLC"
        )
        await screen_organisation(
            conn, await get_organisation(conn, org_id), threshold=THRESHOLD, actor="test",
            now=clock(),
        )  # fmt: skip
        [org_hit] = await list_hits(conn, [org_id])
        await override_hit(
            conn, org_id=org_id, hit_id=org_hit.id, justification=f"not the party: {MARKER}",
            actor="test", now=clock(), validity=timedelta(days=365),
        )  # fmt: skip
        await set_org_status(
            conn, org_id=org_id, status="approved", reason=f"vouched for by {MARKER}",
            actor="test", now=clock(), four_eyes=False, rule=ONE_OPERATOR, list_max_age=None,
        )  # fmt: skip
        await set_org_programs(
            conn, org_id=org_id, programs=["research"], reason=f"asked by {MARKER}",
            actor="test", now=clock(), rule=ONE_OPERATOR, list_max_age=None,
        )  # fmt: skip
        # His membership, suspended by an admin with a reason; and an enrolment by his
        # address elsewhere that he never claimed, withdrawn with one.
        member = await add_member(conn, clock(), org_id, zeb)
        await set_member_status(
            conn, org_id=org_id, membership_id=member.id, status="suspended", actor="test",
            now=clock(), reason=f"{MARKER} left the project",
        )  # fmt: skip
        other = await create_org(conn, clock(), name="Later Co")
        unclaimed = await enrol_member(
            conn, org_id=other, email="zeb@example.com", user_id=None, role="member",
            status="invited", source="invitation", actor="test", now=clock(),
        )  # fmt: skip
        await set_member_status(
            conn, org_id=other, membership_id=unclaimed.id, status="removed", actor="test",
            now=clock(), reason=f"wrong person, not {MARKER}",
        )  # fmt: skip
        await record_most_recent_country(
            conn, user_id=zeb, country="DE", justification=f"naturalised, per {MARKER}",
            operator=op, now=clock(), rule=TWO_OPERATORS,
        )  # fmt: skip
        await revoke_attestation(
            conn, nationality, actor="test", reason=f"passport of {MARKER} reported stolen",
            now=clock(),
        )  # fmt: skip
        await grant_operator(
            conn, user_id=zeb, reason=f"{MARKER}, deputy", actor="test", now=clock()
        )
        await revoke_operator(
            conn, user_id=zeb, actor="test", now=clock(), reason=f"{MARKER} went on leave"
        )
    async with pool.acquire() as conn:  # a listed person's name, verified for him
        await screen(conn, clock(), zeb, name="Boris Gennadyevich Ostrovsky")
    async with db.transaction(pool) as conn:
        _, [person_hit] = await hits_of_person(conn, zeb)
        await override_person_hit(
            conn, user_id=zeb, hit_id=person_hit.id, justification=f"born 1961, {MARKER}",
            actor="test", now=clock(), validity=timedelta(days=90), rule=ONE_OPERATOR,
        )  # fmt: skip

    # Sealed from the start: nothing in the database names him, not even before erasure.
    assert _names_nobody(await _pg_dump(database_url, pool)) == []

    # Operators read every text opened, wherever it is shown.
    async with db.transaction(pool) as conn:
        events = await conn.fetch("SELECT action, data FROM audit_events ORDER BY seq")
        opened = [(e["action"], await open_sealed(conn, e["data"])) for e in events]
        texts = {
            "revoked_reason": [
                a.revoked_reason
                for a in await operator_reads_attestations(conn, zeb, operator=op, now=clock())
                if a.id == nationality
            ],
            "his_own_page": [
                a.revoked_reason for a in await counting_attestations(conn, zeb) if a.revoked_reason
            ],
            "person_hit": [h.justification for h in (await hits_of_person(conn, zeb))[1]],
            "org_hit": [h.justification for h in await list_hits(conn, [org_id])],
            "org_status": [(await get_organisation(conn, org_id)).status_reason],
        }
    assert texts == {
        "revoked_reason": [f"passport of {MARKER} reported stolen"],
        "his_own_page": [f"passport of {MARKER} reported stolen"],
        "person_hit": [f"born 1961, {MARKER}"],
        "org_hit": [f"not the party: {MARKER}"],
        "org_status": [f"vouched for by {MARKER}"],
    }
    named = [(action, data) for action, data in opened if MARKER in str(data)]
    assert sorted(action for action, _ in named) == sorted([
        "org.screening.overridden", "org.status.approved", "org.programs.changed",
        "org.member.suspended", "org.member.removed", "person.most_recent_country.proposed",
        "attestation.revoked", "operator.granted", "operator.revoked",
        "person.screening.overridden",
        # The determination's proposal, waiting for its second operator (four eyes).
        "four_eyes.proposed",
    ])  # fmt: skip

    # Rows written before sealing existed (migration 0029 kept them as JSON strings): a
    # revocation reason, a screening justification, an operator grant.
    async with db.transaction(pool) as conn:
        await conn.execute(
            "UPDATE attestations SET revoked_at = $2, revoked_by = 'before 0029',"
            " revoked_reason = to_jsonb($3::text)"
            " WHERE user_id = $1 AND kind = 'most_recent_country'",
            zeb, clock(), LEGACY,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO person_screening_hits (id, user_id, snapshot_id, entry_id, entry_key,"
            " list_source, screened_name, matched_name, score, birthdate_match, state, found_at,"
            " decided_at, decided_by, justification)"
            " SELECT gen_random_uuid(), user_id, snapshot_id, entry_id, entry_key || ' (older)',"
            " list_source, screened_name, matched_name, score, birthdate_match, 'overridden',"
            " found_at, decided_at, decided_by, to_jsonb($2::text) FROM person_screening_hits"
            " WHERE id = $1",
            person_hit.id, LEGACY,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO operator_grants (user_id, reason, granted_by, granted_at)"
            " VALUES ($1, to_jsonb($2::text), 'before 0029', $3)",
            zeb, LEGACY, clock(),
        )  # fmt: skip
    assert LEGACY in await _pg_dump(database_url, pool)

    async with db.transaction(pool) as conn:
        await erase_person(
            conn, user_id=zeb, reason="request of the person, case 2026-311", actor="test",
            now=clock(),
        )  # fmt: skip
    dump = await _pg_dump(database_url, pool)
    assert _names_nobody(dump) == []
    assert LEGACY not in dump

    # What was sealed for him, or for his memberships, opens no more; an organisation's
    # texts are sealed under its own key, which no person's erasure destroys (docs/audit.md).
    async with db.transaction(pool) as conn:
        after = {
            e["action"]: await open_sealed(conn, e["data"])
            for e in await conn.fetch("SELECT action, data FROM audit_events ORDER BY seq")
        }
        person_hits = (await hits_of_person(conn, zeb))[1]
        org_status = (await get_organisation(conn, org_id)).status_reason
    for action in ("org.member.suspended", "org.member.removed", "attestation.revoked",
                   "operator.granted", "operator.revoked"):  # fmt: skip
        assert after[action]["reason"] == ERASED, action
    assert after["person.screening.overridden"]["justification"] == ERASED
    assert after["person.most_recent_country.proposed"]["personal"] == ERASED
    assert sorted(h.justification for h in person_hits) == [ERASED, ERASED]
    assert after["org.status.approved"]["reason"] == org_status == f"vouched for by {MARKER}"

    # The archive of the month holds the sealed forms only, and the chain still verifies.
    kek = KeyEncryptionKey.from_text(TEST_KEK.encode())
    async with db.transaction(pool) as conn:
        await ensure_keys(conn, algorithms=("ES256",), now=datetime.now(UTC),
                          policy=rotation_policy(KeySettings()), kek=kek)  # fmt: skip
    archived = tmp_path / "archive"
    code, out, err = await run_idsvc(
        "audit", "archive", "--before", "2026-08", "--to", str(archived), database_url=database_url
    )
    assert code == 0, out + err
    [archive] = archived.glob("*.jsonl")
    assert "org.member.suspended" in archive.read_text()
    assert _names_nobody(archive.read_text(), (*MARKER_PARTS, LEGACY)) == []
    code, out, err = await run_idsvc("audit", "verify", database_url=database_url)
    assert code == 0, out + err
    code, out, err = await run_idsvc(
        "audit", "verify-archive", str(archive), database_url=database_url
    )
    assert code == 0, out + err


async def test_people_past_retention_are_erased_and_no_one_else(
    pool: db.Pool, clock: FakeClock
) -> None:
    """15 CFR 762.6: five years after their last activity (a sign-in, a refresh-token use),
    a person's records are due for erasure; someone active since is kept."""
    async with db.transaction(pool) as conn:
        gone = await create_user(conn, clock(), email="gone@example.com")
        kept = await create_user(conn, clock(), email="kept@example.com")
    clock.advance(3 * 366 * 86_400)
    async with db.transaction(pool) as conn:  # kept signs in again three years on
        await conn.execute(
            "UPDATE identities SET last_login_at = $2 WHERE user_id = $1", kept, clock()
        )
    clock.advance(3 * 366 * 86_400)
    period = timedelta(days=5 * 366)
    async with db.transaction(pool) as conn:
        erased = await erase_past_retention(conn, now=clock(), period=period)
    assert erased == [gone]
    assert await pool.fetchval("SELECT email FROM users WHERE id = $1", gone) is None
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", kept) == "active"
    reason = await pool.fetchval(
        "SELECT data->>'reason' FROM audit_events WHERE action = 'person.erased'"
    )
    assert reason == "retention period ended (15 CFR 762.6)"
    async with db.transaction(pool) as conn:  # the next run finds nobody new
        assert await erase_past_retention(conn, now=clock(), period=period) == []


async def test_the_last_admin_who_signed_in_is_not_erased(
    pool: db.Pool, clock: FakeClock, database_url: str
) -> None:
    """Erasure removes a person's memberships, so it would leave an organisation whose only
    admin who has signed in they are with nobody to run it (an admin address nobody has
    claimed does not count: whoever verified it would own the organisation). Refused, naming
    the organisation and changing nothing, until another admin has signed in; the retention
    job passes them over meanwhile and erases the others."""
    async with db.transaction(pool) as conn:
        ada = await create_user(conn, clock(), email="ada@acme.example")
        bo = await create_user(conn, clock(), email="bo@other.example")
        acme = await create_org(conn, clock())
        other = await create_org(conn, clock(), name="Other Corp")
        await add_member(conn, clock(), acme, ada, role="admin")
        await add_member(conn, clock(), other, ada, role="admin")
        await add_member(conn, clock(), other, bo, role="admin")  # Other Corp has another
        await enrol_member(
            conn, org_id=acme, email="mallory@evil.example", user_id=None, role="admin",
            status="active", source="csv", actor="test", now=clock(),
        )  # fmt: skip
    memberships = "SELECT role, status FROM memberships WHERE user_id = $1 ORDER BY org_id"
    before = await pool.fetch(memberships, ada)

    async with pool.acquire() as conn:
        with pytest.raises(LastAdmin) as refused:
            async with conn.transaction():
                await erase_person(
                    conn, user_id=ada, reason="request of the person", actor="test", now=clock()
                )
    assert "Acme Analytics" in refused.value.detail
    assert "Other Corp" not in refused.value.detail
    code, _, err = await run_idsvc(
        "users", "erase", str(ada), "--reason", "request of the person", "--despite-retention",
        database_url=database_url,
    )  # fmt: skip
    assert code == 1
    assert "Acme Analytics" in err
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "active"
    assert await pool.fetch(memberships, ada) == before

    clock.advance(6 * 366 * 86_400)
    async with db.transaction(pool) as conn:
        erased = await erase_past_retention(conn, now=clock(), period=timedelta(days=5 * 366))
    assert erased == [bo]
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "active"

    # Cy signs in and is appointed in both: now Ada may go.
    async with db.transaction(pool) as conn:
        cy = await create_user(conn, clock(), email="cy@acme.example")
        await add_member(conn, clock(), acme, cy, role="admin")
        await add_member(conn, clock(), other, cy, role="admin")
        await erase_person(
            conn, user_id=ada, reason="request of the person", actor="test", now=clock()
        )
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "erased"
