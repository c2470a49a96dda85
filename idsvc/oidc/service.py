"""Sign-in through an upstream OpenID Connect provider (authorization code + PKCE S256),
and the answer to a link it asked the browser to confirm.

Defences, each against a named attack: ``state`` (CSRF on the callback, single use),
``nonce`` (ID-token replay and injection), PKCE (code interception), the RFC 9207 ``iss``
response parameter (mix-up between providers), exact redirect URIs, full ID-token
validation, and the userinfo ``sub`` equal to the ID token's (token substitution).
Every refusal is audited in its own transaction and creates no session, no user and no
attestation.

The use cases take the ``Database`` rather than a request's transaction: a sign-in talks
to the provider (discovery, the token exchange, userinfo) between its transactions, and
holds no connection while it waits; and a refused step is rolled back while its refusal,
audited apart, stays on record.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import msgspec
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from idsvc.accounts.addresses import AddressRefused, address_key
from idsvc.accounts.person_match import person_fingerprint
from idsvc.accounts.sessions import create_session, end_session
from idsvc.attestations.mapping import (
    EvidenceRefused,
    attestations_from_claims,
    names_outside_verification,
    verified_person,
)
from idsvc.audit import record_event
from idsvc.clock import Clock
from idsvc.config.providers import ProviderSettings
from idsvc.db.database import Database
from idsvc.oidc.attach import attach_identity, identity_owner
from idsvc.oidc.discovery import ProviderDirectory, ProviderUnavailable
from idsvc.oidc.errors import SignInRefused
from idsvc.oidc.id_token import IdTokenRejected, validate_id_token
from idsvc.oidc.linking import ask_to_link
from idsvc.oidc.pending_links import VerifiedIdentity, take_pending_link
from idsvc.oidc.transactions import (
    LoginTransaction,
    NotBound,
    consume_transaction,
    create_transaction,
)

__all__ = [
    "LinkPending",
    "SignInRefused",
    "SignInResult",
    "SignInService",
    "answer_link",
    "audit_refusal",
]

_DEFAULT_CLAIMS_REQUEST = {
    "userinfo": {
        "verified_claims": {
            "verification": {
                "trust_framework": None,
                "assurance_level": None,
                "time": None,
                "evidence": None,
            },
            "claims": {
                "nationalities": None,
                "permanent_residence_country": None,
                "us_person_basis": None,
                # Compared between an account's identities, never stored (person_match).
                "given_name": None,
                "family_name": None,
                "birthdate": None,
            },
        }
    }
}


# A nonce is remembered until its ID token expires; a second use is a replay.
_REMEMBER_NONCE = """
INSERT INTO seen_nonces (provider, nonce_hash, expires_at) VALUES ($1, $2, to_timestamp($3))
ON CONFLICT DO NOTHING RETURNING true
"""


class SignInResult(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    session_id: str
    return_to: str
    attestations: int


class LinkPending(msgspec.Struct, frozen=True, kw_only=True):
    """The sign-in brought back a new identity for the signed-in account: the browser is
    shown what would be linked and asked to confirm it."""

    return_to: str


class SignInService:
    def __init__(
        self,
        *,
        providers: tuple[ProviderSettings, ...],
        client_secrets: Mapping[str, str],
        issuer: str,
        clock: Clock,
        http: httpx.AsyncClient,
        session_lifetime: int,
        person_key: Callable[[], bytes],
        screening_threshold: float,
    ) -> None:
        self.providers = {p.id: p for p in providers}
        self.directory = ProviderDirectory(providers, http)
        self._secrets = client_secrets
        self._issuer = issuer.rstrip("/")
        self._clock = clock
        self._http = http
        self._session_lifetime = session_lifetime
        # Keys the MACs of verified names and birth dates (accounts.person_match).
        self._person_key = person_key
        self._screening_threshold = screening_threshold

    def redirect_uri(self, provider_id: str) -> str:
        return f"{self._issuer}/oidc/callback/{provider_id}"

    def _provider(self, provider_id: str) -> ProviderSettings:
        provider = self.providers.get(provider_id)
        if provider is None:
            raise SignInRefused("unknown_provider")
        return provider

    def _client(self, provider: ProviderSettings) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=self._secrets.get(provider.id),
            scope=" ".join(provider.scopes),
            redirect_uri=self.redirect_uri(provider.id),
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def begin(
        self,
        database: Database,
        provider_id: str,
        *,
        link_user_id: uuid.UUID | None,
        return_to: str,
        browser_binding: str,
        login_hint: str | None = None,
    ) -> str:
        """Start a sign-in bound to ``browser_binding`` (a random value the browser keeps in
        a cookie); returns the provider's authorization URL. ``login_hint`` (OpenID Connect
        Core §3.1.2.1) is passed on: who the person says they are, a hint and no more."""
        provider = self._provider(provider_id)
        try:
            metadata = await self.directory.metadata(provider)
        except ProviderUnavailable as exc:
            raise SignInRefused("provider_unavailable", str(exc)) from None
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        transaction = LoginTransaction(
            provider=provider.id,
            nonce=secrets.token_urlsafe(32),
            code_verifier=verifier,
            link_user_id=link_user_id,
            return_to=return_to,
        )
        now = self._clock()
        async with database.transaction() as conn:
            await create_transaction(
                conn,
                state=state,
                transaction=transaction,
                browser_binding=browser_binding,
                now=now,
            )
            await record_event(
                conn,
                at=now,
                actor=f"user:{link_user_id}" if link_user_id else "anonymous",
                action="signin.started",
                target=f"provider:{provider.id}",
            )
        params: dict[str, str] = {
            "nonce": transaction.nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if login_hint:
            params["login_hint"] = login_hint
        if set(provider.trusted_for) - {"sign_in"}:
            params["claims"] = msgspec.json.encode(
                provider.claims_request or _DEFAULT_CLAIMS_REQUEST
            ).decode()
        async with self._client(provider) as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint, state=state, **params
            )
        return str(url)

    async def complete(
        self,
        database: Database,
        provider_id: str,
        params: Mapping[str, str],
        *,
        browser_binding: str | None,
        signed_in_user: uuid.UUID | None,
        old_session: str | None,
    ) -> SignInResult | LinkPending:
        """Finish a sign-in from the callback's query parameters: a new session, or a link
        waiting for this browser's confirmation. Raises SignInRefused (already audited)."""
        try:
            return await self._complete(
                database,
                provider_id,
                params,
                browser_binding=browser_binding,
                signed_in_user=signed_in_user,
                old_session=old_session,
            )
        except SignInRefused as refusal:
            await audit_refusal(
                database, provider_id, refusal, actor=signed_in_user, now=self._clock()
            )
            raise

    async def _transaction(
        self,
        database: Database,
        provider: ProviderSettings,
        state: str,
        browser_binding: str | None,
    ) -> LoginTransaction:
        now = self._clock()
        try:
            async with database.connection() as conn:
                transaction = await consume_transaction(
                    conn,
                    state=state,
                    provider=provider.id,
                    browser_binding=browser_binding,
                    now=now,
                )
        except NotBound:
            # A live sign-in, but this browser did not start it: login CSRF, or a signed-in
            # person's sign-in completed by someone else. The sign-in is over: a response
            # that left its browser is not taken back there either (a relay).
            raise SignInRefused("state_not_bound", "the sign-in was started elsewhere") from None
        if transaction is None:
            raise SignInRefused("state_invalid", "unknown, used or expired state")
        return transaction

    async def _complete(
        self,
        database: Database,
        provider_id: str,
        params: Mapping[str, str],
        *,
        browser_binding: str | None,
        signed_in_user: uuid.UUID | None,
        old_session: str | None,
    ) -> SignInResult | LinkPending:
        provider = self._provider(provider_id)
        transaction = await self._transaction(
            database, provider, params.get("state", ""), browser_binding
        )
        link_to = transaction.link_user_id
        if link_to is not None and link_to != signed_in_user:
            # The browser signed out or changed account since it asked to link.
            raise SignInRefused("link_session_changed", "sign in again, then link")
        try:
            metadata = await self.directory.metadata(provider)
        except ProviderUnavailable as exc:
            raise SignInRefused("provider_unavailable", str(exc)) from None
        iss = params.get("iss")
        if iss is not None and iss != provider.issuer:
            raise SignInRefused("issuer_mismatch", "the response came from another issuer")
        if iss is None and metadata.authorization_response_iss_parameter_supported:
            raise SignInRefused("issuer_mismatch", "the iss response parameter is missing")
        if "error" in params:
            raise SignInRefused("provider_refused", params["error"][:64])
        code = params.get("code")
        if not code:
            raise SignInRefused("code_missing")
        claims, access_token = await self._exchange(provider, metadata, code, transaction)
        claims = await self._with_userinfo(provider, metadata, claims, access_token)
        identity = self._verified_identity(provider, claims)
        now = self._clock()
        async with database.transaction() as conn:
            nonce_hash = hashlib.sha256(transaction.nonce.encode()).digest()
            fresh = await conn.fetchval(
                _REMEMBER_NONCE,
                provider.id,
                nonce_hash,
                float(claims.get("exp", now.timestamp())),
            )
            if not fresh:
                raise SignInRefused("nonce_replayed")
            if link_to is not None:
                owner = await identity_owner(conn, provider=provider.id, subject=identity.subject)
                if owner is not None and owner != link_to:
                    # The identity already belongs to someone else: never move it silently.
                    raise SignInRefused("identity_in_use")
                if owner is None:
                    assert browser_binding is not None  # the transaction was bound to it
                    await ask_to_link(
                        conn,
                        identity,
                        user_id=link_to,
                        browser_binding=browser_binding,
                        now=now,
                    )
                    return LinkPending(return_to=transaction.return_to)
            user, count = await attach_identity(
                conn,
                identity,
                link_to=link_to,
                now=now,
                screening_threshold=self._screening_threshold,
            )
            if old_session:
                # Rotate: the pre-sign-in session id (possibly planted) is never reused.
                await end_session(conn, old_session, now=now)
            session_id = await create_session(
                conn, user_id=user.id, now=now, absolute_lifetime=self._session_lifetime
            )
            await record_event(
                conn,
                at=now,
                actor=f"user:{user.id}",
                action="signin.succeeded",
                target=f"provider:{provider.id}",
                data={"attestations": count},
            )
        return SignInResult(
            user_id=user.id,
            session_id=session_id,
            return_to=transaction.return_to,
            attestations=count,
        )

    def _verified_identity(
        self, provider: ProviderSettings, claims: dict[str, Any]
    ) -> VerifiedIdentity:
        try:
            drafts = attestations_from_claims(claims, provider, now=self._clock())
        except EvidenceRefused as exc:
            raise SignInRefused(exc.reason, exc.detail) from None
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        if email is not None:
            # The address claims memberships and joins organisations by its key: one that
            # differs from its plain form only invisibly (a Kelvin sign for K, a zero-width
            # space) would pass for someone else's. Refused, verified or not: it would
            # also be shown as the account's address.
            try:
                address_key(email)
            except AddressRefused as exc:
                raise SignInRefused("email_not_plain", f"email: {exc.reason}") from None
        name = claims.get("name")
        person = verified_person(claims, provider)
        return VerifiedIdentity(
            provider=provider.id,
            subject=str(claims["sub"]),
            email=email,
            email_verified=claims.get("email_verified") is True,
            display_name=name if isinstance(name, str) else None,
            drafts=tuple(drafts),
            person=person_fingerprint(
                self._person_key(),
                given_name=person.given_name,
                family_name=person.family_name,
                birthdate=person.birthdate,
            ),
            verified_name=" ".join(p for p in (person.given_name, person.family_name) if p) or None,
            verified_birthdate=person.birthdate,
            other_names=names_outside_verification(claims),
        )

    async def _exchange(
        self, provider: ProviderSettings, metadata: Any, code: str, transaction: LoginTransaction
    ) -> tuple[dict[str, Any], str]:
        async with self._client(provider) as client:
            try:
                token = await client.fetch_token(
                    metadata.token_endpoint,
                    code=code,
                    code_verifier=transaction.code_verifier,
                    redirect_uri=self.redirect_uri(provider.id),
                )
            except Exception as exc:  # Authlib raises several types for a refused exchange
                raise SignInRefused("token_exchange_failed", type(exc).__name__) from None
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInRefused("token_exchange_failed", "no id_token or access_token")

        async def jwks(refresh: bool) -> dict[str, object]:
            return await self.directory.jwks(provider, refresh=refresh)

        try:
            claims = await validate_id_token(
                id_token,
                jwks=jwks,
                algorithms=provider.id_token_algorithms,
                issuer=provider.issuer,
                client_id=provider.client_id,
                nonce=transaction.nonce,
                access_token=access_token,
                now=self._clock(),
            )
        except (IdTokenRejected, ProviderUnavailable) as exc:
            raise SignInRefused("id_token_invalid", str(exc)) from None
        return claims, access_token

    async def _with_userinfo(
        self, provider: ProviderSettings, metadata: Any, claims: dict[str, Any], access_token: str
    ) -> dict[str, Any]:
        if provider.claims.source == "id_token" or not metadata.userinfo_endpoint:
            return claims
        try:
            response = await self._http.get(
                metadata.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
            )
            userinfo = msgspec.json.decode(response.content, type=dict[str, Any])
        except (httpx.HTTPError, msgspec.DecodeError, RecursionError):
            raise SignInRefused("userinfo_failed") from None
        if response.status_code != 200:
            raise SignInRefused("userinfo_failed", f"status {response.status_code}")
        if userinfo.get("sub") != claims["sub"]:
            raise SignInRefused("userinfo_subject_mismatch")
        if provider.claims.source == "userinfo":
            return {**userinfo, "sub": claims["sub"], "exp": claims.get("exp")}
        return {**claims, **userinfo}


async def answer_link(
    database: Database,
    *,
    browser_binding: str,
    user_id: uuid.UUID,
    confirmed: bool,
    now: datetime,
    screening_threshold: float,
) -> int:
    """Link (or drop) the identity this browser's sign-in brought back; returns how many
    attestations were recorded. Raises SignInRefused (already audited)."""
    async with database.transaction() as conn:
        # Taken in its own transaction: each pending link is answered once, even when
        # linking it is then refused.
        identity = await take_pending_link(
            conn, browser_binding=browser_binding, user_id=user_id, now=now
        )
        if identity is not None and not confirmed:
            await record_event(
                conn,
                at=now,
                actor=f"user:{user_id}",
                action="identity.link_cancelled",
                target=f"user:{user_id}",
                data={"provider": identity.provider},
            )
    if identity is None:
        refusal = SignInRefused("link_expired", "no pending link for this browser")
        await audit_refusal(database, "", refusal, actor=user_id, now=now)
        raise refusal
    if not confirmed:
        return 0
    try:
        async with database.transaction() as conn:
            _, count = await attach_identity(
                conn,
                identity,
                link_to=user_id,
                now=now,
                screening_threshold=screening_threshold,
            )
    except SignInRefused as refusal:
        await audit_refusal(database, identity.provider, refusal, actor=user_id, now=now)
        raise
    return count


async def audit_refusal(
    database: Database,
    provider_id: str,
    refusal: SignInRefused,
    *,
    actor: uuid.UUID | None,
    now: datetime,
) -> None:
    """Record a refusal in its own transaction: whatever the refused step wrote was rolled
    back with it, and the refusal itself must stay on record."""
    async with database.transaction() as conn:
        await record_event(
            conn,
            at=now,
            actor=f"user:{actor}" if actor else "anonymous",
            action="signin.refused",
            target=f"provider:{provider_id[:40]}",
            data={"reason": refusal.reason, "detail": refusal.detail[:200]},
        )
