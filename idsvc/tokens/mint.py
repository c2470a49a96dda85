"""Minting eligibility tokens: the one place where the claim set is assembled and signed."""

from __future__ import annotations

import secrets
from datetime import datetime

import msgspec

from idsvc.jose.jws import sign_compact
from idsvc.keys.ring import SigningKey
from idsvc.verify.claims import (
    MAX_TOKEN_LIFETIME,
    TOKEN_TYPE,
    Confirmation,
    EligibilityClaims,
    OrgClaim,
    StatusClaim,
)

__all__ = ["MintedToken", "mint_eligibility_token"]

_encoder = msgspec.json.Encoder()


class MintedToken(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    claims: EligibilityClaims
    kid: str

    def __repr__(self) -> str:  # a token is a bearer credential: keep it out of logs
        return f"MintedToken(jti={self.claims.jti!r}, kid={self.kid!r})"


def mint_eligibility_token(
    *,
    signer: SigningKey,
    issuer: str,
    subject: str,
    audience: str,
    now: datetime,
    lifetime: int,
    entitlements: tuple[str, ...],
    assurance: str,
    policy_ref: str,
    org: OrgClaim | None = None,
    dpop_jkt: str | None = None,
    status: StatusClaim | None = None,
    jti: str | None = None,
) -> MintedToken:
    issued_at = int(now.timestamp())
    # Clamp rather than trust the caller: the hour bound is part of the external contract.
    lifetime = max(1, min(lifetime, MAX_TOKEN_LIFETIME))
    claims = EligibilityClaims(
        iss=issuer,
        sub=subject,
        aud=audience,
        iat=issued_at,
        nbf=issued_at,
        exp=issued_at + lifetime,
        jti=jti or secrets.token_urlsafe(16),
        entitlements=entitlements,
        assurance=assurance,
        pol=policy_ref,
        org=org,
        cnf=Confirmation(jkt=dpop_jkt) if dpop_jkt is not None else None,
        status=status,
    )
    header = {"alg": signer.alg, "kid": signer.kid, "typ": TOKEN_TYPE}
    token = sign_compact(header, _encoder.encode(claims), signer.private_key, signer.alg)
    return MintedToken(token=token, claims=claims, kid=signer.kid)
