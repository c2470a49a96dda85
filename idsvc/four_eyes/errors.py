"""Errors of the four-eyes mechanism.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import AuditedRefusal, Conflict

__all__ = ["OwnProposal"]


class OwnProposal(Conflict, AuditedRefusal):
    """You proposed this decision; another operator must approve it (four eyes). The refusal
    is audited (``four_eyes.refused``)."""

    code = "own_proposal"
