"""Fetching the screening list from a configured URL on a schedule ([screening] list_url,
fetch_interval), e.g. trade.gov's consolidated CSV or JSON, or a mirror of it.

Once per interval across all instances (the shared ``scheduled_runs`` row, locked while the
import runs). The download is bounded; a failed download, a file that cannot be read or a
partial list changes nothing and is audited (``screening.list.fetch_failed``) so operators
see it, besides the list's age on /metrics and in the console.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import httpx
import msgspec

from idsvc.audit import record_event
from idsvc.db import Pool
from idsvc.rescreening.importing import ImportOutcome, PartialList, import_list
from idsvc.screening.csl import CslError
from idsvc.screening.list_files import parse_list

__all__ = ["FetchFailed", "FetchFailure", "fetch_list_if_due"]

MAX_LIST_BYTES = 256 * 1024 * 1024
# The whole download, however slowly the server trickles it.
_DOWNLOAD_DEADLINE = 300.0
_log = logging.getLogger(__name__)
_CLAIM = """
INSERT INTO scheduled_runs (job, last_run_at) VALUES ('screening-fetch', $1)
ON CONFLICT (job) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
WHERE scheduled_runs.last_run_at <= $1 - $2::interval
RETURNING job
"""


class FetchFailed(Exception):
    """The download did not give a file."""


class FetchFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why the fetched list was not imported (audited; nothing else changed)."""

    url: str
    reason: str


async def _download(http: httpx.AsyncClient, url: str) -> bytes:
    try:
        async with http.stream("GET", url, timeout=60.0) as response:
            if response.status_code != 200:
                raise FetchFailed(f"HTTP {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_LIST_BYTES:
                    raise FetchFailed(f"larger than {MAX_LIST_BYTES} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"download failed: {type(exc).__name__}") from None
    return b"".join(chunks)


async def fetch_list_if_due(
    pool: Pool,
    http: httpx.AsyncClient,
    *,
    url: str,
    interval: timedelta,
    now: datetime,
    max_entry_drop: float,
    threshold: float,
) -> ImportOutcome | FetchFailure | None:
    """None when another instance (or an earlier run) fetched within ``interval``.

    Three steps, none holding a transaction open across the network: claim the run (a short
    transaction: the claim stands even if the rest fails, so a broken source is tried again
    one interval later, not every tick), download with an overall deadline, import in a
    transaction of its own. Any failure is audited and changes nothing else."""
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(_CLAIM, now, interval) is None:
            return None
    try:
        async with asyncio.timeout(_DOWNLOAD_DEADLINE):
            data = await _download(http, url)
        rows = parse_list(data)
        async with pool.acquire() as conn, conn.transaction():
            return await import_list(
                conn,
                data=data,
                rows=rows,
                actor="system:screening-fetch",
                now=now,
                force=False,
                max_entry_drop=max_entry_drop,
                threshold=threshold,
            )
    except (FetchFailed, CslError, PartialList, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
    except Exception as exc:  # an unreadable URL, a list PostgreSQL refuses: still audited
        _log.exception("screening list fetch failed")
        reason = f"unexpected {type(exc).__name__}"
    # Without the query string: list APIs take their subscription keys there.
    failure = FetchFailure(url=url.split("?", 1)[0], reason=reason[:500])
    async with pool.acquire() as conn, conn.transaction():
        await record_event(
            conn,
            at=now,
            actor="system:screening-fetch",
            action="screening.list.fetch_failed",
            target="screening-list",
            data=failure,
        )
    return failure
