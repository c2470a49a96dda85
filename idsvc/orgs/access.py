"""Who may act on an organisation, and whether its state allows the act.

Its active admins and operators may act on it. A caller with no membership gets 404, the
same answer as for an organisation that does not exist, so organisation ids cannot be
probed; a plain member gets 403. Then the organisation's state must allow the action
(:mod:`idsvc.orgs.state_rules`), whoever asks: operators included.
"""

from __future__ import annotations

import uuid
from typing import Literal

from idsvc.accounts.operators import is_operator
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.orgs.errors import NotOrgAdmin
from idsvc.orgs.state_rules import OrgAction, ensure_org_may

__all__ = ["OrgRole", "require_org_admin"]

OrgRole = Literal["admin", "operator"]

_CALLER_MEMBERSHIP = """
SELECT o.status AS org_status, m.role, m.status FROM organisations o
LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = $2 AND m.status <> 'removed'
WHERE o.id = $1
"""


async def require_org_admin(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    operators: tuple[str, ...],
    action: OrgAction,
) -> OrgRole:
    """How the caller may administer the organisation; raises NotFound or Forbidden
    (``not_org_admin``, or a code naming the state that forbids ``action``)."""
    row = await conn.fetchrow(_CALLER_MEMBERSHIP, org_id, user_id)
    role: OrgRole
    if row is not None and row["role"] == "admin" and row["status"] == "active":
        role = "admin"
    elif await is_operator(conn, user_id, operators):
        if row is None:
            raise NotFound("no such organisation")
        role = "operator"
    elif row is None or row["role"] is None:
        raise NotFound("no such organisation")
    else:
        raise NotOrgAdmin("only the organisation's admins can do this")
    ensure_org_may(row["org_status"], action)
    return role
