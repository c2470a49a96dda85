"""Token issuance over HTTP: the refresh-token grant and browser issuance at 32 concurrent
clients, against a reference endpoint in the same server stack measured in the same run.

    python bench/issue.py [--seconds 10] [--clients 32]

The service runs in its own process (uvicorn, one worker, real PostgreSQL, the audit
sealer running), the load generator in this one, both on this machine. Each client holds
its own DPoP key and a grant bound to it; every grant request is a real refresh: DPoP proof
checked (and recorded in the shared replay store), refresh token rotated, policy decided
on current facts, status slot claimed, ES256 token signed, audit event written. Browser
issuance is ``POST /v1/eligibility-tokens`` with each user's session cookie and CSRF
header. The reference endpoint does one pooled query, one ES256 signature and one INSERT:
the floor any issuance on this stack pays.

Errors count from the first request, warm-up included, and the service's log is read
afterwards: a traceback or an error line there fails the run like an error answer. The CPU
each party used (the service process, PostgreSQL's processes, this load generator) is read
from /proc before and after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec
import uvicorn
from litestar import asgi, post
from litestar.types import Receive, Scope, Send

from idsvc import db
from idsvc.accounts.sessions import SESSION_COOKIE, Session, create_session, csrf_token
from idsvc.accounts.users import sign_in_identity
from idsvc.app import create_app
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import record_attestations
from idsvc.audit.personal import use_key_encryption_key
from idsvc.config.oauth import ClientSettings, OAuthSettings
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db.database import Database
from idsvc.http.inject import Injected, Now
from idsvc.jose.jws import sign_compact
from idsvc.keys.service import KeyService
from idsvc.oauth.grants import create_grant
from idsvc.policy.model import PolicySettings
from idsvc.rescreening.importing import import_list
from idsvc.screening.list_files import parse_list
from idsvc.screening.service import remember_person, screen_person
from idsvc.settings import (
    ConfigFile,
    DatabaseSettings,
    PolicyOptions,
    Secrets,
    ServiceSettings,
    Settings,
)

# Run as a script, bench/ is on sys.path but the repository root is not: the load
# generator borrows the test suite's DPoP proof helper.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from tests.support.forge import Key, dpop_proof

AUDIENCE = "https://api.example.com/mythos-5"
CLIENT = "bench-cli"
POLICY = PolicySettings(id="mythos-5", version=1, audience=AUDIENCE, entitlements=("invoke",))
TARGET_RATIO = 0.7
TARGET_P99_MS = 30.0
REFERENCE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_reference (
    id bigserial PRIMARY KEY, user_id uuid NOT NULL, token text NOT NULL, at timestamptz NOT NULL
)
"""


def settings_for(database_url: str, port: int, kek: bytes) -> Settings:
    return Settings(
        config=ConfigFile(
            service=ServiceSettings(
                issuer=f"http://127.0.0.1:{port}",
                cookie_secure=False,
                token_rate_limit=100_000,
                log_level="warning",
            ),
            database=DatabaseSettings(pool_min_size=10, pool_max_size=20),
            policies=(POLICY,),
            clients=(ClientSettings(id=CLIENT, rate_limit=1_000_000),),
            oauth=OAuthSettings(),
            # The shipped country groups await compliance sign-off; the benchmark decides on
            # them as development does.
            policy=PolicyOptions(allow_unreviewed_country_groups=True),
        ),
        database_url=database_url,
        secrets=Secrets(key_encryption_key=kek, session_secret=secrets.token_bytes(32)),
        data_dir=Path("/tmp/idsvc-bench"),
        config_path=None,
    )


async def reference_work(
    database: Database, keys: KeyService, now: datetime, user_text: str
) -> str:
    """The floor: one pooled query, one ES256 signature, one INSERT, in one transaction."""
    user = uuid.UUID(user_text)
    async with database.pool.acquire() as conn, conn.transaction():
        await conn.fetchval("SELECT status FROM users WHERE id = $1", user)
        signer = keys.ring.signing_key("ES256", now)
        token = sign_compact(
            {"alg": "ES256", "kid": signer.kid},
            b'{"sub":"%s","iat":%d}' % (user_text.encode(), int(now.timestamp())),
            signer.private_key,
            "ES256",
        )
        await conn.execute(
            "INSERT INTO bench_reference (user_id, token, at) VALUES ($1, $2, $3)", user, token, now
        )
    return token


@post("/bench/reference", status_code=200)
async def reference_endpoint(
    database: Injected[Database], keys: Injected[KeyService], now: Now, data: dict[str, str]
) -> dict[str, str]:
    """The reference through Litestar: body parsing, dependency injection, a response."""
    return {"access_token": await reference_work(database, keys, now, data["user"])}


@asgi("/bench/raw")
async def raw_reference(scope: Scope, receive: Receive, send: Send) -> None:
    """The same work as a bare ASGI handler: Litestar only routes to it (and the service's
    request observer still wraps it), so the difference to the reference is what the
    framework's request and response handling cost."""
    dependencies = scope["app"].dependencies
    database = await dependencies["database"].dependency()
    keys = await dependencies["keys"].dependency()
    now = dependencies["now"].dependency()
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    token = await reference_work(database, keys, now, json.loads(body)["user"])
    payload = json.dumps({"access_token": token}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def run_server(database_url: str, port: int, kek: bytes, log_path: str) -> None:
    """The service process: the real app plus the reference endpoint; its log (JSON lines,
    warnings and errors: access lines would cost the service time) goes to ``log_path``."""
    import os

    from idsvc.http.logs import configure_logging

    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    configure_logging("warning")
    app = create_app(
        settings_for(database_url, port, kek), extra_routes=(reference_endpoint, raw_reference)
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


class Prepared(msgspec.Struct):
    user: uuid.UUID
    refresh: str
    key: Any
    cookie: str
    csrf: str


async def prepare(database_url: str, clients: int) -> list[Prepared]:
    """Users with attestations, each with a grant bound to its own DPoP key and a browser
    session."""
    from idsvc.jose.jwk import thumbprint

    now = datetime.now(UTC)
    conn = await db.connect(database_url)
    prepared = []
    try:
        await conn.execute(REFERENCE_TABLE)
        # Nobody gets a token unscreened ([screening] required, the default): a current list,
        # and every bench user's name screened against it, as a sign-in would.
        demo_list = files("idsvc.screening").joinpath("data/demo_list.json").read_bytes()
        async with conn.transaction():
            await import_list(
                conn, data=demo_list, rows=parse_list(demo_list), actor="bench", now=now,
                force=True, max_entry_drop=0.1, threshold=88.0,
            )  # fmt: skip
        for n in range(clients):
            key = Key()
            jwk = {m: v for m, v in key.jwk.items() if m not in ("kid", "alg", "use")}
            async with conn.transaction():
                user, _ = await sign_in_identity(
                    conn, provider="bench", subject=f"user-{n}", email=None,
                    email_verified=False, display_name=None, link_to=None, now=now,
                )  # fmt: skip
                drafts = [
                    AttestationDraft(
                        kind=kind,
                        values=values,
                        trust_framework="t",
                        assurance="IAL2",
                        verified_at=now - timedelta(days=1),
                        expires_at=now + timedelta(days=300),
                        evidence=(),
                    )
                    for kind, values in (
                        ("nationalities", ("US",)),
                        ("us_person_basis", ("citizen",)),
                    )
                ]
                await record_attestations(
                    conn, user_id=user.id, provider="bench", drafts=drafts, now=now
                )
                await remember_person(conn, user_id=user.id, name=f"Bench Person {n}",
                                      birthdate=None, provider="bench", now=now)  # fmt: skip
                await screen_person(conn, user_id=user.id, threshold=88.0, actor="bench", now=now)
                _grant, refresh = await create_grant(
                    conn, user_id=user.id, client_id=CLIENT, dpop_jkt=thumbprint(jwk),
                    settings=OAuthSettings(), now=now,
                )  # fmt: skip
                cookie = await create_session(
                    conn, user_id=user.id, now=now, absolute_lifetime=86_400
                )
                row = await conn.fetchrow(
                    "SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1",
                    user.id,
                )
            session = msgspec.convert(
                {k: row[k] for k in Session.__struct_fields__ if k in row}, Session
            )
            prepared.append(
                Prepared(
                    user=user.id, refresh=refresh, key=key, cookie=cookie, csrf=csrf_token(session)
                )
            )
    finally:
        await conn.close()
    return prepared


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client over one asyncio stream. httpx costs the load
    generator ~3 ms of CPU per request on this machine, so it, not the service, set the
    pace; this costs well under a tenth of that."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawHttp:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(
        self, path: str, body: bytes, content_type: str, extra: str = ""
    ) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        self.writer.write(head.encode() + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers[9:12])
        length = int(_CONTENT_LENGTH.search(headers).group(1))  # type: ignore[union-attr]
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


_CONTENT_LENGTH = re.compile(rb"(?i)content-length: *([0-9]+)")
_REFRESH = re.compile(rb'"refresh_token":"([^"]+)"')


async def drive(
    port: int, prepared: list[Prepared], seconds: float, *, kind: str
) -> dict[str, float]:
    """``kind``: "reference", "raw", "grant" or "browser". Latencies after a one-second warm-up;
    errors (any answer but 200/201) from the first request."""
    url = f"http://127.0.0.1:{port}/oauth2/token"
    latencies: list[float] = []
    errors = 0
    # Proofs are signed before the clock starts: the client's signing is not the service's
    # cost. Each is single use (its jti), so make more than any run can send.
    per_client = int(seconds * 4000 / len(prepared)) + 200
    proofs = [
        [dpop_proof(p.key, "", ath=None, htu=url, iat=time.time()) for _ in range(per_client)]
        if kind == "grant"
        else []
        for p in prepared
    ]
    warmup_end = time.perf_counter() + 1.0
    deadline = warmup_end + seconds

    async def client(n: int, me: Prepared) -> None:
        nonlocal errors
        http = await RawHttp.open(port)
        body_ref = json.dumps({"user": str(me.user)}).encode()
        body_browser = json.dumps({"audience": AUDIENCE}).encode()
        browser_headers = f"Cookie: {SESSION_COOKIE}={me.cookie}\r\nX-CSRF-Token: {me.csrf}\r\n"
        refresh = me.refresh
        sent = 0
        try:
            while (start := time.perf_counter()) < deadline:
                if kind in ("reference", "raw"):
                    path = "/bench/reference" if kind == "reference" else "/bench/raw"
                    status, _ = await http.post(path, body_ref, "application/json")
                elif kind == "browser":
                    status, _ = await http.post(
                        "/v1/eligibility-tokens", body_browser, "application/json",
                        browser_headers,
                    )  # fmt: skip
                else:
                    fields = {"client_id": CLIENT, "grant_type": "refresh_token"}
                    form = urlencode(
                        {**fields, "refresh_token": refresh, "resource": AUDIENCE}
                    ).encode()
                    status, body = await http.post(
                        "/oauth2/token", form, "application/x-www-form-urlencoded",
                        f"DPoP: {proofs[n][sent]}\r\n",
                    )  # fmt: skip
                    sent += 1
                    if status == 200:
                        refresh = _REFRESH.search(body).group(1).decode()  # type: ignore[union-attr]
                errors += status not in (200, 201)
                if start >= warmup_end:
                    latencies.append(time.perf_counter() - start)
        finally:
            http.close()

    await asyncio.gather(*(client(n, me) for n, me in enumerate(prepared)))
    latencies.sort()
    return {
        "rate": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


_TICKS = os.sysconf("SC_CLK_TCK")
# Write-ahead log generated, per request: what each commit has to flush (every issuance
# commits durably; on this machine the flush, not the CPU, bounds the grant).
_WAL_POSITION = "SELECT pg_current_wal_lsn()"
_WAL_SINCE = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)"
# Full-page images: the first change to a page after a checkpoint logs the whole page.
_FULL_PAGES = "SELECT wal_fpi FROM pg_stat_wal"


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU of one process, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_snapshot(service_pid: int) -> dict[str, float]:
    return {
        "service": _cpu_seconds(service_pid),
        "postgres": sum(_cpu_seconds(pid) for pid in _postgres_pids()),
        "load generator": _cpu_seconds(os.getpid()),
        "wall": time.monotonic(),
    }


def cpu_split(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Each party's share of the machine's CPU (all cores) during a phase, in percent."""
    capacity = (after["wall"] - before["wall"]) * (os.cpu_count() or 1)
    return {
        name: 100 * (after[name] - before[name]) / capacity for name in before if name != "wall"
    }


def log_problems(log_path: Path) -> list[str]:
    """Error lines and tracebacks in the service's log."""
    problems = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            if record.get("level") in ("error", "critical") or "exception" in record:
                problems.append(line[:300])
        elif "Traceback" in line or "Error" in line:
            problems.append(line[:300])
    return problems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(base: str, server: multiprocessing.process.BaseProcess) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            if not server.is_alive():
                raise RuntimeError("the service stopped during start-up (see its log)")
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the service did not start")


async def main(seconds: float, clients: int, kinds: tuple[str, ...]) -> int:
    kek = secrets.token_urlsafe(32).encode()
    # The attestations written below seal personal values under per-person keys wrapped by
    # the service's key-encryption key: the same one the service process will use.
    use_key_encryption_key(KeyEncryptionKey.from_text(kek))
    async with scratch_database() as database_url:
        prepared = await prepare(database_url, clients)
        port = free_port()
        log_path = Path(f"/tmp/idsvc-bench-issue-{port}.log")
        server = multiprocessing.get_context("spawn").Process(
            target=run_server, args=(database_url, port, kek, str(log_path)), daemon=True
        )
        server.start()
        base = f"http://127.0.0.1:{port}"
        results: dict[str, dict[str, float]] = {}
        cpu: dict[str, dict[str, float]] = {}
        try:
            await wait_ready(base, server)
            watcher = await db.connect(database_url)
            try:
                for kind in kinds:
                    before = cpu_snapshot(server.pid or 0)
                    wal_before = await watcher.fetchval(_WAL_POSITION)
                    pages_before = await watcher.fetchval(_FULL_PAGES)
                    results[kind] = await drive(port, prepared, seconds, kind=kind)
                    cpu[kind] = cpu_split(before, cpu_snapshot(server.pid or 0))
                    wal = await watcher.fetchval(_WAL_SINCE, wal_before)
                    sent = results[kind]["rate"] * (seconds + 1)  # warm-up second included
                    results[kind]["wal"] = float(wal) / max(sent, 1)
                    pages = await watcher.fetchval(_FULL_PAGES) - pages_before
                    results[kind]["fpi"] = pages / max(sent, 1)
            finally:
                await watcher.close()
        finally:
            server.terminate()
            server.join(10)
    problems = log_problems(log_path)
    reference = results["reference"]
    names = {
        "reference": "reference (query+ES256+INSERT)",
        "raw": "the same as bare ASGI",
        "grant": "refresh-token grant",
        "browser": "browser issuance",
    }
    print(f"{clients} concurrent clients, {seconds:.0f} s each, service and load on this machine")
    print(
        f"{'':31} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'ratio':>6}"
        f" {'WAL B/req':>9} {'FPI/req':>7}   CPU %: {'service':>7} {'postgres':>8} {'load':>5}"
    )
    for kind, row in results.items():
        split = cpu[kind]
        print(
            f"{names[kind]:31} {row['rate']:7.0f} {row['p50']:7.1f} {row['p99']:7.1f} "
            f"{row['errors']:6.0f} {row['rate'] / reference['rate']:6.2f} "
            f"{row['wal']:9.0f} {row['fpi']:7.2f}"
            f"          {split['service']:7.0f} {split['postgres']:8.0f} "
            f"{split['load generator']:5.0f}"
        )
    print(f"service log: {len(problems)} error line(s) or traceback(s) ({log_path})")
    for line in problems[:5]:
        print(f"  {line}")
    failed = bool(problems)
    print(
        f"targets: >= {TARGET_RATIO:.2f}x the reference, p99 <= {TARGET_P99_MS:.0f} ms, "
        "no errors, a clean service log"
    )
    for kind in ("grant", "browser"):
        if kind not in results:
            continue
        row = results[kind]
        misses = [
            what
            for what, missed in (
                (f"ratio {row['rate'] / reference['rate']:.2f}",
                 row["rate"] / reference["rate"] < TARGET_RATIO),
                (f"p99 {row['p99']:.1f} ms", row["p99"] > TARGET_P99_MS),
                (f"{row['errors']:.0f} errors", row["errors"] > 0),
            )
            if missed
        ]  # fmt: skip
        failed = failed or bool(misses)
        print(f"  {names[kind]}: {'PASS' if not misses else 'FAIL (' + ', '.join(misses) + ')'}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--only",
        choices=("raw", "grant", "browser"),
        help="measure the reference and this one only (e.g. to profile it)",
    )
    args = parser.parse_args()
    kinds = ("reference", args.only) if args.only else ("reference", "raw", "grant", "browser")
    raise SystemExit(asyncio.run(main(args.seconds, args.clients, kinds)))
