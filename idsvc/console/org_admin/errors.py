"""What the org admin pages refuse with: the API's refusals (``require_org_admin``: 404 for
an organisation the viewer does not administer, 403 for a member or a state that forbids
the action), a CSV that is not UTF-8, and the console's form errors."""

from idsvc.console.errors import FormTooLarge
from idsvc.errors import CsrfFailed, Forbidden, InvalidCsvRequest, NotFound

__all__ = ["CsrfFailed", "Forbidden", "FormTooLarge", "InvalidCsvRequest", "NotFound"]
