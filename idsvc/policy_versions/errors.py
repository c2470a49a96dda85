"""Why the service refuses to start with its policies.

Not a client-facing problem: raised at start, before any request is served.
"""

from __future__ import annotations

__all__ = ["PolicyVersionConflict"]


class PolicyVersionConflict(Exception):
    """A known policy version now has different content."""
