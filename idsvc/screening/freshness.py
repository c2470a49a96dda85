"""Whether the restricted-party list is current enough to vet organisations against.

An organisation screened against no list, or against last quarter's, has not been
screened: approving it (or granting it programs) is refused with ``screening_list_stale``
until a list no older than ``[screening] max_list_age`` (default 14 days) is loaded. The
Consolidated Screening List changes several times a week (new Entity List rules, SDN
designations); 14 days bounds how long a newly listed party can go unnoticed at approval
when imports are scheduled weekly and one run fails. Readiness does not depend on it (the
service still serves every other purpose); /metrics and the operator console show the age.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from idsvc.db import Connection
from idsvc.screening.errors import ScreeningListStale

__all__ = ["ListAge", "ensure_list_current", "newest_list"]

_NEWEST = """
SELECT imported_at, entries FROM screening_snapshots ORDER BY seq DESC LIMIT 1
"""


class ListAge(msgspec.Struct, frozen=True, kw_only=True):
    imported_at: datetime
    entries: int

    def age(self, now: datetime) -> timedelta:
        return now - self.imported_at


async def newest_list(conn: Connection) -> ListAge | None:
    row = await conn.fetchrow(_NEWEST)
    return None if row is None else ListAge(imported_at=row["imported_at"], entries=row["entries"])


async def ensure_list_current(conn: Connection, *, max_age: timedelta, now: datetime) -> None:
    newest = await newest_list(conn)
    if newest is None:
        raise ScreeningListStale(
            "no restricted-party list has been imported: import one before approving"
        )
    if newest.age(now) > max_age:
        days = newest.age(now).days
        raise ScreeningListStale(
            f"the restricted-party list is {days} days old (at most "
            f"{max_age.days} allowed): import a current list before approving",
            list_imported_at=newest.imported_at.isoformat(),
        )
