"""What the operator's organisation pages refuse with. A ``Conflict`` of a decision (four
eyes, a stale screening list) is shown on the page next to its form."""

from idsvc.console.errors import FormTooLarge
from idsvc.errors import Conflict, CsrfFailed, Forbidden, NotFound

__all__ = ["Conflict", "CsrfFailed", "Forbidden", "FormTooLarge", "NotFound"]
