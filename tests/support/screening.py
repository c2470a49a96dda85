"""Screening people for tests whose subject needs a screened person: the demonstration list
``idsvc dev`` ships (invented names) imported as an operator would, then the person's name
kept and screened through the service's own functions."""

from __future__ import annotations

import uuid
from datetime import datetime
from importlib.resources import files

from idsvc.db import Connection
from idsvc.rescreening.importing import ImportOutcome, import_list
from idsvc.screening.list_files import parse_list
from idsvc.screening.service import remember_person, screen_person

__all__ = ["DEMO_LIST", "import_demo_list", "screen"]

DEMO_LIST = files("idsvc.screening").joinpath("data/demo_list.json").read_bytes()
THRESHOLD = 88.0


async def import_demo_list(
    conn: Connection, now: datetime, data: bytes = DEMO_LIST
) -> ImportOutcome:
    async with conn.transaction():
        return await import_list(
            conn, data=data, rows=parse_list(data), actor="test", now=now, force=True,
            max_entry_drop=0.1, threshold=THRESHOLD,
        )  # fmt: skip


async def screen(
    conn: Connection, now: datetime, user_id: uuid.UUID, *, name: str = "Alice Citizen"
) -> None:
    """Keep ``name`` for the person and screen them against the newest list."""
    async with conn.transaction():
        await remember_person(
            conn, user_id=user_id, name=name, birthdate=None, provider="test", now=now
        )
        await screen_person(conn, user_id=user_id, threshold=THRESHOLD, actor="test", now=now)
