"""The compliance jobs every instance runs, each safe with several instances (claims in
shared rows, SKIP LOCKED): noting the screening list's age, the daily re-screen, the
scheduled list fetch, access reviews, expiry reminders and retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx

from idsvc.attestations.reminders import send_expiry_reminders
from idsvc.background import PeriodicJobs
from idsvc.clock import Clock
from idsvc.db import Pool
from idsvc.erasure.retention import erase_past_retention
from idsvc.mail.senders import Mailer
from idsvc.orgs.members.reviews import close_due_reviews, open_due_reviews, remind_reviewers
from idsvc.orgs.vetting.screening_hits import rescreen_if_due
from idsvc.rescreening.fetch import FetchFailure, fetch_list_if_due
from idsvc.screening.freshness import newest_list
from idsvc.settings import Settings

__all__ = ["ScreeningListImported", "start_compliance_jobs"]

_log = logging.getLogger(__name__)

_HOURLY = 3600.0
_SCREENING_LIST_CHECK_INTERVAL = 60.0
# How often an instance asks whether the list is due; the fetch itself runs once per
# [screening] fetch_interval in all.
_SCREENING_FETCH_CHECK_INTERVAL = 300.0


class ScreeningListImported:
    """When the newest restricted-party list was imported, as last seen by the job that
    looks (read by /metrics without a query per scrape)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: datetime | None = None


def start_compliance_jobs(
    jobs: PeriodicJobs,
    *,
    settings: Settings,
    clock: Clock,
    pool: Pool,
    http: httpx.AsyncClient,
    mailer: Mailer | None,
    list_imported: ScreeningListImported,
) -> None:

    async def note_screening_list() -> None:
        async with pool.acquire() as conn:
            newest = await newest_list(conn)
        list_imported.at = newest.imported_at if newest else None

    async def rescreen() -> None:
        screening = settings.config.screening
        async with pool.acquire() as conn, conn.transaction():
            await rescreen_if_due(
                conn,
                interval=timedelta(seconds=screening.rescreen_interval),
                threshold=screening.threshold,
                now=clock(),
            )

    async def fetch_list() -> None:
        screening = settings.config.screening
        outcome = await fetch_list_if_due(
            pool,
            http,
            url=screening.list_url,
            interval=timedelta(seconds=screening.fetch_interval),
            now=clock(),
            max_entry_drop=screening.max_entry_drop,
            threshold=screening.threshold,
        )
        if isinstance(outcome, FetchFailure):
            _log.warning("screening list fetch failed", extra={"reason": outcome.reason})

    async def access_reviews() -> None:
        orgs = settings.config.orgs
        now = clock()
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
                mailer,
                now=now,
                ahead=timedelta(seconds=orgs.review_reminder),
                issuer=settings.service.issuer,
            )
            await close_due_reviews(conn, now=now)

    async def expiry_reminders() -> None:
        notice = settings.config.reminders.expiry_notice
        if not notice or mailer is None:
            return
        async with pool.acquire() as conn, conn.transaction():
            await send_expiry_reminders(
                conn,
                mailer,
                now=clock(),
                notice=timedelta(seconds=notice),
                issuer=settings.service.issuer,
            )

    async def retention() -> None:
        period = settings.config.retention.period
        if not period:
            return
        async with pool.acquire() as conn, conn.transaction():
            await erase_past_retention(conn, now=clock(), period=timedelta(seconds=period))

    jobs.start("screening-list-age", _SCREENING_LIST_CHECK_INTERVAL, note_screening_list)
    jobs.start("retention", _HOURLY, retention)
    # Hourly ticks; the shared schedule rows make each run once per interval in all.
    jobs.start("screening-rescreen", _HOURLY, rescreen)
    jobs.start("access-reviews", _HOURLY, access_reviews)
    jobs.start("expiry-reminders", _HOURLY, expiry_reminders)
    if settings.config.screening.list_url:
        jobs.start("screening-fetch", _SCREENING_FETCH_CHECK_INTERVAL, fetch_list)
