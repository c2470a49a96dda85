"""``idsvc login`` and ``idsvc token``: the client commands for people at a terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys

from idsvc.client.client import ClientError, IdsvcClient, LoginRequired
from idsvc.client.store import CredentialStore

__all__ = ["add_login_arguments", "add_token_arguments", "run_login", "run_token"]


def _issuer(args: argparse.Namespace) -> str:
    """--issuer, else IDSVC_ISSUER, else the service of the last ``idsvc login``."""
    issuer: str | None = (
        args.issuer or os.environ.get("IDSVC_ISSUER") or CredentialStore().remembered_issuer()
    )
    if not issuer:
        print(
            "idsvc: name the service with --issuer or IDSVC_ISSUER (idsvc login remembers it)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return issuer


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--issuer", help="the idsvc URL (or IDSVC_ISSUER)")
    parser.add_argument("--client-id", default="idsvc-cli", help="OAuth client id (public)")


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--issuer", help="the idsvc URL (or IDSVC_ISSUER; default: the last idsvc login's)"
    )
    parser.add_argument("--client-id", default="idsvc-cli", help="OAuth client id (public)")
    parser.add_argument("--audience", required=True, help="the protected resource")
    parser.add_argument("--dpop-method", help="also print a DPoP proof for this HTTP method")
    parser.add_argument("--dpop-url", help="... and this URL")
    parser.add_argument(
        "--json", action="store_true", help="print token, type, expiry, proof as JSON"
    )


def run_login(args: argparse.Namespace) -> int:
    client = IdsvcClient(_issuer(args), client_id=args.client_id)

    def show(url: str, code: str, complete: str) -> None:
        print(f"To sign in, open {url} and enter the code {code}", flush=True)
        print(f"(or open {complete})", flush=True)

    try:
        client.login(show)
    except ClientError as exc:
        print(f"idsvc: login failed: {exc}", file=sys.stderr)
        return 1
    client.store.remember_issuer(client.issuer)
    print(f"Signed in; credentials kept in {client.store.path(client.issuer)}", flush=True)
    return 0


def run_token(args: argparse.Namespace) -> int:
    if bool(args.dpop_method) != bool(args.dpop_url):
        print("idsvc: --dpop-method and --dpop-url go together", file=sys.stderr)
        return 2
    client = IdsvcClient(_issuer(args), client_id=args.client_id)
    try:
        token = client.token(args.audience)
    except LoginRequired as exc:
        print(f"idsvc: {exc}", file=sys.stderr)
        return 3
    except ClientError as exc:
        reasons = f" ({', '.join(exc.reasons)})" if exc.reasons else ""
        print(f"idsvc: no token: {exc}{reasons}", file=sys.stderr)
        return 1
    proof = (
        client.proof(args.dpop_method.upper(), args.dpop_url, token.access_token)
        if args.dpop_method
        else None
    )
    if args.json:
        print(
            json.dumps(
                {
                    "access_token": token.access_token,
                    "token_type": token.token_type,
                    "expires_at": int(token.expires_at),
                    "dpop": proof,
                }
            )
        )
    else:
        print(token.access_token)
        if proof is not None:
            print(proof)
    return 0
