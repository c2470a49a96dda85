"""What ``idsvc dev`` starts with when the configuration names no policy: two example
audiences and one approved organisation, so that each demo persona gets a token or a clear
refusal on the first try (README, quick start). Never used by ``idsvc serve``.

- ``https://models.example.dev/us-persons``: U.S. persons proofed at IAL2.
- ``https://models.example.dev/research-program``: members of an approved organisation
  granted the ``demo-research`` program, proofed at IAL2, whatever their nationality.

The organisation, "Demo Research Lab", lists Alice Citizen (its admin) and Frieda National
as members by e-mail; they claim those memberships when they sign in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.orgs.members.service import enrol_member
from idsvc.policy.model import OrgRequirement, PolicySettings

__all__ = [
    "DEMO_MEMBERS",
    "DEMO_ORG_NAME",
    "EXAMPLE_POLICIES",
    "PROGRAM_AUDIENCE",
    "US_PERSONS_AUDIENCE",
    "seed_demo_organisation",
]

US_PERSONS_AUDIENCE = "https://models.example.dev/us-persons"
PROGRAM_AUDIENCE = "https://models.example.dev/research-program"
DEMO_PROGRAM = "demo-research"
DEMO_ORG_NAME = "Demo Research Lab"
DEMO_MEMBERS = ("alice@example.com", "frieda@example.com")
# A fixed id, so a restart finds the organisation it made before and adds nothing.
_DEMO_ORG_ID = uuid.UUID("00000000-0000-4000-8000-00000000d3e0")

EXAMPLE_POLICIES = (
    PolicySettings(
        id="example-us-persons",
        version=1,
        audience=US_PERSONS_AUDIENCE,
        require_us_person=True,
        min_assurance="IAL2",
        entitlements=("model:invoke",),
    ),
    PolicySettings(
        id="example-research-program",
        version=1,
        audience=PROGRAM_AUDIENCE,
        require_us_person=False,
        min_assurance="IAL2",
        organisation=OrgRequirement(programs=(DEMO_PROGRAM,)),
        disclose=("org",),
        entitlements=("model:invoke",),
    ),
)

# The status reason is a fixed text that names nobody, so it is stored as written (a JSON
# string) rather than sealed like an operator's (audit.personal).
_INSERT_ORG = """
INSERT INTO organisations (id, legal_name, country, contact_email, status, status_reason,
                           programs_requested, programs, created_at, updated_at)
VALUES ($1, $2, 'US', 'compliance@example.com', 'approved', to_jsonb('idsvc dev example'::text),
        $3, $3, $4, $4)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


async def seed_demo_organisation(conn: Connection, now: datetime) -> bool:
    """Create the example organisation and its memberships once; True if it did."""
    created = await conn.fetchval(_INSERT_ORG, _DEMO_ORG_ID, DEMO_ORG_NAME, [DEMO_PROGRAM], now)
    if created is None:
        return False
    actor = "system:idsvc-dev"
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.approved",
        target=f"org:{_DEMO_ORG_ID}",
        data={"programs": [DEMO_PROGRAM], "reason": "idsvc dev example organisation"},
    )
    for email in DEMO_MEMBERS:
        await enrol_member(
            conn,
            org_id=_DEMO_ORG_ID,
            email=email,
            user_id=None,
            role="admin" if email == DEMO_MEMBERS[0] else "member",
            status="active",
            source="csv",  # an enrolment list: claimed at sign-in (orgs.claims)
            actor=actor,
            now=now,
        )
    return True
