"""``idsvc policy sign-off-country-groups --reviewer NAME --date YYYY-MM-DD [--file PATH]``:
record in the groups file who reviewed its data, on which day, and the SHA-256 of the data
they reviewed (``reviewed_by``, ``reviewed_on``, ``reviewed_sha256``), so that start-up
can tell a review of this data from a review of some earlier version of it.

Four eyes (``[compliance] four_eyes``, the default): the first reviewer's run records a
proposal for this data's hash in the database (audited) and leaves the file alone (exit
3); a second reviewer, under another login, runs the same command and the sign-off is
written with both names (``approved_by``). Start-up then needs both. Without four eyes
one reviewer signs.

The file is rewritten in place with its comments kept: only the top-level sign-off lines
are replaced.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from idsvc.cli.connection import connected
from idsvc.db import keeping_refusals
from idsvc.errors import IdsvcError
from idsvc.four_eyes.service import Proposed, propose_or_approve, rule_of
from idsvc.policy.country_groups import GroupsFile, parse_groups_file
from idsvc.policy.sign_off import SIGN_OFF_KEYS, review_date_problem, reviewer_problem
from idsvc.settings import Settings

__all__ = ["PROPOSED", "sign_off_country_groups"]

# Exit status of the first reviewer's run under four eyes: proposed, file untouched.
PROPOSED = 3

_COMMAND = "idsvc policy sign-off-country-groups"
_SIGN_OFF_LINE = re.compile(rf"\s*({'|'.join(SIGN_OFF_KEYS)})\s*=")
_TABLE_HEADER = re.compile(r"\s*\[")
_KEY_LINE = re.compile(r"\s*[A-Za-z0-9_\"'-]+\s*=")


def sign_off_country_groups(
    path: Path, *, reviewer: str, reviewed_on: str, now: datetime, settings: Settings
) -> int:
    """Exit 0 when the sign-off is written, 3 when it is proposed for a second reviewer,
    2 when the file or the sign-off is refused (the file is then left as it was)."""
    four_eyes = settings.config.compliance.four_eyes
    try:
        text = path.read_text(encoding="utf-8")
        before = parse_groups_file(text)
    except OSError as exc:
        print(f"{_COMMAND}: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # Data with a code that is no country must be corrected, not signed.
        print(f"{_COMMAND}: {path}: {exc}", file=sys.stderr)
        return 2
    name = reviewer.strip()
    if problem := reviewer_problem(name) or review_date_problem(reviewed_on, now):
        print(f"{_COMMAND}: {problem}", file=sys.stderr)
        return 2

    def signed_text(first: str, second: str) -> str:
        """The file with this sign-off; ``_Refused`` when it cannot be written."""
        if second and first.strip().casefold() == second.casefold():
            raise _Refused("the approving reviewer must be another person")
        signed = _signed_text(text, (first, reviewed_on, before.content_sha256, second))
        # Read back what would be written: the same data, and a sign-off start-up accepts.
        # A layout the line edit cannot handle (a multi-line value, a dotted key) fails
        # here, before the file is touched (and, with four eyes, before the approval).
        try:
            after: GroupsFile | None = parse_groups_file(signed)
        except ValueError:
            after = None
        if (
            after is None
            or after.content_sha256 != before.content_sha256
            or after.groups.reviewed_by != first
            or after.sign_off_problem(now, four_eyes=four_eyes) is not None
        ):
            raise _Refused(
                f"cannot place the sign-off in {path}: write the top-level keys reviewed_by, "
                f"reviewed_on and reviewed_sha256 = {before.content_sha256!r} on lines of "
                "their own"
            )
        return signed

    try:
        outcome = _reviewed(path, settings, before.content_sha256, name, now=now, sign=signed_text)
    except _Refused as exc:
        print(f"{_COMMAND}: {exc}", file=sys.stderr)
        return 2
    if isinstance(outcome, int):
        return outcome
    (first, second), signed = outcome
    _replace(path, signed)
    previous = before.groups
    if previous.reviewed_sha256:
        print(f"replaced the sign-off by {previous.reviewed_by} on {previous.reviewed_on}")
    print(
        f"{path}: signed off by {first}{f', approved by {second}' if second else ''} "
        f"on {reviewed_on}\n"
        f"  data: {previous.source}, effective {previous.effective}, "
        f"{len(previous.groups)} groups\n"
        f"  reviewed_sha256 = {before.content_sha256}"
    )
    return 0


class _Refused(Exception):
    """The sign-off cannot be written (nothing is: an approval it came with rolls back)."""


SignedText = Callable[[str, str], str]


def _reviewed(
    path: Path, settings: Settings, sha256: str, name: str, *, now: datetime, sign: SignedText
) -> tuple[tuple[str, str], str] | int:
    """((reviewed_by, approved_by), the signed file) to write, or an exit status where
    nothing is written yet (a proposal for the second reviewer, or a refusal)."""
    if not settings.config.compliance.four_eyes:
        return (name, ""), sign(name, "")
    outcome = asyncio.run(_propose_or_approve(settings, sha256, name, now, sign))
    if isinstance(outcome, Proposed):
        print(
            f"{path}: sign-off by {name} proposed (decision {outcome.decision}); a second "
            f"reviewer, under another login, runs the same command before "
            f"{outcome.expires_at:%Y-%m-%d %H:%M} UTC to approve it\n"
            f"  reviewed_sha256 = {sha256}"
        )
        return PROPOSED
    return outcome


async def _propose_or_approve(
    settings: Settings, sha256: str, reviewer: str, now: datetime, sign: SignedText
) -> Proposed | tuple[tuple[str, str], str] | int:
    """The first reviewer's proposal, or the reviewers and the signed file once a second
    login approves it, checked inside the approval's transaction: a sign-off that cannot be
    written takes its approval back (``_Refused``, rolled back). An exit status where the
    database refuses."""
    actor = f"cli:{getpass.getuser()}"
    target = f"country-groups:{sha256}"
    async with connected(settings) as conn:
        try:
            async with keeping_refusals(conn):
                outcome = await propose_or_approve(
                    conn, kind="country_groups.sign_off", target=target, actor=actor,
                    now=now, rule=rule_of(settings.config.compliance),
                    terms={"sha256": sha256}, note=reviewer,
                )  # fmt: skip
                if isinstance(outcome, Proposed):
                    return outcome
                first = str(await conn.fetchval(_PROPOSER, outcome.decision) or "")
                return (first, reviewer), sign(first, reviewer)
        except IdsvcError as exc:
            print(f"{_COMMAND}: {exc.detail}", file=sys.stderr)
            return 2


# The proposing reviewer's name (the proposal's note; the sign-off names no person's data).
_PROPOSER = "SELECT note #>> '{}' FROM pending_decisions WHERE id = $1"


def _signed_text(text: str, values: tuple[str, str, str, str]) -> str:
    """``text`` with its top-level sign-off lines replaced by ``values`` (reviewed_by,
    reviewed_on, reviewed_sha256, approved_by; an empty approved_by is left out): where
    the first of them stood, or after the last top-level key. Every other line, comments
    included, stays as it was."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    # Keys below the first [table] header belong to that table, not to the file.
    end = next((i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))
    kept: list[str] = []
    at: int | None = None
    for line in lines[:end]:
        if not _SIGN_OFF_LINE.match(line):
            kept.append(line)
        elif at is None:
            at = len(kept)
    if at is None:
        keys = [i for i, line in enumerate(kept) if _KEY_LINE.match(line)]
        at = keys[-1] + 1 if keys else len(kept)
    if at and not kept[at - 1].endswith("\n"):
        kept[at - 1] += newline
    # JSON strings of printable text are TOML basic strings (the same escapes).
    new = [
        f"{key} = {json.dumps(value, ensure_ascii=False)}{newline}"
        for key, value in zip(SIGN_OFF_KEYS, values, strict=True)
        if value or key != "approved_by"
    ]
    return "".join([*kept[:at], *new, *kept[at:], *lines[end:]])


def _replace(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` at once: a reader (a starting service) sees the old
    file or the new one, never half of it."""
    target = path.resolve()
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.",
        delete=False,
    ) as temporary:  # fmt: skip
        written = Path(temporary.name)
        try:
            temporary.write(text)
        except BaseException:
            written.unlink()
            raise
    shutil.copymode(target, written)
    os.replace(written, target)
