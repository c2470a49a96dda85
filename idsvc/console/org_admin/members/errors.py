"""What the member pages refuse with: a CSV with errors or not UTF-8
(``InvalidCsvRequest``), invitations to malformed addresses or without mail configured,
and the refusals of ``idsvc.orgs`` (shown on the page, except a 404)."""

from idsvc.console.org_admin.errors import (
    CsrfFailed,
    Forbidden,
    FormTooLarge,
    InvalidCsvRequest,
    NotFound,
)
from idsvc.errors import IdsvcError

__all__ = ["CsrfFailed", "Forbidden", "FormTooLarge", "IdsvcError", "InvalidCsvRequest", "NotFound"]
