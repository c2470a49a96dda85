"""The check sidecar (`idsvc gateway`): answers NGINX ``auth_request`` and Envoy
``ext_authz`` (HTTP) sub-requests with the full offline verification, from its caches."""
