"""What signing in as an account can refuse with: the shared classes from ``idsvc.errors``,
named here so the feature's errors are found in one place."""

from idsvc.errors import CsrfFailed, Forbidden, SignInRequired, Unauthenticated

__all__ = ["CsrfFailed", "Forbidden", "SignInRequired", "Unauthenticated"]
