"""Browser routes for signing in, signing out, and seeing one's own status."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.accounts.session_guard import current_session
from idsvc.accounts.sessions import (
    csrf_token,
    csrf_valid,
    end_session,
    session_cookie_name,
)
from idsvc.attestations.reminders import set_expiry_reminders
from idsvc.attestations.status import user_status
from idsvc.attestations.store import current_attestations
from idsvc.audit import record_event
from idsvc.errors import CsrfFailed, Unauthenticated
from idsvc.http.pages import page
from idsvc.http.problems import problem_response
from idsvc.oidc.pending_links import LINK_LIFETIME
from idsvc.oidc.signin import LinkPending, SignInRefused
from idsvc.oidc.transactions import TRANSACTION_LIFETIME
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.tokens.service import load_subject_facts
from idsvc.web.signin_cookie import (
    binding_cookie,
    browser_binding,
    cleared_binding_cookie,
    new_browser_binding,
)

__all__ = ["refusal_response", "safe_return_to", "signin_routes"]

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


def _cookie(runtime: Runtime, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=session_cookie_name(runtime.settings.service.cookie_secure),
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.service.cookie_secure,
    )


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/me")


@get("/login", include_in_schema=False)
async def login_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    session = await current_session(request, runtime)
    return page(
        "login.html",
        title="Sign in",
        return_to=safe_return_to(request.query_params.get("return_to")),
        providers=list(runtime.signin.providers.values()),
        signed_in=session is not None,
        csrf_token=csrf_token(session) if session else "",
    )


def _login_hint(value: object) -> str | None:
    """An e-mail address or a user name, passed to the provider; anything else is dropped."""
    if not isinstance(value, str) or not 0 < len(value) <= 254 or not value.isprintable():
        return None
    return value


@get("/login/{provider_id:str}", include_in_schema=False)
async def login_start(
    request: Request[Any, Any, Any], provider_id: FromPath[str], runtime: RuntimeDependency
) -> Response[Any]:
    await runtime.signin_limiter.hit(request.client.host if request.client else "unknown")
    session = await current_session(request, runtime)
    binding = new_browser_binding()
    try:
        url = await runtime.signin.begin(
            runtime.pool,
            provider_id[:40],
            link_user_id=session.user_id if session else None,
            return_to=safe_return_to(request.query_params.get("return_to")),
            browser_binding=binding,
            login_hint=_login_hint(request.query_params.get("login_hint")),
        )
    except SignInRefused as refusal:
        status = 404 if refusal.reason == "unknown_provider" else 503
        return refusal_response(request, refusal, status=status)
    response: Response[Any] = Redirect(url, status_code=303)
    lifetime = int(TRANSACTION_LIFETIME.total_seconds())
    response.set_cookie(
        binding_cookie(binding, secure=runtime.settings.service.cookie_secure, max_age=lifetime)
    )
    return response


@get("/oidc/callback/{provider_id:str}", include_in_schema=False)
async def login_callback(
    request: Request[Any, Any, Any], provider_id: FromPath[str], runtime: RuntimeDependency
) -> Response[Any]:
    params = {
        k: v for k, v in request.query_params.items() if isinstance(v, str) and len(v) <= 2048
    }
    session = await current_session(request, runtime)
    secure = runtime.settings.service.cookie_secure
    try:
        result = await runtime.signin.complete(
            runtime.pool,
            provider_id[:40],
            params,
            browser_binding=browser_binding(request, secure=secure),
            signed_in_user=session.user_id if session else None,
            old_session=request.cookies.get(session_cookie_name(secure)),
        )
    except SignInRefused as refusal:
        response = refusal_response(request, refusal, status=400)
        if refusal.reason not in ("state_not_bound", "state_invalid"):
            # This browser's own sign-in is over. A callback that was not its own (another
            # browser's, or junk any site can make it open) must not end a sign-in or a
            # link this browser has under way.
            response.set_cookie(cleared_binding_cookie(secure=secure))
        return response
    if isinstance(result, LinkPending):
        # The binding cookie stays: it is what finds the pending link, for this browser only.
        confirm = f"/link?return_to={quote(safe_return_to(result.return_to))}"
        pending: Response[Any] = Redirect(confirm, status_code=303)
        lifetime = int(LINK_LIFETIME.total_seconds())
        pending.set_cookie(
            binding_cookie(
                browser_binding(request, secure=secure) or "", secure=secure, max_age=lifetime
            )
        )
        return pending
    response = Redirect(safe_return_to(result.return_to), status_code=303)
    response.set_cookie(
        _cookie(
            runtime, result.session_id, max_age=runtime.settings.service.session_absolute_lifetime
        )
    )
    response.set_cookie(cleared_binding_cookie(secure=secure))
    return response


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


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    form = await request.form()
    presented = form.get("csrf_token") or request.headers.get("x-csrf-token")
    if not csrf_valid(session, presented if isinstance(presented, str) else None):
        raise CsrfFailed("the form is stale or came from another site")
    cookie = request.cookies.get(session_cookie_name(runtime.settings.service.cookie_secure), "")
    async with runtime.pool.acquire() as conn, conn.transaction():
        await end_session(conn, cookie, now=runtime.clock())
        await record_event(
            conn,
            at=runtime.clock(),
            actor=f"user:{session.user_id}",
            action="session.ended",
            target=f"user:{session.user_id}",
        )
    response: Response[Any] = Redirect("/login", status_code=303)
    response.set_cookie(_cookie(runtime, "", max_age=0))
    return response


_REMINDERS = "SELECT expiry_reminders FROM users WHERE id = $1"


@get("/me", include_in_schema=False)
async def status_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    now = runtime.clock()
    async with runtime.pool.acquire() as conn:
        status = user_status(await current_attestations(conn, session.user_id), now)
        facts = await load_subject_facts(conn, session.user_id)
        reminders = await conn.fetchval(_REMINDERS, session.user_id)
    services = [
        {"audience": policy.audience, "needs": explain(policy, decide(policy, facts, now))}
        for policy in runtime.policies.values()
    ]
    return page(
        "me.html",
        services=services,
        title="Your status",
        signed_in=True,
        csrf_token=csrf_token(session),
        us_person=status.us_person,
        attestations=status.attestations,
        missing=status.missing,
        providers=list(runtime.signin.providers.values()),
        expiry_reminders=bool(reminders),
        done=request.query_params.get("done"),
    )


@get("/v1/me")
async def status_api(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        raise Unauthenticated("sign in first")
    async with runtime.pool.acquire() as conn:
        status = user_status(await current_attestations(conn, session.user_id), runtime.clock())
    # The session's CSRF token, for scripts that then POST /v1/eligibility-tokens. Another
    # site can make a browser send this request but never read the answer (no CORS), so
    # the token is as safe here as in the pages' hidden inputs.
    body = {**msgspec.to_builtins(status), "csrf_token": csrf_token(session)}
    return Response(body, headers={"Cache-Control": "no-store"})


@post("/me/reminders", include_in_schema=False, status_code=303)
async def reminders_choice(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    """The person's own choice: e-mail before a verification expires, or not."""
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_valid(session, token if isinstance(token, str) else None):
        raise CsrfFailed("the form is stale or came from another site; reload the page")
    wanted = form.get("expiry_reminders") == "on"
    async with runtime.pool.acquire() as conn, conn.transaction():
        await set_expiry_reminders(
            conn, user_id=session.user_id, wanted=wanted, now=runtime.clock()
        )
    return Redirect("/me?done=reminders", status_code=303)


signin_routes = [
    home,
    login_page,
    login_start,
    login_callback,
    logout,
    status_page,
    status_api,
    reminders_choice,
]
