"""What the policy page refuses with: only its guard's refusals; a bad check is shown next
to its field."""

from idsvc.errors import Forbidden

__all__ = ["Forbidden"]
