"""Chaos: three `idsvc serve` instances behind NGINX on one PostgreSQL, under mixed load
(browser issuance, DPoP-bound refresh grants, revocations, replayed proofs), while one
instance is killed with SIGKILL and restarted and PostgreSQL is restarted once.

Afterwards, from the records alone: every token a client received has its token.issued
event and its status slot; every revocation made during the run is in the served status
lists; no replayed DPoP proof was accepted; the audit chain verifies. Bounded: the load
runs IDSVC_CHAOS_SECONDS (default 120), everything on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from base64 import urlsafe_b64decode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.config.oauth import OAuthSettings
from idsvc.jose.jwk import thumbprint
from idsvc.oauth.grants import create_grant
from idsvc.verify.status import decode_status_list, status_at
from tests.support.cli import run_idsvc
from tests.support.cluster import LocalCluster, local_cluster
from tests.support.factories import attest
from tests.support.forge import Key, dpop_proof
from tests.support.gateways.nginx import run_nginx, sidecar, wait_for
from tests.support.screening import import_demo_list, screen
from tests.support.serving import free_port
from tests.support.signin import Caller, session_caller

pytestmark = pytest.mark.slow
SECONDS = float(os.environ.get("IDSVC_CHAOS_SECONDS", "120"))
MODEL = "https://api.example.com/mythos-5"
PEOPLE = 12
TTL = 10


def claims_of(jwt: str) -> dict[str, object]:
    part = jwt.split(".")[1]
    return json.loads(urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


@dataclass
class Tally:
    issued: dict[str, dict[str, object]] = field(default_factory=dict)  # jti -> claims
    failures: dict[str, int] = field(default_factory=dict)
    replays_tried: int = 0
    replays_accepted: int = 0
    browser_tokens: dict[str, str] = field(default_factory=dict)  # jti -> token
    gateway: dict[int, int] = field(default_factory=dict)  # sidecar status -> count
    revoked: dict[uuid.UUID, datetime] = field(default_factory=dict)  # user -> when

    def failed(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


class Instances:
    """`idsvc serve` processes sharing one configuration and one database."""

    def __init__(self, env: dict[str, str], ports: list[int], folder: Path) -> None:
        self.env, self.ports, self.folder = env, ports, folder
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, port: int) -> None:
        # The child keeps its own copy of the descriptor; ours closes at once.
        with (self.folder / f"instance-{port}.log").open("ab") as log:
            self.procs[port] = subprocess.Popen(
                [sys.executable, "-m", "idsvc.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        wait_for(f"http://127.0.0.1:{port}/healthz", deadline=30)

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)

    def unhandled(self) -> list[str]:
        """Lines that say the service met an error it did not handle (a 500, a failed job,
        an exception escaping to the server). asyncpg's own "failed to restore the pool
        connection floor" warning, with its traceback, is expected during the restart."""
        markers = ("unhandled error", "background job failed", "Exception in ASGI application")
        found = []
        for port in self.ports:
            for line in (self.folder / f"instance-{port}.log").read_text().splitlines():
                if any(marker in line for marker in markers):
                    found.append(f"{port}: {line[:200]}")
        return found


@contextmanager
def three_instances(cluster: LocalCluster, folder: Path, front_port: int) -> Iterator[Instances]:
    issuer = f"http://127.0.0.1:{front_port}"
    config = folder / "idsvc.toml"
    config.write_text(
        f'[service]\nissuer = "{issuer}"\ncookie_secure = false\nlog_level = "warning"\n'
        "token_rate_limit = 100000\n"
        f"[status_lists]\nttl = {TTL}\n"
        "[policy]\nallow_unreviewed_country_groups = true\n"
        f'[[policies]]\nid = "mythos-5"\nversion = 1\naudience = "{MODEL}"\n'
        'entitlements = ["model:invoke"]\n'
    )
    env = {
        **os.environ,
        "IDSVC_CONFIG": str(config),
        "IDSVC_DATABASE_URL": cluster.url,
        "IDSVC_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "IDSVC_SESSION_SECRET": secrets.token_urlsafe(32),
        "IDSVC_DATA_DIR": str(folder / "data"),
    }
    ports = [free_port() for _ in range(3)]
    instances = Instances(env, ports, folder)
    try:
        for port in ports:
            instances.start(port)
        yield instances
    finally:
        instances.stop_all()


async def people(url: str, now: datetime) -> list[Caller]:
    """U.S. citizens with a browser session each, screened against a current list (written
    to the database, as sign-in would, so the run spends its time on issuance)."""
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await import_demo_list(conn, now)
        callers = []
        for n in range(PEOPLE):
            caller = await session_caller(pool, now, email=f"p{n}@example.com")
            async with db.transaction(pool) as conn:
                await attest(conn, now, caller.user_id)
            async with pool.acquire() as conn:
                await screen(conn, now, caller.user_id, name=f"Person Number {n}")
            callers.append(caller)
        return callers
    finally:
        await pool.close()


async def browser_load(front: str, caller: Caller, tally: Tally, until: float) -> None:
    async with httpx.AsyncClient(base_url=front, timeout=10, cookies=caller.cookies) as http:
        while time.monotonic() < until:
            try:
                response = await http.post(
                    "/v1/eligibility-tokens", json={"audience": MODEL}, headers=caller.headers
                )
            except httpx.HTTPError:
                tally.failed("browser: transport")
                continue
            if response.status_code == 201:
                token = response.json()["access_token"]
                tally.issued[str(claims_of(token)["jti"])] = claims_of(token)
                tally.browser_tokens[str(claims_of(token)["jti"])] = token
            elif response.status_code == 403:
                pass  # revoked during the run: a correct denial
            else:
                tally.failed(f"browser: {response.status_code}")
                await asyncio.sleep(0.05)


async def refresh_load(
    front: str, refresh_token: str, key: Key, tally: Tally, until: float
) -> None:
    url = f"{front}/oauth2/token"
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < until:
            proof = dpop_proof(key, "", htu=url, iat=time.time(), ath=None)
            form = {
                "grant_type": "refresh_token",
                "client_id": "idsvc-cli",
                "refresh_token": refresh_token,
                "resource": MODEL,
            }
            try:
                response = await http.post(url, data=form, headers={"DPoP": proof})
            except httpx.HTTPError:
                tally.failed("refresh: transport")
                return  # the rotation may have happened unseen: the grant is spent
            if response.status_code == 503:
                # The database was unreachable: nothing was committed, the refresh token
                # still holds. Try again shortly, with a fresh proof.
                tally.failed("refresh: 503")
                await asyncio.sleep(0.2)
                continue
            if response.status_code != 200:
                tally.failed(f"refresh: {response.status_code}")
                return
            body = response.json()
            refresh_token = body["refresh_token"]
            tally.issued[str(claims_of(body["access_token"])["jti"])] = claims_of(
                body["access_token"]
            )
            # The same proof again, most likely at another instance: must be refused.
            tally.replays_tried += 1
            replay = await http.post(
                url, data={**form, "refresh_token": refresh_token}, headers={"DPoP": proof}
            )
            if replay.status_code == 200:
                tally.replays_accepted += 1
                refresh_token = replay.json()["refresh_token"]


async def gateway_load(gateway: str, tally: Tally, until: float) -> None:
    """A gateway in front of the model checks tokens through the sidecar all along (keys
    and status lists from its caches, fetched from the instances behind NGINX)."""
    async with httpx.AsyncClient(base_url=f"http://{gateway}", timeout=10) as http:
        while time.monotonic() < until:
            tokens = list(tally.browser_tokens.values())[-50:]
            if not tokens:
                await asyncio.sleep(0.1)
                continue
            for token in tokens[::10]:
                response = await http.get("/check", headers={"Authorization": f"Bearer {token}"})
                tally.gateway[response.status_code] = tally.gateway.get(response.status_code, 0) + 1
            await asyncio.sleep(0.05)


async def grants(url: str, callers: list[Caller], now: datetime) -> list[tuple[str, Key]]:
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        made = []
        for caller in callers:
            key = Key("ES256")
            async with db.transaction(pool) as conn:
                _, token = await create_grant(
                    conn,
                    user_id=caller.user_id,
                    client_id="idsvc-cli",
                    dpop_jkt=thumbprint(key.jwk),
                    settings=OAuthSettings(),
                    now=now,
                )
            made.append((token, key))
        return made
    finally:
        await pool.close()


async def revoke_some(url: str, callers: list[Caller], tally: Tally, until: float) -> None:
    """Every few seconds an operator revokes one person's U.S.-person attestation."""
    victims = iter(callers[: PEOPLE // 3])
    while time.monotonic() < until - 15:
        await asyncio.sleep(SECONDS / 8)
        victim = next(victims, None)
        if victim is None:
            return
        try:
            conn = await db.connect(url)
        except OSError:
            continue  # PostgreSQL is restarting: the next victim, later
        try:
            attestation = await conn.fetchval(
                "SELECT id FROM attestations WHERE user_id = $1 AND kind = 'us_person_basis'",
                victim.user_id,
            )
            async with conn.transaction():
                await revoke_attestation(
                    conn, attestation, actor="chaos", reason="chaos test", now=datetime.now(UTC)
                )
            tally.revoked[victim.user_id] = datetime.now(UTC)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass  # interrupted by the restart: not revoked, not counted
        finally:
            conn.terminate()


async def faults(instances: Instances, cluster: LocalCluster, until: float) -> list[str]:
    started = time.monotonic()
    done = []
    await asyncio.sleep(SECONDS * 0.25)
    victim = instances.ports[1]
    instances.kill(victim)
    done.append(f"SIGKILL instance at {time.monotonic() - started:.0f} s")
    await asyncio.sleep(SECONDS * 0.1)
    await asyncio.to_thread(instances.start, victim)
    done.append(f"instance restarted at {time.monotonic() - started:.0f} s")
    await asyncio.sleep(SECONDS * 0.2)
    await asyncio.to_thread(cluster.restart)
    done.append(f"PostgreSQL restarted at {time.monotonic() - started:.0f} s")
    return done


async def test_three_instances_survive_a_killed_instance_and_a_postgresql_restart(
    tmp_path: Path,
) -> None:
    front_port = free_port()
    with local_cluster() as cluster:
        code, _, err = await run_idsvc("migrate", database_url=cluster.url)
        assert code == 0, err
        with three_instances(cluster, tmp_path, front_port) as instances:
            upstream = "\n".join(f"  server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                                 for p in instances.ports)  # fmt: skip
            block = (
                f"upstream idsvc {{\n{upstream}\n}}\n"
                f"server {{\n listen 127.0.0.1:{front_port};\n location / {{\n"
                "  proxy_pass http://idsvc;\n  proxy_set_header Host $http_host;\n"
                "  proxy_next_upstream error timeout;\n }\n}\n"
            )
            with (
                run_nginx(tmp_path / "nginx", block, front_port) as front,
                sidecar(front, MODEL) as gateway,
            ):
                now = datetime.now(UTC)
                callers = await people(cluster.url, now)
                refreshers = await grants(cluster.url, callers, now)
                tally = Tally()
                until = time.monotonic() + SECONDS
                results = await asyncio.gather(
                    faults(instances, cluster, until),
                    revoke_some(cluster.url, callers, tally, until),
                    *(browser_load(front, c, tally, until) for c in callers[:6]),
                    *(refresh_load(front, t, k, tally, until) for t, k in refreshers),
                    gateway_load(gateway, tally, until),
                )
                # Revocations reach the served lists within ttl plus one fetch.
                await asyncio.sleep(TTL + 2)
                # Every revoked person's browser token issued before the revocation is
                # refused at the gateway now.
                gateway_refusals = {}
                async with httpx.AsyncClient(base_url=f"http://{gateway}", timeout=10) as http:
                    for jti, token in tally.browser_tokens.items():
                        claims = tally.issued[jti]
                        if float(claims["exp"]) > time.time() + 1:  # type: ignore[arg-type]
                            check = await http.get(
                                "/check", headers={"Authorization": f"Bearer {token}"}
                            )
                            gateway_refusals[jti] = check.status_code
                lists: dict[str, bytes] = {}
                async with httpx.AsyncClient(timeout=10) as http:
                    for claims in tally.issued.values():
                        uri = claims["status"]["status_list"]["uri"]  # type: ignore[index]
                        if uri not in lists:
                            served = claims_of((await http.get(uri)).text)["status_list"]
                            lists[uri] = decode_status_list(2, served["lst"])  # type: ignore[index]
            unhandled = instances.unhandled()

        pool = await db.create_pool(cluster.url, min_size=1, max_size=2)
        try:
            audited = {
                r["jti"]
                for r in await pool.fetch(
                    "SELECT data->>'jti' AS jti FROM audit_events WHERE action = 'token.issued'"
                )
            }
            slots = {r["jti"] for r in await pool.fetch("SELECT jti FROM token_statuses")}
            revoked_users = {str(u) for u in tally.revoked}
            owners = {
                r["jti"]: str(r["user_id"])
                for r in await pool.fetch("SELECT jti, user_id FROM token_statuses")
            }
            db_status = {
                r["jti"]: r["status"]
                for r in await pool.fetch("SELECT jti, status FROM token_statuses")
            }
        finally:
            await pool.close()
        code, out, err = await run_idsvc("audit", "verify", database_url=cluster.url)

    issued = set(tally.issued)
    missing_events = issued - audited
    missing_slots = issued - slots
    not_revoked = [
        jti
        for jti, claims in tally.issued.items()
        if owners.get(jti) in revoked_users
        and datetime.fromtimestamp(float(claims["iat"]), UTC)  # type: ignore[arg-type]
        < tally.revoked[uuid.UUID(owners[jti])]
        and status_at(
            lists[claims["status"]["status_list"]["uri"]],  # type: ignore[index]
            2,
            int(claims["status"]["status_list"]["idx"]),  # type: ignore[index]
        )
        != 1
    ]
    revoked_at_gateway = {
        jti: code
        for jti, code in gateway_refusals.items()
        if owners.get(jti) in revoked_users
        and datetime.fromtimestamp(float(tally.issued[jti]["iat"]), UTC)  # type: ignore[arg-type]
        < tally.revoked[uuid.UUID(owners[jti])] - timedelta(seconds=1)
    }
    print(
        f"\nchaos: {len(issued)} tokens, faults {results[0]}, {len(tally.revoked)} "
        f"revocations, {tally.replays_tried} replays tried, failures {tally.failures}, "
        f"gateway checks during the run {tally.gateway}, revoked tokens checked at the "
        f"gateway after it {len(revoked_at_gateway)}"
    )
    assert len(issued) > 100
    assert missing_events == set(), f"{len(missing_events)} tokens without token.issued"
    assert missing_slots == set(), f"{len(missing_slots)} tokens without a status slot"
    assert tally.revoked, "no revocation was made during the run"
    assert not_revoked == [], [
        (jti, tally.issued[jti]["iat"], tally.revoked[uuid.UUID(owners[jti])].timestamp(),
         db_status.get(jti))
        for jti in not_revoked
    ]  # fmt: skip
    assert set(revoked_at_gateway.values()) <= {403}, revoked_at_gateway
    assert 200 in tally.gateway
    assert tally.replays_tried > 0
    assert tally.replays_accepted == 0
    assert code == 0, err + out
    assert unhandled == []
