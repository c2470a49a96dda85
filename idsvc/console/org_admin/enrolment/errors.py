"""What the enrolment pages refuse with: DNS that does not answer (``DnsUnavailable``) and
the refusals of ``idsvc.orgs`` and ``idsvc.scim`` (a domain claimed elsewhere, the last
admin group …), shown on the organisation page; a domain not claimed answers 404."""

from idsvc.console.org_admin.errors import CsrfFailed, Forbidden, FormTooLarge, NotFound
from idsvc.errors import IdsvcError
from idsvc.orgs.domains.dns_txt import DnsUnavailable

__all__ = ["CsrfFailed", "DnsUnavailable", "Forbidden", "FormTooLarge", "IdsvcError", "NotFound"]
