"""What issuing an eligibility token can refuse with. These codes are shared with the OAuth
token endpoint (which answers them in its own format), so the classes live in
``idsvc.errors``; they are named here so the feature's errors are found in one place."""

from idsvc.errors import AccessDenied, InvalidDpopProof, InvalidTarget, RateLimited

__all__ = ["AccessDenied", "InvalidDpopProof", "InvalidTarget", "RateLimited"]
