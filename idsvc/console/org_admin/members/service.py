"""What the member pages run that is more than one call into ``idsvc.orgs``: the CSV
import's preview and its application."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.db import Connection
from idsvc.orgs.enrolment.service import CsvRow, ImportPlan, apply_import, plan_import

__all__ = ["import_members", "preview_import"]


async def preview_import(conn: Connection, org_id: uuid.UUID, rows: list[CsvRow]) -> ImportPlan:
    """What the import would change; nothing is applied."""
    return await plan_import(conn, org_id, rows)


async def import_members(
    conn: Connection, org_id: uuid.UUID, rows: list[CsvRow], *, actor: str, now: datetime
) -> None:
    """Plans again (the members may have changed since the preview) and applies."""
    plan = await plan_import(conn, org_id, rows)
    await apply_import(conn, org_id, plan, actor=actor, now=now)
