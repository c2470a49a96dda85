"""``idsvc users erase USER_ID --reason TEXT``: erase a person (idsvc.erasure.service)."""

from __future__ import annotations

import getpass
import sys
import uuid
from datetime import timedelta

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.erasure.service import erase_person
from idsvc.errors import IdsvcError
from idsvc.settings import Settings

__all__ = ["users_erase"]


async def users_erase(
    settings: Settings, *, user: uuid.UUID, reason: str, despite_retention: bool
) -> int:
    period = settings.config.retention.period
    async with connected(settings) as conn:
        try:
            async with conn.transaction():
                report = await erase_person(
                    conn, user_id=user, reason=reason, actor=f"cli:{getpass.getuser()}",
                    now=utc_now(),
                    retention=None if despite_retention or not period
                    else timedelta(seconds=period),
                )  # fmt: skip
        except IdsvcError as exc:
            print(f"idsvc users erase: {exc.detail}", file=sys.stderr)
            return 1
    changed = ", ".join(f"{name} {count}" for name, count in report.changed.items() if count)
    print(f"erased user {user}: {report.tokens_revoked} token(s) revoked; {changed}")
    return 0
