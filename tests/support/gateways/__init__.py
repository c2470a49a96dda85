"""Real gateways (NGINX, Apache, Caddy, HAProxy) on loopback running the configurations in
docs/gateways, the idsvc sidecar, and TLS in front of idsvc."""
