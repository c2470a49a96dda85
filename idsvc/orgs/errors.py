"""Errors of organisations: membership, invitations, domains, vetting and state rules.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable

__all__ = [
    "ChallengeNotFound",
    "DnsLookupFailed",
    "DomainExists",
    "DomainTaken",
    "FourEyesRequired",
    "InvalidCountry",
    "InvalidDomain",
    "InvalidEmail",
    "InvalidTransition",
    "InvitationInvalid",
    "InvitationWrongAccount",
    "LastAdmin",
    "MemberExists",
    "NoVerifiedDomain",
    "NotOrgAdmin",
    "NotPending",
    "NotVerified",
    "OrgApproved",
    "OrgNotApproved",
    "OrgRejected",
    "OrgStateForbids",
    "OrgSuspended",
    "PublicEmailDomain",
    "ScreeningHit",
]


class InvalidCountry(BadRequest):
    """The country of incorporation is not an ISO 3166-1 country (or names a status); send a
    country's ISO 3166-1 code."""

    code = "invalid_country"


class InvalidDomain(BadRequest):
    """The value is not a registered domain name (such as example.com); send one."""

    code = "invalid_domain"


class InvalidEmail(BadRequest):
    """Some invitation addresses are not e-mail addresses (listed in `invalid`), or there are not 1
    to 500 of them; fix the list and send it again."""

    code = "invalid_email"


class PublicEmailDomain(BadRequest):
    """A public e-mail provider's domain cannot be claimed by an organisation."""

    code = "public_email_domain"


class InvalidTransition(Conflict):
    """The organisation or membership cannot move from its current state to the one asked for;
    reload it and choose an allowed change."""

    code = "invalid_transition"


class MemberExists(Conflict):
    """The person or address is already a member of the organisation; nothing was added."""

    code = "member_exists"


class LastAdmin(Conflict):
    """The change would leave the organisation without an active admin; appoint another admin
    first."""

    code = "last_admin"


class NotPending(Conflict):
    """A membership named is not pending in the open access review (already decided, or not in it);
    reload the review."""

    code = "not_pending"


class DomainTaken(Conflict):
    """Another organisation has verified this domain; it cannot be claimed or verified here."""

    code = "domain_taken"


class DomainExists(Conflict):
    """The organisation has already claimed this domain; use the existing claim."""

    code = "domain_exists"


class NoVerifiedDomain(Conflict):
    """Auto-join needs a verified domain; verify one before turning it on."""

    code = "no_verified_domain"


class ChallengeNotFound(Conflict):
    """No TXT record at the name in `record` holds the domain's challenge; publish it and check
    again."""

    code = "challenge_not_found"


class ScreeningHit(Conflict):
    """The organisation has open restricted-party screening hits (`open_hits`); clear or override
    them before approving."""

    code = "screening_hit"


class FourEyesRequired(Conflict):
    """You overrode a screening hit of this organisation, so another operator must approve it."""

    code = "four_eyes_required"


class NotOrgAdmin(Forbidden):
    """Only the organisation's admins may do this; ask one of them."""

    code = "not_org_admin"


class NotVerified(Forbidden):
    """Only a person with a verified identity may request an organisation; verify your identity
    first."""

    code = "not_verified"


class InvitationWrongAccount(Forbidden):
    """The signed-in account has no verified address matching the invitation; sign in with the
    invited account and accept again."""

    code = "invitation_wrong_account"


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


class InvitationInvalid(NotFound):
    """The invitation is unknown, expired, already used or withdrawn; ask the organisation for a new
    one."""

    code = "invitation_invalid"


class DnsLookupFailed(Unavailable):
    """DNS did not answer while checking the domain; nothing was changed, try again shortly."""

    code = "dns_unavailable"
