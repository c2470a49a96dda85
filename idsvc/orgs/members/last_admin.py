"""The last-admin rule, defined once: every organisation keeps an admin who counts, and a
change that would take its last one away is refused (``LastAdmin``).

An admin who counts is an **active** membership with the ``admin`` role that a person has
**claimed** (it has a user: somebody signed in and holds it). An enrolment by e-mail address
that nobody has claimed yet (a SCIM User, a CSV row, an open invitation) is nobody yet: if it
counted, removing the only real admin would leave the organisation to whoever first verifies
that address. Every path that takes an admin away goes through here: role and state changes
(REST, console, CSV, SCIM Users and Groups, access reviews, invitations) by way of
``orgs.members.service``, and the erasure of a person (``erasure.service``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from idsvc.db import Connection
from idsvc.orgs.members.errors import LastAdmin

__all__ = ["keep_an_admin"]

# In a statement of its own, before the count: READ COMMITTED gives each statement a fresh
# snapshot, so the count below sees what a concurrent change committed while this waited for
# the lock (a count in the same statement as the lock would read the older snapshot, and two
# admins demoting each other at once could both pass). Id order: callers that lock several
# organisations (an erasure) cannot deadlock one another.
_LOCK_ORGS = """
SELECT o.id FROM organisations o
WHERE o.id IN (SELECT m.org_id FROM memberships m WHERE m.id = ANY($1::uuid[]))
ORDER BY o.id
FOR UPDATE OF o
"""
# The organisations of memberships $1 that would have no admin who counts (see the module
# docstring; this is the one place that says what counts) once $1 are admins no more.
_LEFT_WITHOUT_ADMIN = """
WITH counted AS (
    SELECT m.id, m.org_id FROM memberships m
    WHERE m.org_id IN (SELECT org_id FROM memberships WHERE id = ANY($1::uuid[]))
      AND m.role = 'admin' AND m.status = 'active' AND m.user_id IS NOT NULL
)
SELECT o.legal_name FROM organisations o
WHERE o.id IN (SELECT c.org_id FROM counted c WHERE c.id = ANY($1::uuid[]))
  AND NOT EXISTS (SELECT 1 FROM counted c WHERE c.org_id = o.id AND c.id <> ALL($1::uuid[]))
ORDER BY o.legal_name, o.id
"""


async def keep_an_admin(conn: Connection, leaving: Sequence[uuid.UUID]) -> None:
    """Raise ``LastAdmin``, naming the organisations, when the memberships ``leaving`` all
    ceasing to be admins (demoted, suspended, removed, erased) would leave an organisation
    without an admin who counts. Call it before the change, in the change's transaction:
    their organisations stay locked until it ends, so concurrent changes are decided one
    after the other."""
    if not leaving:
        return
    await conn.execute(_LOCK_ORGS, list(leaving))
    names = [r["legal_name"] for r in await conn.fetch(_LEFT_WITHOUT_ADMIN, list(leaving))]
    if names:
        raise LastAdmin(
            "an organisation needs at least one active admin who has signed in, and this "
            f"would leave {', '.join(names)} with none; appoint another admin first"
        )
