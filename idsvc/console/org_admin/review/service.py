"""What the access review page reads and records: the open review, and the decisions of
one submitted form (``decision-<membership id>`` = ``confirm`` / ``remove`` / ``later``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from idsvc.db import Connection
from idsvc.errors import BadRequest
from idsvc.orgs.members.reviews import Review, current_review, decide_review
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import get_organisation

__all__ = ["open_review", "parse_decisions", "record_decisions"]


async def open_review(conn: Connection, org_id: uuid.UUID) -> tuple[Organisation, Review | None]:
    return await get_organisation(conn, org_id), await current_review(conn, org_id)


def parse_decisions(data: Mapping[str, str]) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """(to confirm, to remove); ``ValueError`` for a field name that is no membership id,
    ``BadRequest`` for a decision that is none of the three."""
    confirm, remove = [], []
    for name, value in data.items():
        if not name.startswith("decision-") or value == "later":
            continue
        membership = uuid.UUID(name.removeprefix("decision-"))
        if value == "confirm":
            confirm.append(membership)
        elif value == "remove":
            remove.append(membership)
        else:
            raise BadRequest("each decision is confirm, remove or later")
    return confirm, remove


async def record_decisions(
    conn: Connection,
    org_id: uuid.UUID,
    *,
    confirm: list[uuid.UUID],
    remove: list[uuid.UUID],
    actor: str,
    now: datetime,
) -> None:
    await decide_review(conn, org_id=org_id, confirm=confirm, remove=remove, actor=actor, now=now)
