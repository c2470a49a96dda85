"""Where the console (``idsvc.console.admin_common``) still finds ``group_view``: the
SCIM administration routes are now ``idsvc.scim.admin.api``. Kept only until the console's
import follows (the console was being restructured at the same time); no routes here."""

from idsvc.scim.admin.api import GroupView, group_view

__all__ = ["GroupView", "group_view"]
