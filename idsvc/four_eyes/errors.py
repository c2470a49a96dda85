"""Errors of the four-eyes mechanism, each an audited refusal (``four_eyes.refused`` is
committed with it).

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import AuditedRefusal, Conflict, Forbidden

__all__ = ["ConflictOfInterest", "OwnProposal", "ProposalDiffers"]


class OwnProposal(Conflict, AuditedRefusal):
    """You proposed this decision; another operator must approve it (four eyes)."""

    code = "own_proposal"


class ProposalDiffers(Conflict, AuditedRefusal):
    """Another operator proposed different terms for this decision: approve those, or wait
    until that proposal lapses."""

    code = "proposal_differs"


class ConflictOfInterest(Forbidden, AuditedRefusal):
    """You have a stake in this decision (you requested the organisation, or administer it):
    operators without one decide it."""

    code = "conflict_of_interest"
