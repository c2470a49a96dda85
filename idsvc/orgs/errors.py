"""Errors shared by the parts of organisations: the state rules (what an organisation's
state allows), the admin check, and membership states. Each part's own errors are in its
``errors.py`` (``orgs.vetting``, ``orgs.members``, ``orgs.domains``, ``orgs.invitations``).

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict, Forbidden

__all__ = [
    "InvalidTransition",
    "MemberExists",
    "NotOrgAdmin",
    "OrgApproved",
    "OrgNotApproved",
    "OrgRejected",
    "OrgStateForbids",
    "OrgSuspended",
]


class InvalidTransition(Conflict):
    """The organisation or membership cannot move from its current state to the one asked for;
    reload it and choose an allowed change."""

    code = "invalid_transition"


class MemberExists(Conflict):
    """The person or address is already a member of the organisation; nothing was added."""

    code = "member_exists"


class NotOrgAdmin(Forbidden):
    """Only the organisation's admins may do this; ask one of them."""

    code = "not_org_admin"


class OrgStateForbids(Forbidden):
    """The organisation's state does not allow the action (`org_status` names the state)."""


class OrgNotApproved(OrgStateForbids):
    """The organisation awaits vetting and cannot do this yet (`org_status` is `pending`); wait for
    approval."""

    code = "org_not_approved"


class OrgApproved(OrgStateForbids):
    """The action is not open to an approved organisation (`org_status` is `approved`)."""

    code = "org_approved"


class OrgSuspended(OrgStateForbids):
    """The organisation is suspended: it may read, export and revoke access, nothing else."""

    code = "org_suspended"


class OrgRejected(OrgStateForbids):
    """The organisation was rejected: it may read, export and revoke access, nothing else."""

    code = "org_rejected"
