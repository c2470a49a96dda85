"""Archiving old months of the audit trail with a signed chain checkpoint, as an operator
runs it: the kept trail verifies from its new anchor, the archive verifies against its
checkpoint, together they span the whole chain; a tampered archive is named."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from idsvc import db
from idsvc.audit import record_event
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jwk import public_jwk_from_key
from idsvc.jose.jws import sign_compact
from idsvc.keys.rotation import ensure_keys
from idsvc.keys.service import rotation_policy
from idsvc.settings import KeySettings
from tests.support.cli import run_idsvc

AUGUST = datetime(2026, 8, 10, tzinfo=UTC)


async def _events(pool: db.Pool, at: datetime, count: int) -> None:
    async with db.transaction(pool) as conn:
        for i in range(count):
            await record_event(
                conn, at=at + timedelta(minutes=i), actor="test", action="test.event",
                target=f"thing:{i}", data={"i": i},
            )  # fmt: skip


async def test_old_months_are_archived_and_the_chain_still_spans_them(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    kek_text = secrets.token_urlsafe(32)
    kek = KeyEncryptionKey.from_text(kek_text.encode())
    await pool.execute(
        "CREATE TABLE audit_events_y2026m08 PARTITION OF audit_events"
        " FOR VALUES FROM ('2026-08-01 00:00+00') TO ('2026-09-01 00:00+00')"
    )
    await _events(pool, AUGUST, 12)
    async with db.transaction(pool) as conn:
        await ensure_keys(conn, algorithms=("ES256",), now=datetime.now(UTC),
                          policy=rotation_policy(KeySettings()), kek=kek)  # fmt: skip
    await _events(pool, datetime.now(UTC), 5)

    async def idsvc(*args: str) -> tuple[int, str, str]:
        return await run_idsvc(*args, database_url=database_url, kek=kek_text)

    code, out, err = await idsvc("audit", "archive", "--before", "2026-09", "--to", str(tmp_path))
    assert code == 0, err
    assert "archived 12 events" in out
    archive = tmp_path / "audit-y2026m08-y2026m08.jsonl"
    assert await pool.fetchval("SELECT to_regclass('audit_events_y2026m08')") is None
    code, out, err = await idsvc("audit", "verify", "--seal")
    assert code == 0, err  # from the new anchor: the kept events, and the archive event
    code, out, err = await idsvc("audit", "verify-archive", str(archive))
    assert code == 0, err
    assert "archive OK" in out
    checkpoint = await pool.fetchrow("SELECT anchor_pos, events FROM audit_checkpoints")
    assert checkpoint["events"] == 12
    first_kept = await pool.fetchval("SELECT min(chain_pos) FROM audit_events")
    assert first_kept == checkpoint["anchor_pos"]  # no gap between archive and trail

    # A forger who rewrites the archive and re-signs its checkpoint with a key of their own
    # is refused: the kept, hash-chained trail recorded the real key and file hash.
    original = archive.read_bytes()
    forged_body = original.replace(b'"thing:3"', b'"thing:gone"')
    checkpoint_file = tmp_path / f"{archive.name}.checkpoint.jwt"
    _header, payload, _signature = checkpoint_file.read_text().strip().split(".")
    claims = msgspec.json.decode(b64url_decode(payload))
    claims["sha256"] = hashlib.sha256(forged_body).hexdigest()
    mine = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk_from_key(mine.public_key(), kid="forger", alg="ES256")
    forged = sign_compact(
        {"alg": "ES256", "kid": "forger", "typ": "audit-checkpoint+jwt",
         "jwk": msgspec.to_builtins(jwk)},
        msgspec.json.encode(claims), mine, "ES256",
    )  # fmt: skip
    forged_archive = tmp_path / "forged" / archive.name
    forged_archive.parent.mkdir()
    forged_archive.write_bytes(forged_body)
    (tmp_path / "forged" / f"{archive.name}.checkpoint.jwt").write_text(forged)
    code, _, err = await idsvc("audit", "verify-archive", str(forged_archive))
    assert code == 1
    assert "signed by a key the audit trail did not record" in err
    assert "sha256 is not the one the audit trail recorded" in err

    # The current month is still being written: refused.
    code, _, err = await idsvc("audit", "archive", "--before", "2099-01", "--to", str(tmp_path))
    assert code == 1
    assert "only months that have ended" in err

    # An archived event edited afterwards: named, by position.
    lines = archive.read_text().splitlines()
    lines[4] = lines[4].replace('"thing:4"', '"thing:forged"')
    archive.write_text("\n".join(lines) + "\n")
    code, _, err = await idsvc("audit", "verify-archive", str(archive))
    assert code == 1
    assert "SHA-256" in err
    assert "position 5: altered" in err

    # Nothing older is left: a second run archives nothing, and says so.
    code, out, _ = await idsvc("audit", "archive", "--before", "2026-09", "--to", str(tmp_path))
    assert code == 0
    assert "nothing to archive" in out
