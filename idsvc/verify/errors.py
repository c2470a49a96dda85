"""Why a token was refused. Each class has a stable ``code``; none mentions HTTP.

::

    VerificationError
    ├── TokenTooLarge              token_too_large
    ├── MalformedToken             malformed
    ├── AlgorithmMismatch          algorithm_mismatch
    ├── UnknownKey                 unknown_key
    ├── EmbeddedKey                embedded_key
    ├── WrongType                  wrong_type
    ├── UnsupportedCritical        unsupported_critical_header
    ├── BadSignature               bad_signature
    ├── WrongIssuer                wrong_issuer
    ├── WrongAudience              wrong_audience
    ├── MissingClaim               missing_claim
    ├── InvalidClaim               invalid_claim
    ├── Expired                    expired
    ├── NotYetValid                not_yet_valid
    ├── TokenRevoked               revoked
    ├── TokenSuspended             suspended
    ├── JWKSUnavailable            jwks_unavailable
    ├── StatusUnavailable          status_unavailable
    └── DPoPError                  dpop_invalid
        ├── DPoPRequired           dpop_required
        ├── DPoPMalformed          dpop_malformed
        ├── DPoPWrongType          dpop_wrong_type
        ├── DPoPBadKey             dpop_bad_key
        ├── DPoPKeyMismatch        dpop_key_mismatch
        ├── DPoPBadSignature       dpop_bad_signature
        ├── DPoPWrongMethod        dpop_wrong_method
        ├── DPoPWrongUrl           dpop_wrong_url
        ├── DPoPStale              dpop_stale
        ├── DPoPWrongTokenHash     dpop_wrong_ath
        ├── DPoPReplayed           dpop_replayed
        └── DPoPNonceRequired      use_dpop_nonce
"""

from __future__ import annotations

__all__ = [
    "AlgorithmMismatch",
    "BadSignature",
    "DPoPBadKey",
    "DPoPBadSignature",
    "DPoPError",
    "DPoPKeyMismatch",
    "DPoPMalformed",
    "DPoPNonceRequired",
    "DPoPReplayed",
    "DPoPRequired",
    "DPoPStale",
    "DPoPWrongMethod",
    "DPoPWrongTokenHash",
    "DPoPWrongType",
    "DPoPWrongUrl",
    "EmbeddedKey",
    "Expired",
    "InvalidClaim",
    "JWKSUnavailable",
    "MalformedToken",
    "MissingClaim",
    "NotYetValid",
    "StatusUnavailable",
    "TokenRevoked",
    "TokenSuspended",
    "TokenTooLarge",
    "UnknownKey",
    "UnsupportedCritical",
    "VerificationError",
    "WrongAudience",
    "WrongIssuer",
    "WrongType",
]


class VerificationError(Exception):
    """The token (or its DPoP proof) is not acceptable."""

    code = "invalid_token"

    def __init__(self, reason: str = "") -> None:
        super().__init__(f"{self.code}: {reason}" if reason else self.code)
        self.reason = reason


class TokenTooLarge(VerificationError):
    code = "token_too_large"


class MalformedToken(VerificationError):
    code = "malformed"


class AlgorithmMismatch(VerificationError):
    code = "algorithm_mismatch"


class UnknownKey(VerificationError):
    code = "unknown_key"


class EmbeddedKey(VerificationError):
    code = "embedded_key"


class WrongType(VerificationError):
    code = "wrong_type"


class UnsupportedCritical(VerificationError):
    code = "unsupported_critical_header"


class BadSignature(VerificationError):
    code = "bad_signature"


class WrongIssuer(VerificationError):
    code = "wrong_issuer"


class WrongAudience(VerificationError):
    code = "wrong_audience"


class MissingClaim(VerificationError):
    code = "missing_claim"


class InvalidClaim(VerificationError):
    code = "invalid_claim"


class Expired(VerificationError):
    code = "expired"


class NotYetValid(VerificationError):
    code = "not_yet_valid"


class TokenRevoked(VerificationError):
    code = "revoked"


class TokenSuspended(VerificationError):
    code = "suspended"


class JWKSUnavailable(VerificationError):
    code = "jwks_unavailable"


class StatusUnavailable(VerificationError):
    code = "status_unavailable"


class DPoPError(VerificationError):
    code = "dpop_invalid"


class DPoPRequired(DPoPError):
    code = "dpop_required"


class DPoPMalformed(DPoPError):
    code = "dpop_malformed"


class DPoPWrongType(DPoPError):
    code = "dpop_wrong_type"


class DPoPBadKey(DPoPError):
    code = "dpop_bad_key"


class DPoPKeyMismatch(DPoPError):
    code = "dpop_key_mismatch"


class DPoPBadSignature(DPoPError):
    code = "dpop_bad_signature"


class DPoPWrongMethod(DPoPError):
    code = "dpop_wrong_method"


class DPoPWrongUrl(DPoPError):
    code = "dpop_wrong_url"


class DPoPStale(DPoPError):
    code = "dpop_stale"


class DPoPWrongTokenHash(DPoPError):
    code = "dpop_wrong_ath"


class DPoPReplayed(DPoPError):
    code = "dpop_replayed"


class DPoPNonceRequired(DPoPError):
    """RFC 9449 §8: the server wants a proof carrying its current nonce."""

    code = "use_dpop_nonce"
