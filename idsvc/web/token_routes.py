"""``POST /v1/eligibility-tokens``: a token for the signed-in browser user (design 3.3.1)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post

from idsvc.accounts.session_guard import require_session
from idsvc.errors import AccessDenied, InvalidDpopProof
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.oauth.proof_replay import remember_proof
from idsvc.policy.decision import Deny
from idsvc.policy.explain import explained_reasons
from idsvc.runtime import RuntimeDependency
from idsvc.tokens.issuance import issue_token
from idsvc.verify.dpop import single_proof
from idsvc.verify.errors import DPoPError

__all__ = ["token_routes"]


class TokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    audience: str


@post("/v1/eligibility-tokens", status_code=201, opt=documented(body=TokenRequest))
async def eligibility_token(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[TokenResponse]:
    session = await require_session(request, runtime, changing=True)
    await runtime.token_limiter.hit(f"user:{session.user_id}")
    body = await read_json(request, TokenRequest)
    dpop_jkt = None
    try:
        if (proof := single_proof(request.headers.getall("dpop", []))) is not None:
            dpop_jkt = runtime.dpop.verify_for_issuance(
                proof, method="POST", url=f"{runtime.settings.service.issuer}{request.url.path}"
            )
            await remember_proof(runtime, proof, jkt=dpop_jkt)
    except DPoPError as exc:
        raise InvalidDpopProof(f"DPoP proof refused: {exc.code}") from None
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        minted = await issue_token(
            conn,
            user_id=session.user_id,
            audience=body.audience,
            policies=runtime.policies,
            keys=runtime.keys,
            issuer=runtime.settings.service.issuer,
            now=now,
            actor=f"user:{session.user_id}",
            slots=runtime.status_slots,
            dpop_jkt=dpop_jkt,
        )
    if isinstance(minted, Deny):
        # Raised after the commit, so the audited denial stays recorded.
        raise AccessDenied(
            "the policy for this audience does not grant access",
            error="access_denied",
            reasons=list(minted.reasons),
            explanations=explained_reasons(runtime.policies[body.audience], minted),
        )
    return Response(
        TokenResponse(
            access_token=minted.token,
            token_type="DPoP" if dpop_jkt else "Bearer",
            expires_in=minted.claims.exp - minted.claims.iat,
            audience=body.audience,
        ),
        headers={"Cache-Control": "no-store"},
    )


token_routes = [eligibility_token]
