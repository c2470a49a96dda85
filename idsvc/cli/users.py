"""``idsvc users erase USER_ID --reason TEXT [--despite-retention]``: erase a person
(idsvc.erasure.service). Within the retention period ``--despite-retention`` takes four
eyes: the first operator's run proposes (exit 3), another operator's identical run erases.
The operator is the login running the command (``cli:<login>``)."""

from __future__ import annotations

import getpass
import sys
import uuid
from datetime import timedelta

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.db import keeping_refusals
from idsvc.erasure.service import erase_by_operator
from idsvc.errors import IdsvcError
from idsvc.four_eyes.service import Proposed, rule_of
from idsvc.settings import Settings

__all__ = ["PROPOSED", "users_erase"]

# Exit status of a run that proposed a four-eyes decision and changed nothing else.
PROPOSED = 3


async def users_erase(
    settings: Settings, *, user: uuid.UUID, reason: str, despite_retention: bool
) -> int:
    period = settings.config.retention.period
    async with connected(settings) as conn:
        try:
            # Committed on an audited refusal too: a four-eyes refusal stays on record.
            async with keeping_refusals(conn):
                outcome = await erase_by_operator(
                    conn, user_id=user, reason=reason, actor=f"cli:{getpass.getuser()}",
                    now=utc_now(), retention=timedelta(seconds=period) if period else None,
                    despite_retention=despite_retention,
                    rule=rule_of(settings.config.compliance),
                )  # fmt: skip
        except IdsvcError as exc:
            print(f"idsvc users erase: {exc.detail}", file=sys.stderr)
            return 1
    if isinstance(outcome, Proposed):
        print(
            f"proposed erasing user {user} despite the retention period (decision "
            f"{outcome.decision}); another operator runs the same command to erase, before "
            f"{outcome.expires_at:%Y-%m-%d %H:%M} UTC"
        )
        return PROPOSED
    changed = ", ".join(f"{name} {count}" for name, count in outcome.changed.items() if count)
    print(f"erased user {user}: {outcome.tokens_revoked} token(s) revoked; {changed}")
    return 0
