"""The sign-off of the country groups: who reviewed the data, on which day, and the
SHA-256 of exactly the data they reviewed (``reviewed_by``, ``reviewed_on``,
``reviewed_sha256``; docs/country-groups.md).

A sign-off is a text nobody checks unless it is bound to something: free text such as
"awaiting review since 2026-12-01" once passed for a review, and an edit made after a
review kept the review's name. So the reviewer must be a name, the day must have come,
and the hash must be the hash of the data as it is now.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "SIGN_OFF_KEYS",
    "content_sha256",
    "problem",
    "review_date_problem",
    "reviewer_problem",
    "second_reviewer_problem",
]

# approved_by: the second reviewer, where four eyes is on ([compliance] four_eyes, the
# default): one reviewer proposes the sign-off, another approves it.
SIGN_OFF_KEYS = ("reviewed_by", "reviewed_on", "reviewed_sha256", "approved_by")

# Words that say nobody reviewed the data, or that stand where a name will go later.
_PLACEHOLDER = re.compile(
    r"\b(unreviewed|not reviewed|awaiting|pending|draft|todo|tbd|tba|nobody|no one|none|"
    r"n/a|unknown|placeholder|changeme|anonymous)\b|\?|xxx",
    re.IGNORECASE,
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# The latest calendar day anywhere is UTC+14 (Kiribati): a reviewer east of UTC may sign
# with a date that has begun where they are but not yet in UTC.
_EARLIEST_OFFSET = timedelta(hours=14)


def content_sha256(document: Mapping[str, object]) -> str:
    """The SHA-256 a sign-off names: of the parsed file without its sign-off keys, as JSON
    with sorted keys, no spaces and UTF-8 text (``json.dumps(data, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)``). Parsed rather than raw text, so that
    comments, line endings and layout may change without a new review, while every value,
    and the order of every list, may not. Call it only on a document that has been
    validated: its values are then strings, lists and tables, all of which JSON has."""
    data = {key: value for key, value in document.items() if key not in SIGN_OFF_KEYS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def reviewer_problem(reviewed_by: str) -> str | None:
    """Why ``reviewed_by`` names nobody (None: it names someone). A date or a phrase such
    as "pending" or "nobody" is not a person who can answer for the review."""
    name = reviewed_by.strip()
    if not name:
        return "reviewed_by is empty: it names the person who reviewed the data"
    if len(name) > 200 or not name.isprintable():
        return "reviewed_by must be one line of at most 200 characters"
    if not any(character.isalpha() for character in name) or _PLACEHOLDER.search(name):
        return f"reviewed_by = {reviewed_by!r} is not the name of a reviewer"
    return None


def review_date_problem(reviewed_on: str, now: datetime) -> str | None:
    """Why ``reviewed_on`` is not the day of a review that happened (None: it is). A date
    in the future is refused: a sign-off cannot precede its own review."""
    if not _DAY.fullmatch(reviewed_on):
        return f"reviewed_on = {reviewed_on!r} is not a date (YYYY-MM-DD)"
    try:
        day = date.fromisoformat(reviewed_on)
    except ValueError:
        return f"reviewed_on = {reviewed_on!r} is not a date (YYYY-MM-DD)"
    if day > (now.astimezone(UTC) + _EARLIEST_OFFSET).date():
        return f"reviewed_on = {reviewed_on!r} is in the future"
    return None


def problem(
    *,
    reviewed_by: str,
    reviewed_on: str,
    reviewed_sha256: str,
    approved_by: str,
    data_sha256: str,
    now: datetime,
    four_eyes: bool,
) -> str | None:
    """Why the data is not signed off, naming the key at fault (None: it is). With
    ``four_eyes`` a second reviewer, ``approved_by``, must have approved it."""
    if not reviewed_sha256:
        return "no reviewed_sha256: the data was never signed off"
    if found := reviewer_problem(reviewed_by) or review_date_problem(reviewed_on, now):
        return found
    if four_eyes and (found := second_reviewer_problem(reviewed_by, approved_by)):
        return found
    if reviewed_sha256 != data_sha256:
        # The review covered other data: an edit after it is not reviewed, however small.
        return (
            f"reviewed_sha256 does not match the data (its SHA-256 is {data_sha256}): it "
            f"changed after {reviewed_by.strip()} signed it off on {reviewed_on}"
        )
    return None


def second_reviewer_problem(reviewed_by: str, approved_by: str) -> str | None:
    """Why ``approved_by`` is not a second reviewer of the sign-off (None: it is)."""
    if not approved_by.strip():
        return (
            "no approved_by: four eyes ([compliance] four_eyes) needs a second reviewer to "
            "approve the sign-off"
        )
    if found := reviewer_problem(approved_by):
        return found.replace("reviewed_by", "approved_by")
    if approved_by.strip().casefold() == reviewed_by.strip().casefold():
        return "approved_by names the reviewer again: four eyes needs a second reviewer"
    return None
