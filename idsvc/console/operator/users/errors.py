"""What the operator's user pages refuse with. Erasure's refusals (``RetentionDuty``,
``LastAdmin``, ``UnderLegalHold``, a ``BadRequest``) are shown on the page next to the form;
the others answer an error page."""

from idsvc.console.errors import FormTooLarge
from idsvc.erasure.service import LastAdmin, RetentionDuty, UnderLegalHold
from idsvc.errors import BadRequest, Conflict, CsrfFailed, Forbidden, NotFound

__all__ = [
    "BadRequest",
    "Conflict",
    "CsrfFailed",
    "Forbidden",
    "FormTooLarge",
    "LastAdmin",
    "NotFound",
    "RetentionDuty",
    "UnderLegalHold",
]
