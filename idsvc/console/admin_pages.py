"""Pages for organisation admins: request an organisation, and for each organisation they
administer its state, members, enrolment (invitations, CSV, SCIM, domains) and audit
trail. Authorisation is the API's: ``require_org_admin`` on every page and form."""

from __future__ import annotations

from idsvc.console.admin_members import member_pages
from idsvc.console.admin_org import org_pages_for_admins
from idsvc.console.admin_review import review_pages
from idsvc.console.admin_settings import settings_pages

__all__ = ["admin_pages"]

admin_pages = [*org_pages_for_admins, *member_pages, *settings_pages, *review_pages]
