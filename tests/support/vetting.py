"""For the vetting API's tests: the operator the vetting settings name, an organisation
request body, a restricted-party list imported, and reading what the API answered and
audited."""

from __future__ import annotations

from pathlib import Path

from httpx import Response

from idsvc import db
from idsvc.screening.csl import parse_csl
from idsvc.screening.lists import import_snapshot
from tests.support.clock import FakeClock

__all__ = ["OPERATOR_SUBJECT", "audit_actions", "load_list", "org_request", "problem_code"]

OPERATOR_SUBJECT = "vetting-operator"  # configured as operator ``test:vetting-operator``
SAMPLE_LIST = Path(__file__).parents[1] / "screening" / "fixtures" / "csl_sample.csv"


async def load_list(pool: db.Pool, clock: FakeClock, data: bytes | None = None) -> None:
    """A restricted-party list (the fixture's unless ``data``), imported now, without the
    re-screening an import by the CLI does: approvals need a current list."""
    data = data if data is not None else SAMPLE_LIST.read_bytes()
    async with db.transaction(pool) as conn:
        await import_snapshot(conn, data=data, rows=parse_csl(data), actor="test", now=clock())


def org_request(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "legal_name": "Northwind Analytics, Inc.",
        "country": "USA",
        "registration_ids": [{"scheme": "us-ein", "value": "12-3456789"}],
        "contact_email": "compliance@northwind.example",
        "domains": ["Northwind.example"],
        "programs_requested": ["critical-infrastructure"],
    }
    body.update(overrides)
    return body


async def audit_actions(pool: db.Pool, target: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT action FROM audit_events WHERE target = $1 ORDER BY seq", target
    )
    return [r["action"] for r in rows]


def problem_code(response: Response) -> str:
    """The stable code of an RFC 9457 problem (its ``type`` is ``urn:idsvc:problem:CODE``)."""
    problem_type: str = response.json()["type"]
    return problem_type.removeprefix("urn:idsvc:problem:")
