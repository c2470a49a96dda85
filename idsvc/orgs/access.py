"""Who may act on an organisation: its active admins, and operators.

A caller with no membership gets 404, the same answer as for an organisation that does not
exist, so organisation ids cannot be probed; a plain member gets 403.
"""

from __future__ import annotations

import uuid
from typing import Literal

from idsvc.accounts.operators import is_operator
from idsvc.db import Connection
from idsvc.errors import Forbidden, NotFound

__all__ = ["OrgRole", "require_org_admin"]

OrgRole = Literal["admin", "operator"]

_CALLER_MEMBERSHIP = """
SELECT m.role, m.status FROM memberships m
WHERE m.org_id = $1 AND m.user_id = $2 AND m.status <> 'removed'
"""


async def require_org_admin(
    conn: Connection, *, org_id: uuid.UUID, user_id: uuid.UUID, operators: tuple[str, ...]
) -> OrgRole:
    """How the caller may administer the organisation; raises NotFound or Forbidden."""
    row = await conn.fetchrow(_CALLER_MEMBERSHIP, org_id, user_id)
    if row is not None and row["role"] == "admin" and row["status"] == "active":
        return "admin"
    if await is_operator(conn, user_id, operators):
        return "operator"
    if row is None:
        raise NotFound("no such organisation")
    raise Forbidden("only the organisation's admins can do this", code="not_org_admin")
