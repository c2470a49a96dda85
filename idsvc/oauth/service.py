"""The OAuth token service: client authentication, and the device-code, refresh-token and
token-exchange grants behind ``POST /oauth2/token``.

A grant's refusal is an ``OAuthError``, raised inside the grant's transaction. Every
``OAuthError`` is an audited refusal (``idsvc.errors.AuditedRefusal``): the transaction
commits what the refusal changed (an audited denial, a grant revoked for refresh-token
reuse, a poll time) before the error is answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

import msgspec

from idsvc.audit import record_event
from idsvc.clock import Clock
from idsvc.config.oauth import DEVICE_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE, ClientSettings
from idsvc.db import Connection
from idsvc.db.database import Database
from idsvc.errors import AccessDenied, InvalidDpopProof, InvalidTarget
from idsvc.http.logs import log_refusal
from idsvc.http.ratelimit import RateLimiter
from idsvc.keys.service import KeyService
from idsvc.oauth.client_auth import ClientAuthError, ClientRegistry
from idsvc.oauth.device import PollOutcome, poll
from idsvc.oauth.dpop_nonce import DPoPNonces
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
from idsvc.oauth.grants import GrantRefused, create_grant, find_grant, refresh_rotation
from idsvc.oidc.service import SignInService
from idsvc.policy.model import PolicySettings
from idsvc.replay import SingleUse, first_use
from idsvc.settings import Settings
from idsvc.tokens.proof_replay import ProofReplay
from idsvc.tokens.service import AlsoWrite, issue_token
from idsvc.tokens.status_slots import StatusAllocator
from idsvc.verify.dpop import DPoPVerifier, single_proof
from idsvc.verify.errors import DPoPError, DPoPNonceRequired, DPoPReplayed

__all__ = ["OAuthClients", "TokenEndpoint", "TokenResponse"]

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


class OAuthClients:
    """Who is calling an OAuth endpoint: the registry's check of the credentials, a client
    assertion single use across instances, and each client's own request budget."""

    def __init__(
        self,
        registry: ClientRegistry,
        *,
        database: Database,
        clock: Clock,
        limiter: Callable[[ClientSettings], RateLimiter],
    ) -> None:
        self.registry = registry
        self._database = database
        self._clock = clock
        self._limiter = limiter

    async def authenticate(self, form: dict[str, str], authorization: str | None) -> ClientSettings:
        try:
            authenticated = self.registry.authenticate(form, authorization)
            client = authenticated.client
            if authenticated.assertion is not None and not await first_use(
                self._database.pool,
                scope="client_assertion",
                key=f"{client.id}|{authenticated.assertion.jti}",
                expires_at=datetime.fromtimestamp(authenticated.assertion.exp, UTC),
                now=self._clock(),
            ):
                # Replayed to another instance (this one's memory refused replays to itself).
                raise ClientAuthError("client assertion replayed")
        except ClientAuthError as exc:
            # One answer whatever the cause; the cause goes to the log only.
            log_refusal("client authentication failed", reason=str(exc))
            raise InvalidClient(
                "client authentication failed",
                headers={"WWW-Authenticate": 'Basic realm="idsvc"'},
            ) from None
        await self._limiter(client).hit(f"client:{client.id}")
        return client


class DpopProof(NamedTuple):
    """The request's proven key, and its proof when the grant is to remember it itself."""

    jkt: str | None
    use: SingleUse | None


class TokenEndpointRequest(NamedTuple):
    client: ClientSettings
    form: dict[str, str]
    # The DPoP header(s) and the URL the proof must name.
    proofs: list[str]
    url: str


class TokenEndpoint:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        policies: dict[str, PolicySettings],
        keys: KeyService,
        status_slots: StatusAllocator,
        signin: SignInService,
        dpop: DPoPVerifier,
        dpop_nonces: DPoPNonces,
        proof_replay: ProofReplay,
        token_limiter: RateLimiter,
    ) -> None:
        self._settings = settings
        self._database = database
        self._clock = clock
        self._policies = policies
        self._keys = keys
        self._slots = status_slots
        self._signin = signin
        self._dpop = dpop
        self._nonces = dpop_nonces
        self._replay = proof_replay
        self._token_limiter = token_limiter

    def response_headers(self) -> dict[str, str]:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self._settings.config.oauth.require_dpop_nonce:
            headers["DPoP-Nonce"] = self._nonces.current()
        return headers

    async def token(self, request: TokenEndpointRequest) -> TokenResponse:
        """Runs the requested grant in its own transaction (see the module docstring)."""
        grant_type = request.form.get("grant_type", "")
        if grant_type not in _SUPPORTED_GRANTS:
            raise UnsupportedGrantType("grant_type is not supported")
        if grant_type not in request.client.grant_types:
            raise UnauthorizedClient("this client may not use that grant type")
        # The refresh-token grant remembers the proof in its first statement (one round
        # trip less on the hot path); the others before their transaction. The proof is
        # checked before a connection is taken from the pool.
        dpop = await self._dpop_proof(request, remember_now=grant_type != REFRESH_TOKEN)
        try:
            async with self._database.transaction() as conn:
                return await self._grant(grant_type, conn, request, dpop)
        except Exception:
            if dpop.use is not None:
                # A refusal may come before the grant's statement that remembers the proof
                # (no resource, a malformed token), or the transaction that was to remember
                # it rolled back (a rate limit, an outage): remember it on its own, so it
                # stays single use at every instance. Idempotent when the statement did run.
                await self._remember_apart(dpop.use)
            raise

    async def _grant(
        self, grant_type: str, conn: Connection, request: TokenEndpointRequest, dpop: DpopProof
    ) -> TokenResponse:
        """Each supported grant type's method, named where a reader (and the type checker)
        can follow it."""
        if grant_type == DEVICE_CODE:
            return await self._device_code_grant(conn, request, dpop)
        if grant_type == REFRESH_TOKEN:
            return await self._refresh_token_grant(conn, request, dpop)
        return await self._token_exchange_grant(conn, request, dpop)

    async def _dpop_proof(self, request: TokenEndpointRequest, *, remember_now: bool) -> DpopProof:
        """The proof's key thumbprint, and the proof as a value for the shared replay store:
        remembered here (``remember_now``), or by the grant in a statement of its own."""
        nonce_check = self._nonces.valid if self._settings.config.oauth.require_dpop_nonce else None
        try:
            proof = single_proof(request.proofs)
            if proof is None:
                return DpopProof(None, None)
            jkt = self._dpop.verify_for_issuance(
                proof, method="POST", url=request.url, nonce_valid=nonce_check
            )
            if remember_now:
                await self._replay.remember(proof, jkt=jkt)
                return DpopProof(jkt, None)
            return DpopProof(jkt, self._replay.use(proof, jkt=jkt))
        except DPoPNonceRequired:
            raise UseDpopNonce(
                "resend the DPoP proof with the server's nonce",
                headers={"DPoP-Nonce": self._nonces.current()},
            ) from None
        except DPoPError as exc:
            raise OAuthInvalidDpopProof(f"DPoP proof refused: {exc.code}") from None

    async def _remember_apart(self, proof: SingleUse) -> None:
        """Remember a proof in a statement of its own (committed at once), where the grant's
        transaction will not: refused before it, or rolled back."""
        try:
            await self._replay.remember_use(proof)
        except DPoPReplayed:
            pass  # already remembered: what this is for
        except Exception:
            log_refusal("could not remember a DPoP proof", reason="database")

    def _audience(self, client: ClientSettings, form: dict[str, str]) -> str | None:
        audience = form.get("resource") or form.get("audience")
        if audience is None:
            return None
        if audience not in self._policies or (
            client.audiences and audience not in client.audiences
        ):
            raise OAuthInvalidTarget("no policy protects that resource for this client")
        return audience

    async def _eligibility(
        self,
        conn: Connection,
        *,
        user_id: uuid.UUID,
        audience: str,
        client: ClientSettings,
        dpop_jkt: str | None,
        grant_id: uuid.UUID | None = None,
        also: AlsoWrite | None = None,
        subject_locked: bool = False,
    ) -> TokenResponse:
        """Issues the access token; issuance's refusals become their OAuth form, by type."""
        try:
            minted = await issue_token(
                conn,
                user_id=user_id,
                audience=audience,
                policies=self._policies,
                keys=self._keys,
                issuer=self._settings.service.issuer,
                now=self._clock(),
                actor=f"client:{client.id}",
                slots=self._slots,
                screening=self._settings.config.screening,
                dpop_jkt=dpop_jkt,
                grant_id=grant_id,
                also=also,
                subject_locked=subject_locked,
            )
        except InvalidDpopProof as exc:
            raise OAuthInvalidDpopProof(exc.detail) from None
        except InvalidTarget as exc:
            raise OAuthInvalidTarget(exc.detail) from None
        except AccessDenied as exc:
            raise OAuthAccessDenied(
                exc.detail,
                reasons=exc.extra.get("reasons", []),
                explanations=exc.extra.get("explanations", []),
            ) from None
        return TokenResponse(
            access_token=minted.token,
            token_type="DPoP" if dpop_jkt else "Bearer",
            expires_in=minted.claims.exp - minted.claims.iat,
            issued_token_type=ACCESS_TOKEN_TYPE,
            audience=audience,
        )

    async def _device_code_grant(
        self, conn: Connection, request: TokenEndpointRequest, dpop: DpopProof
    ) -> TokenResponse:
        client, form, dpop_jkt = request.client, request.form, dpop.jkt
        if client.type == "public" and dpop_jkt is None:
            # The refresh token is the public client's only credential: bind it to a key.
            raise OAuthInvalidDpopProof("public clients must send a DPoP proof")
        audience = self._audience(client, form)
        outcome = await poll(
            conn, device_code=form.get("device_code", ""), client_id=client.id, now=self._clock()
        )
        if isinstance(outcome, str):
            refusal, text = _POLL_REFUSALS[outcome]
            # Committed with its poll time (slow_down is judged against it).
            raise refusal(text)
        grant, refresh_token = await create_grant(
            conn,
            user_id=outcome,
            client_id=client.id,
            dpop_jkt=dpop_jkt,
            settings=self._settings.config.oauth,
            now=self._clock(),
        )
        if audience is None:
            # No audience-less access token exists here: eligibility is per audience.
            return TokenResponse(token_type=NO_ACCESS_TOKEN, refresh_token=refresh_token)
        try:
            issued = await self._eligibility(
                conn,
                user_id=outcome,
                audience=audience,
                client=client,
                dpop_jkt=dpop_jkt,
                grant_id=grant.id,
            )
        except OAuthError:
            # Signed in, but not eligible for this audience yet: keep the grant usable
            # (the denial's audit event commits with it).
            return TokenResponse(token_type=NO_ACCESS_TOKEN, refresh_token=refresh_token)
        return msgspec.structs.replace(issued, refresh_token=refresh_token)

    async def _refresh_token_grant(
        self, conn: Connection, request: TokenEndpointRequest, dpop: DpopProof
    ) -> TokenResponse:
        client, form, dpop_jkt = request.client, request.form, dpop.jkt
        audience = self._audience(client, form)
        if audience is None:
            raise OAuthInvalidTarget("name the audience with resource=")
        presented = form.get("refresh_token", "")
        now = self._clock()
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
            raise OAuthInvalidDpopProof("DPoP proof refused: dpop_replayed") from None
        except GrantRefused as exc:
            log_refusal("refresh token refused", reason=exc.reason)
            await _audit_refusal(conn, client, reason=exc.reason, audience=audience, now=now)
            raise InvalidGrant("the refresh token is not valid") from None
        if grant.dpop_jkt is not None and dpop_jkt != grant.dpop_jkt:
            await _audit_refusal(
                conn, client, reason="dpop_key_mismatch", audience=audience, now=now
            )
            raise OAuthInvalidDpopProof("this refresh token is bound to another DPoP key")
        await self._token_limiter.hit(f"user:{grant.user_id}", conn=conn)
        # The refresh token rotates in the statement that issues the access token: a denial
        # leaves it as it was, so the person can fix what is missing and try again with it.
        successor, rotation = refresh_rotation(
            grant, presented, settings=self._settings.config.oauth, now=now
        )
        issued = await self._eligibility(
            conn,
            user_id=grant.user_id,
            audience=audience,
            client=client,
            dpop_jkt=dpop_jkt,
            grant_id=grant.id,
            also=rotation,
            subject_locked=True,
        )
        return msgspec.structs.replace(issued, refresh_token=successor)

    async def _token_exchange_grant(
        self, conn: Connection, request: TokenEndpointRequest, dpop: DpopProof
    ) -> TokenResponse:
        client, form = request.client, request.form
        if form.get("subject_token_type") != ID_TOKEN_TYPE:
            raise OAuthInvalidRequest(f"subject_token_type must be {ID_TOKEN_TYPE}")
        requested = form.get("requested_token_type")
        if requested not in (None, ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"):
            raise OAuthInvalidRequest("only access tokens are issued")
        audience = self._audience(client, form)
        if audience is None:
            raise OAuthInvalidTarget("name the audience with resource=")
        user_id = await subject_of_id_token(
            conn,
            form.get("subject_token", ""),
            client=client,
            providers=self._signin.providers,
            directory=self._signin.directory,
            now=self._clock(),
        )
        await self._token_limiter.hit(f"user:{user_id}", conn=conn)
        return await self._eligibility(
            conn, user_id=user_id, audience=audience, client=client, dpop_jkt=dpop.jkt
        )


_SUPPORTED_GRANTS = frozenset({DEVICE_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE})

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
