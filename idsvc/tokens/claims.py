"""The claim set lives with the verifier (``idsvc.verify.claims``): gateways and the
service share one definition of the contract. Re-exported here for the minting side."""

from idsvc.verify.claims import (
    MAX_TOKEN_LIFETIME,
    TOKEN_TYPE,
    Confirmation,
    EligibilityClaims,
    EligibilityHeader,
    OrgClaim,
    StatusClaim,
    StatusListReference,
)

__all__ = [
    "MAX_TOKEN_LIFETIME",
    "TOKEN_TYPE",
    "Confirmation",
    "EligibilityClaims",
    "EligibilityHeader",
    "OrgClaim",
    "StatusClaim",
    "StatusListReference",
]
