"""Eligibility tokens over HTTP: ``POST /v1/eligibility-tokens`` for the signed-in browser
user (design 3.3.1), and ``GET /status-lists/{id}`` (``application/statuslist+jwt``) for
gateways that check revocation."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.accounts.guards import signed_in
from idsvc.accounts.sessions import Session
from idsvc.db.database import Database
from idsvc.errors import InvalidDpopProof, NotFound
from idsvc.http.body import read_json
from idsvc.http.inject import Injected, Now
from idsvc.http.openapi import documented
from idsvc.http.ratelimit import RateLimiter
from idsvc.keys.service import KeyService
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings
from idsvc.tokens.proof_replay import ProofReplay
from idsvc.tokens.service import issue_token
from idsvc.tokens.status_service import StatusListService
from idsvc.tokens.status_slots import StatusAllocator
from idsvc.verify.dpop import DPoPVerifier, single_proof
from idsvc.verify.errors import DPoPError

__all__ = ["routes"]

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
_MAX_LIST_ID = 2**63 - 1  # bigint


class EligibilityTokenRequest(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    audience: str


@post(
    "/v1/eligibility-tokens",
    status_code=201,
    guards=[signed_in],
    opt=documented(body=EligibilityTokenRequest),
)
async def eligibility_token(
    *,
    request: Request[Any, Any, Any],
    session: Injected[Session],
    settings: Injected[Settings],
    token_limiter: Injected[RateLimiter],
    dpop: Injected[DPoPVerifier],
    proof_replay: Injected[ProofReplay],
    database: Injected[Database],
    now: Now,
    policies: Injected[dict[str, PolicySettings]],
    keys: Injected[KeyService],
    status_slots: Injected[StatusAllocator],
) -> Response[TokenResponse]:
    await token_limiter.hit(f"user:{session.user_id}")
    body = await read_json(request, EligibilityTokenRequest)
    dpop_jkt = None
    # The proof is checked before a connection is taken from the pool (a flood of bad
    # proofs does not drain it), which is why this handler opens its transaction itself;
    # a denial (AccessDenied, an audited refusal) commits its audit event.
    try:
        if (proof := single_proof(request.headers.getall("dpop", []))) is not None:
            dpop_jkt = dpop.verify_for_issuance(
                proof, method="POST", url=f"{settings.service.issuer}{request.url.path}"
            )
            await proof_replay.remember(proof, jkt=dpop_jkt)
    except DPoPError as exc:
        raise InvalidDpopProof(f"DPoP proof refused: {exc.code}") from None
    async with database.transaction() as conn:
        minted = await issue_token(
            conn,
            user_id=session.user_id,
            audience=body.audience,
            policies=policies,
            keys=keys,
            issuer=settings.service.issuer,
            now=now,
            actor=f"user:{session.user_id}",
            slots=status_slots,
            screening=settings.config.screening,
            dpop_jkt=dpop_jkt,
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


@get(
    "/status-lists/{list_id:int}",
    opt=documented(returns=(STATUS_LIST_MEDIA_TYPE,), conditional=True),
)
async def status_list(
    request: Request[Any, Any, Any],
    list_id: FromPath[int],
    status_lists: Injected[StatusListService],
    database: Injected[Database],
    now: Now,
) -> Response[bytes]:
    if not 0 < list_id <= _MAX_LIST_ID:
        # Found: an id beyond PostgreSQL's bigint reached the query and answered 500.
        raise NotFound("no such status list")
    document = await status_lists.document(database.pool, list_id, now)
    if document is None:
        raise NotFound("no such status list")
    headers = {"Cache-Control": f"public, max-age={status_lists.ttl}", "ETag": document.etag}
    if request.headers.get("if-none-match") == document.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(document.body, media_type=STATUS_LIST_MEDIA_TYPE, headers=headers)


routes = [eligibility_token, status_list]
