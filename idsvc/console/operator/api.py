"""Every operator page, gathered for the console router."""

from __future__ import annotations

from idsvc.console.operator.audit.api import routes as audit_routes
from idsvc.console.operator.decisions.api import routes as decision_routes
from idsvc.console.operator.keys.api import routes as key_routes
from idsvc.console.operator.orgs.api import routes as org_routes
from idsvc.console.operator.policies.api import routes as policy_routes
from idsvc.console.operator.users.api import routes as user_routes

__all__ = ["routes"]

routes = [
    *key_routes,
    *user_routes,
    *decision_routes,
    *policy_routes,
    *org_routes,
    *audit_routes,
]
