"""The service's periodic upkeep, started once the pool is open: sealing the audit chain,
audit partitions, purging spent sign-in state, retiring status lists, and noting the
restricted-party list's age for /metrics. Each job is safe with several instances: the
sealer elects itself per run with a transaction-level advisory lock, the others are
idempotent statements."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx

from idsvc.audit import seal_pending
from idsvc.background import PeriodicJobs
from idsvc.db import Pool
from idsvc.http.ratelimit import purge_rate_counters
from idsvc.oidc.pending_links import purge_pending_links
from idsvc.oidc.transactions import purge_transactions
from idsvc.orgs.reviews import close_due_reviews, open_due_reviews, remind_reviewers
from idsvc.replay import purge_replay_guard
from idsvc.runtime import Runtime
from idsvc.screening.fetch import FetchFailure, fetch_list_if_due
from idsvc.screening.freshness import newest_list
from idsvc.screening.hits import rescreen_if_due

__all__ = ["start_upkeep"]

_log = logging.getLogger(__name__)

_HOURLY = 3600.0
_SCREENING_LIST_CHECK_INTERVAL = 60.0
# How often an instance asks whether the list is due; the fetch itself runs once per
# [screening] fetch_interval in all.
_SCREENING_FETCH_CHECK_INTERVAL = 300.0
_PURGE_NONCES = "DELETE FROM seen_nonces WHERE expires_at < $1"
_PURGE_SESSIONS = "DELETE FROM sessions WHERE expires_at < $1::timestamptz - interval '30 days'"


def start_upkeep(jobs: PeriodicJobs, runtime: Runtime, pool: Pool, http: httpx.AsyncClient) -> None:
    settings = runtime.settings
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
        now = runtime.clock()
        async with pool.acquire() as conn, conn.transaction():
            await purge_transactions(conn, now=now)
            await purge_pending_links(conn, now=now)
            await conn.execute(_PURGE_NONCES, now)
            await conn.execute(_PURGE_SESSIONS, now)
            await purge_replay_guard(conn, now=now)
            await purge_rate_counters(conn, now=now)

    async def note_screening_list() -> None:
        async with pool.acquire() as conn:
            newest = await newest_list(conn)
        runtime.screening_list_imported_at = newest.imported_at if newest else None

    async def rescreen() -> None:
        screening = settings.config.screening
        async with pool.acquire() as conn, conn.transaction():
            await rescreen_if_due(
                conn,
                interval=timedelta(seconds=screening.rescreen_interval),
                threshold=screening.threshold,
                now=runtime.clock(),
            )

    async def fetch_list() -> None:
        screening = settings.config.screening
        outcome = await fetch_list_if_due(
            pool,
            http,
            url=screening.list_url,
            interval=timedelta(seconds=screening.fetch_interval),
            now=runtime.clock(),
            max_entry_drop=screening.max_entry_drop,
            threshold=screening.threshold,
        )
        if isinstance(outcome, FetchFailure):
            _log.warning("screening list fetch failed", extra={"reason": outcome.reason})

    async def access_reviews() -> None:
        orgs = settings.config.orgs
        now = runtime.clock()
        async with pool.acquire() as conn, conn.transaction():
            if orgs.review_interval:
                await open_due_reviews(
                    conn,
                    now=now,
                    interval=timedelta(seconds=orgs.review_interval),
                    window=timedelta(seconds=orgs.review_window),
                )
            await remind_reviewers(
                conn,
                runtime.mailer,
                now=now,
                ahead=timedelta(seconds=orgs.review_reminder),
                issuer=settings.service.issuer,
            )
            await close_due_reviews(conn, now=now)

    async def retire_status_lists() -> None:
        await runtime.status_lists.retire_expired(pool, runtime.clock())

    jobs.start("audit-sealer", audit.seal_interval, seal)
    jobs.start("sign-in-purge", _HOURLY, purge_sign_in_leftovers)
    jobs.start("audit-partitions", _HOURLY, upkeep_partitions)
    jobs.start("screening-list-age", _SCREENING_LIST_CHECK_INTERVAL, note_screening_list)
    # Hourly ticks; the shared schedule row makes it one re-screen per interval in all.
    jobs.start("screening-rescreen", _HOURLY, rescreen)
    jobs.start("access-reviews", _HOURLY, access_reviews)
    if settings.config.screening.list_url:
        jobs.start("screening-fetch", _SCREENING_FETCH_CHECK_INTERVAL, fetch_list)
    jobs.start(
        "status-list-retirement", settings.config.status_lists.retire_interval, retire_status_lists
    )
