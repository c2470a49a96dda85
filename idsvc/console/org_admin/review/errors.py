"""What the access review page refuses with: a decision that is none of confirm, remove,
later (``BadRequest``), and the refusals of ``idsvc.orgs.members.reviews`` (another admin decided
meanwhile, the review closed), all shown on the page."""

from idsvc.console.org_admin.errors import CsrfFailed, Forbidden, FormTooLarge, NotFound
from idsvc.errors import BadRequest, IdsvcError

__all__ = ["BadRequest", "CsrfFailed", "Forbidden", "FormTooLarge", "IdsvcError", "NotFound"]
