"""``POST /oauth2/token``: the device-code, refresh-token and token-exchange grants.

Each grant returns a response or an OAuth error *value*; the handler commits first and
raises afterwards, so that what a refusal changed (an audited denial, a grant revoked for
refresh-token reuse, a poll time) stays recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from litestar import Request, Response, post

from idsvc.audit import record_event
from idsvc.config.oauth import DEVICE_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE, ClientSettings
from idsvc.db import Connection
from idsvc.errors import AccessDenied, InvalidDpopProof, InvalidTarget
from idsvc.http.openapi import documented
from idsvc.oauth.client_auth import ClientAuthError
from idsvc.oauth.device import PollOutcome, poll
from idsvc.oauth.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    OAuthAccessDenied,
    OAuthError,
    OAuthInvalidDpopProof,
    OAuthInvalidRequest,
    OAuthInvalidTarget,
    SlowDown,
    UnauthorizedClient,
    UnsupportedGrantType,
    UseDpopNonce,
)
from idsvc.oauth.exchange import ID_TOKEN_TYPE, subject_of_id_token
from idsvc.oauth.form import TokenForm, read_form
from idsvc.oauth.grants import GrantRefused, create_grant, find_grant, refresh_rotation
from idsvc.oauth.proof_replay import ProofReplay
from idsvc.replay import SingleUse, first_use
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.tokens.service import AlsoWrite, issue_token
from idsvc.verify.dpop import single_proof
from idsvc.verify.errors import DPoPError, DPoPNonceRequired, DPoPReplayed

__all__ = ["TokenResponse", "authenticate_client", "token_endpoint"]

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)
# RFC 8693 §2.2.1's "not applicable": a device approval without a resource yields only the
# refresh token, because every eligibility token is for one audience.
NO_ACCESS_TOKEN = "N_A"  # noqa: S105


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    token_type: str
    access_token: str | None = None
    expires_in: int | None = None
    refresh_token: str | None = None
    issued_token_type: str | None = None
    audience: str | None = None


async def authenticate_client(
    runtime: Runtime, request: Request[Any, Any, Any], form: dict[str, str]
) -> ClientSettings:
    try:
        authenticated = runtime.clients.authenticate(form, request.headers.get("authorization"))
        client = authenticated.client
        if authenticated.assertion is not None and not await first_use(
            runtime.pool,
            scope="client_assertion",
            key=f"{client.id}|{authenticated.assertion.jti}",
            expires_at=datetime.fromtimestamp(authenticated.assertion.exp, UTC),
            now=runtime.clock(),
        ):
            # Replayed to another instance (this one's memory refused replays to itself).
            raise ClientAuthError("client assertion replayed")
    except ClientAuthError as exc:
        # One answer whatever the cause; the cause goes to the log only.
        runtime.log_refusal("client authentication failed", reason=str(exc))
        raise InvalidClient(
            "client authentication failed",
            headers={"WWW-Authenticate": 'Basic realm="idsvc"'},
        ) from None
    await runtime.client_limiter(client).hit(f"client:{client.id}")
    return client


async def _dpop_proof(
    runtime: Runtime, request: Request[Any, Any, Any], *, remember_now: bool
) -> tuple[str | None, SingleUse | None]:
    """The proof's key thumbprint, and the proof as a value for the shared replay store:
    remembered here (``remember_now``), or by the caller in a statement of its own."""
    nonce_check = (
        runtime.dpop_nonces.valid if runtime.settings.config.oauth.require_dpop_nonce else None
    )
    try:
        proof = single_proof(request.headers.getall("dpop", []))
        if proof is None:
            return None, None
        jkt = runtime.dpop.verify_for_issuance(
            proof,
            method="POST",
            url=f"{runtime.settings.service.issuer}{request.url.path}",
            nonce_valid=nonce_check,
        )
        if remember_now:
            await _replay(runtime).remember(proof, jkt=jkt)
            return jkt, None
        return jkt, _replay(runtime).use(proof, jkt=jkt)
    except DPoPNonceRequired:
        raise UseDpopNonce(
            "resend the DPoP proof with the server's nonce",
            headers={"DPoP-Nonce": runtime.dpop_nonces.current()},
        ) from None
    except DPoPError as exc:
        raise OAuthInvalidDpopProof(f"DPoP proof refused: {exc.code}") from None


def _replay(runtime: Runtime) -> ProofReplay:
    return ProofReplay(runtime.dpop, runtime.database, runtime.clock)


class DpopProof(NamedTuple):
    """The request's proven key, and its proof when the grant is to remember it itself."""

    jkt: str | None
    use: SingleUse | None


async def _remember_apart(runtime: Runtime, proof: SingleUse) -> None:
    """Remember a proof in a statement of its own (committed at once), where the grant's
    transaction will not: refused before it, or rolled back."""
    try:
        await first_use(
            runtime.pool,
            scope=proof.scope,
            key=proof.key,
            expires_at=proof.expires_at,
            now=runtime.clock(),
        )
    except Exception:
        runtime.log_refusal("could not remember a DPoP proof", reason="database")


def _audience(runtime: Runtime, client: ClientSettings, form: dict[str, str]) -> str | None:
    audience = form.get("resource") or form.get("audience")
    if audience is None:
        return None
    if audience not in runtime.policies or (client.audiences and audience not in client.audiences):
        raise OAuthInvalidTarget("no policy protects that resource for this client")
    return audience


async def _eligibility(
    runtime: Runtime,
    conn: Connection,
    *,
    user_id: uuid.UUID,
    audience: str,
    client: ClientSettings,
    dpop_jkt: str | None,
    grant_id: uuid.UUID | None = None,
    also: AlsoWrite | None = None,
    subject_locked: bool = False,
) -> TokenResponse | OAuthError:
    try:
        minted = await issue_token(
            conn,
            user_id=user_id,
            audience=audience,
            policies=runtime.policies,
            keys=runtime.keys,
            issuer=runtime.settings.service.issuer,
            now=runtime.clock(),
            actor=f"client:{client.id}",
            slots=runtime.status_slots,
            dpop_jkt=dpop_jkt,
            grant_id=grant_id,
            also=also,
            subject_locked=subject_locked,
        )
    except InvalidDpopProof as exc:
        return OAuthInvalidDpopProof(exc.detail)
    except InvalidTarget as exc:
        return OAuthInvalidTarget(exc.detail)
    except AccessDenied as exc:
        return OAuthAccessDenied(
            exc.detail,
            reasons=exc.extra.get("reasons", []),
            explanations=exc.extra.get("explanations", []),
        )
    return TokenResponse(
        access_token=minted.token,
        token_type="DPoP" if dpop_jkt else "Bearer",
        expires_in=minted.claims.exp - minted.claims.iat,
        issued_token_type=ACCESS_TOKEN_TYPE,
        audience=audience,
    )


async def _device_code_grant(
    runtime: Runtime,
    conn: Connection,
    client: ClientSettings,
    form: dict[str, str],
    dpop: DpopProof,
) -> TokenResponse | OAuthError:
    dpop_jkt = dpop.jkt
    if client.type == "public" and dpop_jkt is None:
        # The refresh token is the public client's only credential: bind it to a key.
        return OAuthInvalidDpopProof("public clients must send a DPoP proof")
    audience = _audience(runtime, client, form)
    outcome = await poll(
        conn, device_code=form.get("device_code", ""), client_id=client.id, now=runtime.clock()
    )
    if isinstance(outcome, str):
        refusal, text = _POLL_REFUSALS[outcome]
        return refusal(text)
    grant, refresh_token = await create_grant(
        conn,
        user_id=outcome,
        client_id=client.id,
        dpop_jkt=dpop_jkt,
        settings=runtime.settings.config.oauth,
        now=runtime.clock(),
    )
    if audience is None:
        # No audience-less access token exists here: eligibility is per audience.
        return TokenResponse(token_type=NO_ACCESS_TOKEN, refresh_token=refresh_token)
    issued = await _eligibility(
        runtime,
        conn,
        user_id=outcome,
        audience=audience,
        client=client,
        dpop_jkt=dpop_jkt,
        grant_id=grant.id,
    )
    if isinstance(issued, OAuthError):
        # Signed in, but not eligible for this audience yet: keep the grant usable.
        return TokenResponse(token_type=NO_ACCESS_TOKEN, refresh_token=refresh_token)
    return msgspec.structs.replace(issued, refresh_token=refresh_token)


_POLL_REFUSALS: dict[PollOutcome, tuple[type[OAuthError], str]] = {
    "authorization_pending": (AuthorizationPending, "the user has not approved the request yet"),
    "slow_down": (SlowDown, "polling too fast: wait longer between requests"),
    "expired_token": (ExpiredToken, "the device code expired: start again"),
    "access_denied": (DeviceAccessDenied, "the user denied the request"),
    "invalid_grant": (InvalidGrant, "unknown or already used device code"),
}


async def _audit_refusal(
    conn: Connection, client: ClientSettings, *, reason: str, audience: str, now: datetime
) -> None:
    """A refused refresh is a refused token: audited, committed with the answer."""
    await record_event(
        conn,
        at=now,
        actor=f"client:{client.id}",
        action="token.refused",
        target=f"client:{client.id}",
        data={"audience": audience, "reason": reason},
    )


async def _refresh_token_grant(
    runtime: Runtime,
    conn: Connection,
    client: ClientSettings,
    form: dict[str, str],
    dpop: DpopProof,
) -> TokenResponse | OAuthError:
    dpop_jkt = dpop.jkt
    audience = _audience(runtime, client, form)
    if audience is None:
        return OAuthInvalidTarget("name the audience with resource=")
    presented = form.get("refresh_token", "")
    now = runtime.clock()
    try:
        # One statement: the grant locked, the person's row held for issuance, the DPoP
        # proof remembered across instances.
        grant = await find_grant(
            conn,
            presented,
            client_id=client.id,
            now=now,
            for_issuance=True,
            remember=dpop.use,
        )
    except DPoPReplayed:
        return OAuthInvalidDpopProof("DPoP proof refused: dpop_replayed")
    except GrantRefused as exc:
        runtime.log_refusal("refresh token refused", reason=exc.reason)
        await _audit_refusal(conn, client, reason=exc.reason, audience=audience, now=now)
        return InvalidGrant("the refresh token is not valid")
    if grant.dpop_jkt is not None and dpop_jkt != grant.dpop_jkt:
        await _audit_refusal(conn, client, reason="dpop_key_mismatch", audience=audience, now=now)
        return OAuthInvalidDpopProof("this refresh token is bound to another DPoP key")
    await runtime.token_limiter.hit(f"user:{grant.user_id}", conn=conn)
    # The refresh token rotates in the statement that issues the access token: a denial
    # leaves it as it was, so the person can fix what is missing and try again with it.
    successor, rotation = refresh_rotation(
        grant, presented, settings=runtime.settings.config.oauth, now=now
    )
    issued = await _eligibility(
        runtime,
        conn,
        user_id=grant.user_id,
        audience=audience,
        client=client,
        dpop_jkt=dpop_jkt,
        grant_id=grant.id,
        also=rotation,
        subject_locked=True,
    )
    if isinstance(issued, OAuthError):
        return issued
    return msgspec.structs.replace(issued, refresh_token=successor)


async def _token_exchange_grant(
    runtime: Runtime,
    conn: Connection,
    client: ClientSettings,
    form: dict[str, str],
    dpop: DpopProof,
) -> TokenResponse | OAuthError:
    dpop_jkt = dpop.jkt
    if form.get("subject_token_type") != ID_TOKEN_TYPE:
        return OAuthInvalidRequest(f"subject_token_type must be {ID_TOKEN_TYPE}")
    requested = form.get("requested_token_type")
    if requested not in (None, ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"):
        return OAuthInvalidRequest("only access tokens are issued")
    audience = _audience(runtime, client, form)
    if audience is None:
        return OAuthInvalidTarget("name the audience with resource=")
    user_id = await subject_of_id_token(
        conn,
        form.get("subject_token", ""),
        client=client,
        providers=runtime.signin.providers,
        directory=runtime.signin.directory,
        now=runtime.clock(),
    )
    await runtime.token_limiter.hit(f"user:{user_id}", conn=conn)
    return await _eligibility(
        runtime, conn, user_id=user_id, audience=audience, client=client, dpop_jkt=dpop_jkt
    )


_GRANTS = {
    DEVICE_CODE: _device_code_grant,
    REFRESH_TOKEN: _refresh_token_grant,
    TOKEN_EXCHANGE: _token_exchange_grant,
}


@post("/oauth2/token", status_code=200, opt=documented(form=TokenForm))
async def token_endpoint(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[TokenResponse]:
    form = await read_form(request)
    client = await authenticate_client(runtime, request, form)
    grant_type = form.get("grant_type", "")
    handler = _GRANTS.get(grant_type)  # type: ignore[call-overload]
    if handler is None:
        raise UnsupportedGrantType("grant_type is not supported")
    if grant_type not in client.grant_types:
        raise UnauthorizedClient("this client may not use that grant type")
    # The refresh-token grant remembers the proof in its first statement (one round trip
    # less on the hot path); the others before their transaction.
    dpop_jkt, proof = await _dpop_proof(runtime, request, remember_now=grant_type != REFRESH_TOKEN)
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            result = await handler(runtime, conn, client, form, DpopProof(dpop_jkt, proof))
    except Exception:
        if proof is not None:
            # The transaction that was to remember the proof rolled back (a rate limit, an
            # outage): remember it on its own, so it stays single use at every instance.
            await _remember_apart(runtime, proof)
        raise
    if proof is not None and isinstance(result, OAuthError):
        # A refusal may come before the grant's statement that remembers the proof (no
        # resource, a malformed token): remember it apart, so a captured proof cannot be
        # sent again, with another body, to another instance. Idempotent when the statement
        # did run; refusals only, so issuance keeps its single statement.
        await _remember_apart(runtime, proof)
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if runtime.settings.config.oauth.require_dpop_nonce:
        headers["DPoP-Nonce"] = runtime.dpop_nonces.current()
    if isinstance(result, OAuthError):
        result.headers.update(headers)
        raise result
    return Response(result, headers=headers)
