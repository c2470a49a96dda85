"""The web console for operators and org admins: server-rendered pages that work without
JavaScript, over the same use cases (and the same authorisation) as the JSON API.

``operator/`` holds the provider's compliance operators' pages, ``org_admin/`` the
organisation admins' pages, each area a room of its own (api.py, service.py, errors.py).
What both audiences share stays here: who is looking (``guard``), forms, the audit
query, and the router that mounts both."""
