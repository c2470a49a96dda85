"""What the operator's audit pages refuse with: an export of a filter that does not parse
(``BadRequest``), and the console's form errors."""

from idsvc.console.errors import FormTooLarge
from idsvc.errors import BadRequest, CsrfFailed, Forbidden

__all__ = ["BadRequest", "CsrfFailed", "Forbidden", "FormTooLarge"]
