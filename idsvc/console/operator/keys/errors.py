"""What the signing-key pages refuse with: the console's form errors (``idsvc.console``);
the pages add none of their own."""

from idsvc.console.errors import FormTooLarge
from idsvc.errors import CsrfFailed, Forbidden

__all__ = ["CsrfFailed", "Forbidden", "FormTooLarge"]
