"""Every org admin page, gathered for the console router."""

from __future__ import annotations

from idsvc.console.org_admin.enrolment.api import routes as enrolment_routes
from idsvc.console.org_admin.members.api import routes as member_routes
from idsvc.console.org_admin.orgs.api import routes as org_routes
from idsvc.console.org_admin.review.api import routes as review_routes

__all__ = ["routes"]

routes = [*org_routes, *member_routes, *enrolment_routes, *review_routes]
