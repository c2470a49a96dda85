"""The demonstration restricted-party list ``idsvc dev`` imports, so that the first hour
gives tokens although nobody is screened without a current list (docs/screening.md).

It holds invented names only (``idsvc/screening/data/demo_list.json``). It is imported at
start whenever no list is current, as an operator would import one, with the same
re-screening; a list imported by hand (``idsvc screening import``) is left alone while it
is current. Never used by ``idsvc serve``.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from idsvc.db import Connection
from idsvc.rescreening.importing import import_list
from idsvc.screening.freshness import newest_list
from idsvc.screening.list_files import parse_list
from idsvc.settings import ScreeningSettings

__all__ = ["import_demo_list_unless_current"]


async def import_demo_list_unless_current(
    conn: Connection, now: datetime, screening: ScreeningSettings
) -> bool:
    """Import the demonstration list if no list is current; True if it did."""
    current = await newest_list(conn)
    if current is not None and current.age(now) <= screening.list_max_age:
        return False
    data = files("idsvc.screening").joinpath("data/demo_list.json").read_bytes()
    await import_list(
        conn,
        data=data,
        rows=parse_list(data),
        actor="system:idsvc-dev",
        now=now,
        # A stale list of the operator's own is replaced by the demo list: a development
        # service, not a deployment, and refusing would leave nobody screened.
        force=True,
        max_entry_drop=screening.max_entry_drop,
        threshold=screening.threshold,
    )
    return True
