"""``idsvc gateway``: run the check sidecar next to a gateway."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_gateway_arguments", "run_gateway"]


def add_gateway_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--issuer", required=True, help="the idsvc issuer URL tokens carry")
    parser.add_argument(
        "--audience", required=True, help="the protected resource this gateway guards"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--jwks-url", help="default: {issuer}/.well-known/jwks.json")
    source.add_argument("--jwks-file", help="a JWKS file, for air-gapped gateways")
    parser.add_argument(
        "--listen", default="127.0.0.1:9191", help="HOST:PORT (default %(default)s)"
    )
    parser.add_argument(
        "--public-base-url",
        help="the origin clients use (https://api.example.com): DPoP proofs are checked "
        "against it instead of the Host the gateway forwards",
    )
    parser.add_argument("--check-path", default="/check", help="path prefix of check requests")
    parser.add_argument(
        "--status-list-dir", help="read status lists from this folder (air-gapped gateways)"
    )
    parser.add_argument(
        "--status-max-stale",
        type=float,
        default=3600.0,
        help="seconds a status list may be used past its ttl when it cannot be refreshed",
    )
    parser.add_argument(
        "--fail-open-on-stale-status",
        action="store_true",
        help="past that, accept tokens instead of refusing them (default: refuse)",
    )


def run_gateway(args: argparse.Namespace) -> int:
    import uvicorn

    from idsvc.gateway.app import GatewayApp
    from idsvc.verify import Verifier

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print("idsvc: --listen must be HOST:PORT", file=sys.stderr)
        return 2
    issuer = args.issuer.rstrip("/")
    verifier = Verifier(
        issuer=issuer,
        audience=args.audience,
        jwks_file=args.jwks_file,
        jwks_url=None if args.jwks_file else (args.jwks_url or f"{issuer}/.well-known/jwks.json"),
        status_list_dir=args.status_list_dir,
        status_max_stale=args.status_max_stale,
        fail_open_on_stale_status=args.fail_open_on_stale_status,
    )
    verifier.load_keys()
    app = GatewayApp(verifier, check_prefix=args.check_path, public_base_url=args.public_base_url)
    uvicorn.run(
        app,
        host=host,
        port=int(port),
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    return 0
