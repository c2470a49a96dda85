"""Offline verification of idsvc eligibility tokens, for gateways.

Depends only on ``cryptography``, ``msgspec`` and the standard library: importing it loads
nothing of the server. ::

    verifier = Verifier(issuer="https://id.example", audience="mythos-5",
                        jwks_url="https://id.example/.well-known/jwks.json")
    claims = verifier.verify(token, dpop_proof=proof, method="POST", url="https://api/...")
"""

from idsvc.verify.claims import (
    Confirmation,
    EligibilityClaims,
    OrgClaim,
    StatusClaim,
    StatusListReference,
)
from idsvc.verify.dpop import DPoPVerifier
from idsvc.verify.errors import (
    AlgorithmMismatch,
    BadSignature,
    DPoPBadKey,
    DPoPBadSignature,
    DPoPError,
    DPoPKeyMismatch,
    DPoPMalformed,
    DPoPReplayed,
    DPoPRequired,
    DPoPStale,
    DPoPWrongMethod,
    DPoPWrongTokenHash,
    DPoPWrongType,
    DPoPWrongUrl,
    EmbeddedKey,
    Expired,
    InvalidClaim,
    JWKSUnavailable,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    StatusUnavailable,
    TokenRevoked,
    TokenSuspended,
    TokenTooLarge,
    UnknownKey,
    UnsupportedCritical,
    VerificationError,
    WrongAudience,
    WrongIssuer,
    WrongType,
)
from idsvc.verify.verifier import StatusChecker, Verifier

__all__ = [
    "AlgorithmMismatch",
    "BadSignature",
    "Confirmation",
    "DPoPBadKey",
    "DPoPBadSignature",
    "DPoPError",
    "DPoPKeyMismatch",
    "DPoPMalformed",
    "DPoPReplayed",
    "DPoPRequired",
    "DPoPStale",
    "DPoPVerifier",
    "DPoPWrongMethod",
    "DPoPWrongTokenHash",
    "DPoPWrongType",
    "DPoPWrongUrl",
    "EligibilityClaims",
    "EmbeddedKey",
    "Expired",
    "InvalidClaim",
    "JWKSUnavailable",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "OrgClaim",
    "StatusChecker",
    "StatusClaim",
    "StatusListReference",
    "StatusUnavailable",
    "TokenRevoked",
    "TokenSuspended",
    "TokenTooLarge",
    "UnknownKey",
    "UnsupportedCritical",
    "VerificationError",
    "Verifier",
    "WrongAudience",
    "WrongIssuer",
    "WrongType",
]
