"""``idsvc verify-token``: verify one token from the command line, offline."""

from __future__ import annotations

import argparse
import sys

import msgspec

from idsvc.verify.errors import VerificationError
from idsvc.verify.verifier import Verifier

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", help="the eligibility token (compact JWS), or - for stdin")
    parser.add_argument("--issuer", required=True, help="the expected iss")
    parser.add_argument("--audience", required=True, help="the expected aud")
    parser.add_argument("--jwks", required=True, help="a JWKS file path or an http(s) URL")
    parser.add_argument("--dpop-proof", help="the DPoP proof, for DPoP-bound tokens")
    parser.add_argument("--method", help="HTTP method the proof is for")
    parser.add_argument("--url", help="URL the proof is for")


def run(args: argparse.Namespace) -> int:
    token: str = sys.stdin.read().strip() if args.token == "-" else args.token  # noqa: S105
    source = args.jwks
    remote = source.startswith(("http://", "https://"))
    verifier = Verifier(
        issuer=args.issuer,
        audience=args.audience,
        jwks_url=source if remote else None,
        jwks_file=None if remote else source,
    )
    try:
        claims = verifier.verify(
            token, dpop_proof=args.dpop_proof, method=args.method, url=args.url
        )
    except VerificationError as exc:
        print(f"invalid: {exc.code}: {exc.reason}", file=sys.stderr)
        return 1
    print(msgspec.json.format(msgspec.json.encode(claims), indent=2).decode())
    return 0
