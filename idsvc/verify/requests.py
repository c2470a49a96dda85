"""Deciding one HTTP request from its Authorization and DPoP headers: shared by the ASGI
middleware and the check sidecar, so both refuse the same things the same way."""

from __future__ import annotations

import msgspec

from idsvc.verify.claims import EligibilityClaims
from idsvc.verify.dpop import single_proof
from idsvc.verify.errors import DPoPError, TokenRevoked, TokenSuspended, VerificationError
from idsvc.verify.verifier import Verifier

__all__ = ["Allowed", "Refused", "check_request"]


class Allowed(msgspec.Struct, frozen=True, kw_only=True):
    claims: EligibilityClaims


class Refused(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    # The WWW-Authenticate challenge (RFC 6750 §3, RFC 9449 §7.1).
    challenge: str
    # A stable code for logs and metrics: the verifier's error code, or a request problem.
    reason: str


def _challenge(scheme: str, error: str | None, description: str | None) -> str:
    if error is None:
        # RFC 6750 §3.1: no credentials at all gets a bare challenge, no error code.
        return f'{scheme} algs="ES256 EdDSA RS256"' if scheme == "DPoP" else scheme
    text = f'{scheme} error="{error}", error_description="{description}"'
    return text + ', algs="ES256 EdDSA RS256"' if scheme == "DPoP" else text


def check_request(
    verifier: Verifier,
    *,
    authorization: str | None,
    dpop: list[str],
    method: str,
    url: str,
) -> Allowed | Refused:
    scheme, _, token = (authorization or "").partition(" ")
    scheme = scheme.lower()
    token = token.strip()
    if scheme not in ("bearer", "dpop") or not token:
        return Refused(
            status=401, challenge=_challenge("Bearer", None, None), reason="missing_token"
        )
    presented = "DPoP" if scheme == "dpop" else "Bearer"
    try:
        proof = single_proof(dpop)
        claims = verifier.verify(token, dpop_proof=proof, method=method, url=url)
    except (TokenRevoked, TokenSuspended) as exc:
        # The token is genuine but withdrawn: refused as forbidden, not as malformed.
        return Refused(
            status=403, challenge=_challenge(presented, "invalid_token", exc.code), reason=exc.code
        )
    except DPoPError as exc:
        # Whatever scheme was presented, a proof problem is answered with a DPoP challenge
        # so the client learns it must prove possession (RFC 9449 §7.1).
        return Refused(
            status=401, challenge=_challenge("DPoP", "invalid_token", exc.code), reason=exc.code
        )
    except VerificationError as exc:
        return Refused(
            status=401, challenge=_challenge(presented, "invalid_token", exc.code), reason=exc.code
        )
    if claims.cnf is not None and scheme != "dpop":
        # RFC 9449 §7.1: a bound token presented as a bearer token is a downgrade.
        return Refused(
            status=401,
            challenge=_challenge("DPoP", "invalid_token", "dpop_required"),
            reason="dpop_required",
        )
    return Allowed(claims=claims)
