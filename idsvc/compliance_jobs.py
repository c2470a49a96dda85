"""The compliance jobs every instance runs, each safe with several instances (claims in
shared rows, SKIP LOCKED): noting the screening list's age, the daily re-screen, the
scheduled list fetch, access reviews, expiry reminders and retention."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx

from idsvc.accounts.retention import erase_past_retention
from idsvc.attestations.reminders import send_expiry_reminders
from idsvc.background import PeriodicJobs
from idsvc.db import Pool
from idsvc.orgs.members.reviews import close_due_reviews, open_due_reviews, remind_reviewers
from idsvc.orgs.vetting.screening_hits import rescreen_if_due
from idsvc.rescreening.fetch import FetchFailure, fetch_list_if_due
from idsvc.runtime import Runtime
from idsvc.screening.freshness import newest_list

__all__ = ["start_compliance_jobs"]

_log = logging.getLogger(__name__)

_HOURLY = 3600.0
_SCREENING_LIST_CHECK_INTERVAL = 60.0
# How often an instance asks whether the list is due; the fetch itself runs once per
# [screening] fetch_interval in all.
_SCREENING_FETCH_CHECK_INTERVAL = 300.0


def start_compliance_jobs(
    jobs: PeriodicJobs, runtime: Runtime, pool: Pool, http: httpx.AsyncClient
) -> None:
    settings = runtime.settings

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

    async def expiry_reminders() -> None:
        notice = settings.config.reminders.expiry_notice
        if not notice or runtime.mailer is None:
            return
        async with pool.acquire() as conn, conn.transaction():
            await send_expiry_reminders(
                conn,
                runtime.mailer,
                now=runtime.clock(),
                notice=timedelta(seconds=notice),
                issuer=settings.service.issuer,
            )

    async def retention() -> None:
        period = settings.config.retention.period
        if not period:
            return
        async with pool.acquire() as conn, conn.transaction():
            await erase_past_retention(conn, now=runtime.clock(), period=timedelta(seconds=period))

    jobs.start("screening-list-age", _SCREENING_LIST_CHECK_INTERVAL, note_screening_list)
    jobs.start("retention", _HOURLY, retention)
    # Hourly ticks; the shared schedule rows make each run once per interval in all.
    jobs.start("screening-rescreen", _HOURLY, rescreen)
    jobs.start("access-reviews", _HOURLY, access_reviews)
    jobs.start("expiry-reminders", _HOURLY, expiry_reminders)
    if settings.config.screening.list_url:
        jobs.start("screening-fetch", _SCREENING_FETCH_CHECK_INTERVAL, fetch_list)
