"""What the organisation pages refuse with. A refused request (``IdsvcError``: a domain
claimed elsewhere, a bad country …) is shown on the form; the rest answer an error page."""

from idsvc.console.org_admin.errors import CsrfFailed, Forbidden, FormTooLarge, NotFound
from idsvc.errors import IdsvcError

__all__ = ["CsrfFailed", "Forbidden", "FormTooLarge", "IdsvcError", "NotFound"]
