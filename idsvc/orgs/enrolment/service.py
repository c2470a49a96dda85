"""Enrolling staff from a CSV file (docs/organisations.md#csv-import).

The whole file is checked before anything is applied, and every bad row is reported with
its line number; a file with any error changes nothing. Applying is idempotent: the plan
compares each row with the organisation's current members, so importing the same file
again adds, changes and removes nothing. New rows become active e-mail memberships, which
the person claims by signing in with a provider that verifies that address.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal

import msgspec

from idsvc.accounts.addresses import AddressRefused, address_key
from idsvc.audit import record_event, record_events
from idsvc.db import Connection
from idsvc.http.control_chars import has_control_character
from idsvc.orgs.members.service import set_member_role, set_member_status
from idsvc.orgs.records import MemberRole

__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "CsvRow",
    "ImportPlan",
    "RowError",
    "apply_import",
    "parse_members_csv",
    "plan_import",
]

COLUMNS = ("email", "role", "display_name", "external_id", "action")
MAX_ROWS = 100_000
_BATCH = 1000
_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class CsvRow(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    email: str
    role: MemberRole
    display_name: str | None
    external_id: str | None
    action: Literal["add", "remove"]


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    column: str | None
    reason: str


class Change(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    email: str
    membership: uuid.UUID | None = None
    role: MemberRole | None = None


class ImportPlan(msgspec.Struct, frozen=True, kw_only=True):
    add: tuple[CsvRow, ...]
    change_role: tuple[Change, ...]
    remove: tuple[Change, ...]
    unchanged: int


def _cell(row: dict[str, str | None], name: str) -> str:
    return (row.get(name) or "").strip()


def _check_row(
    record: dict[str, str | None], line: int, seen: dict[str, int]
) -> CsvRow | list[RowError]:
    if None in record:  # more cells than the header names
        return [RowError(line=line, column=None, reason="more cells than columns")]
    controlled = [name for name, value in record.items() if value and has_control_character(value)]
    if controlled:
        return [
            RowError(line=line, column=name, reason="control characters are not allowed")
            for name in controlled
        ]
    try:
        # The key: rows, members and claims all compare it (idsvc.accounts.addresses).
        email = address_key(_cell(record, "email"))
    except AddressRefused as exc:
        return [RowError(line=line, column="email", reason=exc.reason)]
    fields: dict[str, object] = {
        "line": line,
        "email": email,
        "role": _cell(record, "role").lower() or "member",
        "action": _cell(record, "action").lower() or "add",
        "display_name": _cell(record, "display_name") or None,
        "external_id": _cell(record, "external_id") or None,
    }
    checks = [
        ("email", _EMAIL.match(str(fields["email"])) is not None, "not an e-mail address"),
        ("email", fields["email"] not in seen, f"already on line {seen.get(str(fields['email']))}"),
        ("role", fields["role"] in ("admin", "member"), "must be admin or member"),
        ("action", fields["action"] in ("add", "remove"), "must be add or remove"),
        ("display_name", len(_cell(record, "display_name")) <= 200, "over 200 characters"),
        ("external_id", len(_cell(record, "external_id")) <= 256, "over 256 characters"),
    ]
    problems = [RowError(line=line, column=col, reason=why) for col, ok, why in checks if not ok]
    if problems:
        return problems[:1] if problems[0].column == "email" else problems
    return msgspec.convert(fields, CsvRow)


def parse_members_csv(text: str) -> tuple[list[CsvRow], list[RowError]]:
    """Rows, or every problem (line numbers count the header as line 1)."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [RowError(line=1, column=None, reason=f"unreadable header: {exc}")]
    if "email" not in header:
        return [], [RowError(line=1, column=None, reason="the header must name an email column")]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        # csv.DictReader would keep the last of them, silently.
        return [], [
            RowError(line=1, column=None, reason=f"columns named twice: {', '.join(twice)}")
        ]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        return [], [RowError(line=1, column=None, reason=f"unknown columns: {', '.join(unknown)}")]
    reader.fieldnames = header
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(
                    RowError(line=reader.line_num, column=None, reason=f"over {MAX_ROWS} rows")
                )
                break
            checked = _check_row(record, reader.line_num, seen)
            if isinstance(checked, list):
                errors.extend(checked)
            else:
                seen[checked.email] = checked.line
                rows.append(checked)
    except csv.Error as exc:
        errors.append(RowError(line=reader.line_num, column=None, reason=f"malformed CSV: {exc}"))
    if not rows and not errors:
        errors.append(RowError(line=1, column=None, reason="no rows"))
    return rows, errors


# Members by the key of the address they are known by: the enrolled e-mail, or their
# account's (users.email_key, migration 0025).
_CURRENT = """
SELECT m.id, coalesce(m.email, u.email_key) AS email, m.role, m.status
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed'
"""


async def plan_import(conn: Connection, org_id: uuid.UUID, rows: list[CsvRow]) -> ImportPlan:
    current = {r["email"]: r for r in await conn.fetch(_CURRENT, org_id) if r["email"]}
    add, change, remove, unchanged = [], [], [], 0
    for row in rows:
        member = current.get(row.email)
        if row.action == "remove":
            if member is None:
                unchanged += 1
            else:
                remove.append(Change(line=row.line, email=row.email, membership=member["id"]))
        elif member is None:
            add.append(row)
        elif member["role"] != row.role:
            change.append(
                Change(line=row.line, email=row.email, membership=member["id"], role=row.role)
            )
        else:
            unchanged += 1
    return ImportPlan(
        add=tuple(add), change_role=tuple(change), remove=tuple(remove), unchanged=unchanged
    )


_INSERT_MANY = """
INSERT INTO memberships (id, org_id, email, role, status, source, external_id, display_name,
                         created_at, updated_at)
SELECT id, $1, email, role, 'active', 'csv', external_id, display_name, $2, $2
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
     AS t(id, email, role, external_id, display_name)
"""


async def apply_import(
    conn: Connection,
    org_id: uuid.UUID,
    plan: ImportPlan,
    *,
    actor: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Apply a plan in the caller's transaction (all or nothing). Additions go in batches
    of a thousand, each one INSERT and one pipelined batch of audit events; role changes
    and removals go one by one through the membership rules (last admin, token status)."""
    total = len(plan.add) + len(plan.change_role) + len(plan.remove)
    done = 0
    for start in range(0, len(plan.add), _BATCH):
        batch = plan.add[start : start + _BATCH]
        ids = [uuid.uuid4() for _ in batch]
        await conn.execute(
            _INSERT_MANY, org_id, now, ids, [r.email for r in batch], [r.role for r in batch],
            [r.external_id for r in batch], [r.display_name for r in batch],
        )  # fmt: skip
        await record_events(
            conn,
            at=now,
            actor=actor,
            action="org.member.enrolled",
            events=[
                (
                    f"org:{org_id}",
                    {"membership": str(i), "role": r.role, "status": "active", "source": "csv"},
                )
                for i, r in zip(ids, batch, strict=True)
            ],
        )
        done += len(batch)
        if progress is not None:
            progress(done, total)
    for change in plan.change_role:
        assert change.membership is not None
        assert change.role is not None
        await set_member_role(
            conn,
            org_id=org_id,
            membership_id=change.membership,
            role=change.role,
            actor=actor,
            now=now,
        )
    for change in plan.remove:
        assert change.membership is not None
        await set_member_status(
            conn,
            org_id=org_id,
            membership_id=change.membership,
            status="removed",
            actor=actor,
            now=now,
            reason="csv import",
        )
    done = total
    if progress is not None and total:
        progress(done, total)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.members.imported",
        target=f"org:{org_id}",
        data={
            "added": len(plan.add),
            "roles_changed": len(plan.change_role),
            "removed": len(plan.remove),
            "unchanged": plan.unchanged,
        },
    )
