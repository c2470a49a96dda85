"""The service's periodic upkeep, started once the pool is open: sealing the audit chain,
audit partitions, purging spent sign-in state, retiring status lists; and the compliance
jobs (idsvc.compliance_jobs). Each job is safe with several instances: the sealer elects
itself per run with a transaction-level advisory lock, the others are idempotent
statements or claim their run in a shared row."""

from __future__ import annotations

import httpx

from idsvc.audit import seal_pending
from idsvc.background import PeriodicJobs
from idsvc.clock import Clock
from idsvc.compliance_jobs import ScreeningListImported, start_compliance_jobs
from idsvc.db import Pool
from idsvc.http.ratelimit import purge_rate_counters
from idsvc.mail.senders import Mailer
from idsvc.oidc.pending_links import purge_pending_links
from idsvc.oidc.transactions import purge_transactions
from idsvc.replay import purge_replay_guard
from idsvc.settings import Settings
from idsvc.tokens.status_service import StatusListService

__all__ = ["start_upkeep"]

_HOURLY = 3600.0
_PURGE_NONCES = "DELETE FROM seen_nonces WHERE expires_at < $1"
_PURGE_SESSIONS = "DELETE FROM sessions WHERE expires_at < $1::timestamptz - interval '30 days'"


def start_upkeep(
    jobs: PeriodicJobs,
    *,
    settings: Settings,
    clock: Clock,
    pool: Pool,
    http: httpx.AsyncClient,
    status_lists: StatusListService,
    mailer: Mailer | None,
    list_imported: ScreeningListImported,
) -> None:
    _start_store_upkeep(jobs, settings=settings, clock=clock, pool=pool, status_lists=status_lists)
    start_compliance_jobs(
        jobs,
        settings=settings,
        clock=clock,
        pool=pool,
        http=http,
        mailer=mailer,
        list_imported=list_imported,
    )


def _start_store_upkeep(
    jobs: PeriodicJobs,
    *,
    settings: Settings,
    clock: Clock,
    pool: Pool,
    status_lists: StatusListService,
) -> None:
    audit = settings.config.audit

    async def seal() -> None:
        async with pool.acquire() as conn:
            # Keep sealing while full batches come back, then wait for the next tick.
            while (
                await seal_pending(conn, batch_size=audit.seal_batch_size) == audit.seal_batch_size
            ):
                pass

    async def upkeep_partitions() -> None:
        await pool.execute("SELECT audit_ensure_partitions($1)", audit.partitions_ahead)

    async def purge_sign_in_leftovers() -> None:
        # Used or expired sign-in state and nonces past their ID token's expiry are
        # useless; ended sessions are kept a month for investigations.
        now = clock()
        async with pool.acquire() as conn, conn.transaction():
            await purge_transactions(conn, now=now)
            await purge_pending_links(conn, now=now)
            await conn.execute(_PURGE_NONCES, now)
            await conn.execute(_PURGE_SESSIONS, now)
            await purge_replay_guard(conn, now=now)
            await purge_rate_counters(conn, now=now)

    async def retire_status_lists() -> None:
        await status_lists.retire_expired(pool, clock())

    jobs.start("audit-sealer", audit.seal_interval, seal)
    jobs.start("sign-in-purge", _HOURLY, purge_sign_in_leftovers)
    jobs.start("audit-partitions", _HOURLY, upkeep_partitions)
    jobs.start(
        "status-list-retirement", settings.config.status_lists.retire_interval, retire_status_lists
    )
