"""Errors of invitations: sending them and accepting them.

MemberExists is shared with other parts of ``idsvc.orgs`` and defined in
``idsvc.orgs.errors``; named here so the feature's errors are found in one place.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Forbidden, NotFound
from idsvc.orgs.errors import MemberExists

__all__ = [
    "InvalidEmail",
    "InvitationInvalid",
    "InvitationWrongAccount",
    "MemberExists",
]


class InvalidEmail(BadRequest):
    """Some invitation addresses are not e-mail addresses (listed in `invalid`), or there are not 1
    to 500 of them; fix the list and send it again."""

    code = "invalid_email"


class InvitationWrongAccount(Forbidden):
    """The signed-in account has no verified address matching the invitation; sign in with the
    invited account and accept again."""

    code = "invitation_wrong_account"


class InvitationInvalid(NotFound):
    """The invitation is unknown, expired, already used or withdrawn; ask the organisation for a new
    one."""

    code = "invitation_invalid"
