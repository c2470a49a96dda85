"""What the sign-in pages show and accept: the page (or problem) for a refused sign-in,
the local path a sign-in may return to, the login hint passed on to a provider, and what
a pending link would add to the account."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from idsvc.attestations.mapping import AttestationDraft
from idsvc.http.pages import page
from idsvc.http.problems import problem_response
from idsvc.oidc.errors import SignInRefused

__all__ = ["link_adds", "login_hint", "refusal_response", "safe_return_to"]

# What a person can do about each refusal; the reason code itself is shown as a reference.
_REFUSALS = {
    "provider_refused": (
        "Sign-in was cancelled or refused",
        "The identity provider did not sign you in.",
        "Try again, or choose another provider.",
    ),
    "evidence_expired": (
        "Your verification is too old",
        "The provider's identity verification is older than we accept.",
        "Renew your verification with the provider, then sign in again.",
    ),
    "assurance_unknown": (
        "Verification level not accepted",
        "The provider reported a verification level we do not accept.",
        "Verify your identity at a higher level with the provider, or choose another provider.",
    ),
    "unknown_country_code": (
        "Nationality not recognised",
        "The provider sent a nationality code that does not exist.",
        "Contact the provider's support; nothing was recorded.",
    ),
    "trust_framework_not_accepted": (
        "Verification not accepted",
        "The provider verified you under a framework we do not accept.",
        "Choose another provider.",
    ),
    "state_invalid": (
        "This sign-in link has expired",
        "The sign-in took too long or was already used.",
        "Start again.",
    ),
    "state_not_bound": (
        "This sign-in was started in another browser",
        "A sign-in can only be finished in the browser that started it. If someone sent you "
        "this link, do not use it: it could sign you in as them, or link your identity to "
        "their account.",
        "Start your own sign-in from this browser.",
    ),
    "link_session_changed": (
        "You signed out or changed account",
        "The account you were linking to is no longer signed in here.",
        "Sign in, then add the provider again from your status page.",
    ),
    "link_expired": (
        "Nothing to link",
        "There is no identity waiting to be linked in this browser, or it waited too long.",
        "Add the provider again from your status page.",
    ),
    "person_mismatch": (
        "That identity names another person",
        "The provider verified a different name or date of birth than your account's other "
        "identities. An identity can only be linked to its own person's account.",
        "If this is a mistake, contact support with the reference below.",
    ),
    "email_not_plain": (
        "Your e-mail address cannot be used",
        "The provider sent an e-mail address with invisible characters or look-alike "
        "letters (such as a Kelvin sign for K), which could pass for someone else's.",
        "Change the address at the provider to its plain form, then sign in again.",
    ),
    "identity_in_use": (
        "That identity belongs to another account",
        "The identity you signed in with is already linked to a different account.",
        "Sign out and sign in with that identity instead.",
    ),
}
_DEFAULT_REFUSAL = (
    "Sign-in failed",
    "We could not verify the response from the identity provider.",
    "Start again; if it keeps failing, contact support with the reference below.",
)


def safe_return_to(value: str | None) -> str:
    # Only local paths: an absolute URL here would make sign-in an open redirect.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:200]
    return "/me"


_KIND_LABELS = {
    "nationalities": "Nationalities",
    "permanent_residency": "Lawful permanent residence",
    "us_person_basis": "U.S.-person basis",
}


def login_hint(value: object) -> str | None:
    """An e-mail address or a user name, passed to the provider; anything else is dropped."""
    if not isinstance(value, str) or not 0 < len(value) <= 254 or not value.isprintable():
        return None
    return value


def refusal_response(
    request: Request[Any, Any, Any], refusal: SignInRefused, *, status: int
) -> Response[Any]:
    """A page for a browser that asks for HTML; an RFC 9457 problem for anything else."""
    title, message, advice = _REFUSALS.get(refusal.reason, _DEFAULT_REFUSAL)
    if "text/html" not in request.headers.get("accept", ""):
        return problem_response(
            status=status,
            code=refusal.reason,
            title=title,
            detail=message,
            request=request,
            reason=refusal.reason,
        )
    return page(
        "error.html",
        title=title,
        status=status,
        message=message,
        advice=advice,
        reason=refusal.reason,
        signed_in=False,
        csrf_token="",
    )


def link_adds(drafts: tuple[AttestationDraft, ...]) -> list[dict[str, str]]:
    """What linking the identity would add, as the confirmation page lists it."""
    return [
        {
            "label": _KIND_LABELS.get(d.kind, d.kind),
            "value": ", ".join(d.values),
            "assurance": d.assurance,
        }
        for d in drafts
    ]
