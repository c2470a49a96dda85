"""What an organisation in each state may do: one table for the API, the console and SCIM.

Only a vetted (``approved``) organisation enrolls people: whatever the channel (invitations,
CSV, SCIM, member changes, accepting an invitation), enrolment is one action here; auto-join
at sign-in joins approved organisations only (``orgs.domains.auto_join``). An organisation
awaiting vetting may prepare its request (domains, and what auto-join will do); a suspended or
rejected one may read and export what it has, and take access away (revoke a SCIM token,
withdraw an invitation), and nothing else. The table is in ``docs/organisations.md``;
``tests/orgs/test_state_rules.py`` tries every cell through the channels that reach it.

::

    action          pending  approved  suspended  rejected
    read            yes      yes       yes        yes
    domains         yes      yes       -          -
    enroll          -        yes       -          -
    revoke_access   yes      yes       yes        yes

A refusal is a 403 whose code names the state (``org_not_approved``, ``org_suspended``,
``org_rejected``), the same from every channel.
"""

from __future__ import annotations

from typing import Literal

from idsvc.orgs.errors import (
    OrgApproved,
    OrgNotApproved,
    OrgRejected,
    OrgStateForbids,
    OrgSuspended,
)
from idsvc.orgs.records import OrgStatus

__all__ = ["ORG_ACTIONS", "OrgAction", "OrgStateForbids", "allowed", "ensure_org_may"]

OrgAction = Literal["read", "domains", "enroll", "revoke_access"]

_EVERY_STATE: frozenset[OrgStatus] = frozenset({"pending", "approved", "suspended", "rejected"})

ORG_ACTIONS: dict[OrgAction, frozenset[OrgStatus]] = {
    "read": _EVERY_STATE,
    "domains": frozenset({"pending", "approved"}),
    "enroll": frozenset({"approved"}),
    # Taking access away is never blocked: a suspended organisation must still be able to
    # revoke a leaked SCIM token.
    "revoke_access": _EVERY_STATE,
}

_REFUSALS: dict[OrgStatus, type[OrgStateForbids]] = {
    "pending": OrgNotApproved,
    "approved": OrgApproved,
    "suspended": OrgSuspended,
    "rejected": OrgRejected,
}
_WHY: dict[OrgStatus, str] = {
    "pending": "the organisation is not approved yet",
    "approved": "the organisation is approved",
    "suspended": "the organisation is suspended",
    "rejected": "the organisation was rejected",
}


def allowed(status: OrgStatus, action: OrgAction) -> bool:
    return status in ORG_ACTIONS[action]


def ensure_org_may(status: OrgStatus, action: OrgAction) -> None:
    if not allowed(status, action):
        raise _REFUSALS[status](f"{_WHY[status]}: it cannot do this ({action})", org_status=status)
