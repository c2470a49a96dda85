"""``idsvc policy sign-off-country-groups --reviewer NAME --date YYYY-MM-DD [--file PATH]``:
record in the groups file who reviewed its data, on which day, and the SHA-256 of the data
they reviewed (``reviewed_by``, ``reviewed_on``, ``reviewed_sha256``), so that start-up
can tell a review of this data from a review of some earlier version of it.

The file is rewritten in place with its comments kept: only the top-level sign-off lines
are replaced. One reviewer signs; docs/country-groups.md says what production will ask for
once a second operator's confirmation exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from idsvc.policy.country_groups import GroupsFile, parse_groups_file
from idsvc.policy.sign_off import SIGN_OFF_KEYS, review_date_problem, reviewer_problem

__all__ = ["sign_off_country_groups"]

_COMMAND = "idsvc policy sign-off-country-groups"
_SIGN_OFF_LINE = re.compile(rf"\s*({'|'.join(SIGN_OFF_KEYS)})\s*=")
_TABLE_HEADER = re.compile(r"\s*\[")
_KEY_LINE = re.compile(r"\s*[A-Za-z0-9_\"'-]+\s*=")


def sign_off_country_groups(path: Path, *, reviewer: str, reviewed_on: str, now: datetime) -> int:
    """Exit 0 when the sign-off is written, 2 when the file or the sign-off is refused (the
    file is then left as it was)."""
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
    signed = _signed_text(text, (name, reviewed_on, before.content_sha256))
    # Read back what would be written: the same data, and a sign-off start-up accepts. A
    # layout the line edit cannot handle (a multi-line value, a dotted key) fails here,
    # before the file is touched.
    try:
        after: GroupsFile | None = parse_groups_file(signed)
    except ValueError:
        after = None
    if (
        after is None
        or after.content_sha256 != before.content_sha256
        or after.groups.reviewed_by != name
        or after.sign_off_problem(now) is not None
    ):
        print(
            f"{_COMMAND}: cannot place the sign-off in {path}: write the top-level keys "
            f"reviewed_by, reviewed_on and reviewed_sha256 = {before.content_sha256!r} "
            "on lines of their own",
            file=sys.stderr,
        )
        return 2
    _replace(path, signed)
    previous = before.groups
    if previous.reviewed_sha256:
        print(f"replaced the sign-off by {previous.reviewed_by} on {previous.reviewed_on}")
    print(
        f"{path}: signed off by {name} on {reviewed_on}\n"
        f"  data: {previous.source}, effective {previous.effective}, "
        f"{len(previous.groups)} groups\n"
        f"  reviewed_sha256 = {before.content_sha256}"
    )
    return 0


def _signed_text(text: str, values: tuple[str, str, str]) -> str:
    """``text`` with its top-level sign-off lines replaced by ``values`` (reviewed_by,
    reviewed_on, reviewed_sha256): where the first of them stood, or after the last
    top-level key. Every other line, comments included, stays as it was."""
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
