"""Browser routes for signing in, signing out, and seeing one's own status."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.accounts.sessions import (
    SESSION_COOKIE,
    csrf_token,
    csrf_valid,
    end_session,
)
from idsvc.attestations.status import user_status
from idsvc.attestations.store import current_attestations
from idsvc.audit import record_event
from idsvc.errors import Forbidden, Unauthenticated
from idsvc.oidc.signin import SignInRefused
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.tokens.issuance import load_subject_facts
from idsvc.web.auth import current_session
from idsvc.web.pages import page

__all__ = ["signin_routes"]

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
}
_DEFAULT_REFUSAL = (
    "Sign-in failed",
    "We could not verify the response from the identity provider.",
    "Start again; if it keeps failing, contact support with the reference below.",
)


def _safe_return_to(value: str | None) -> str:
    # Only local paths: an absolute URL here would make sign-in an open redirect.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:200]
    return "/me"


def _cookie(runtime: Runtime, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
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
        return_to=_safe_return_to(request.query_params.get("return_to")),
        providers=list(runtime.signin.providers.values()),
        signed_in=session is not None,
        csrf_token=csrf_token(session) if session else "",
    )


@get("/login/{provider_id:str}", include_in_schema=False)
async def login_start(
    request: Request[Any, Any, Any], provider_id: FromPath[str], runtime: RuntimeDependency
) -> Response[Any]:
    runtime.signin_limiter.hit(request.client.host if request.client else "unknown")
    session = await current_session(request, runtime)
    try:
        url = await runtime.signin.begin(
            runtime.pool,
            provider_id[:40],
            link_user_id=session.user_id if session else None,
            return_to=_safe_return_to(request.query_params.get("return_to")),
        )
    except SignInRefused as refusal:
        return _refusal_page(refusal, status=404 if refusal.reason == "unknown_provider" else 503)
    return Redirect(url, status_code=303)


@get("/oidc/callback/{provider_id:str}", include_in_schema=False)
async def login_callback(
    request: Request[Any, Any, Any], provider_id: FromPath[str], runtime: RuntimeDependency
) -> Response[Any]:
    params = {
        k: v for k, v in request.query_params.items() if isinstance(v, str) and len(v) <= 2048
    }
    try:
        result = await runtime.signin.complete(
            runtime.pool, provider_id[:40], params, old_session=request.cookies.get(SESSION_COOKIE)
        )
    except SignInRefused as refusal:
        return _refusal_page(refusal, status=400)
    response: Response[Any] = Redirect(_safe_return_to(result.return_to), status_code=303)
    response.set_cookie(
        _cookie(
            runtime, result.session_id, max_age=runtime.settings.service.session_absolute_lifetime
        )
    )
    return response


def _refusal_page(refusal: SignInRefused, *, status: int) -> Template:
    title, message, advice = _REFUSALS.get(refusal.reason, _DEFAULT_REFUSAL)
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
        raise Forbidden("the form is stale or came from another site", code="csrf_failed")
    cookie = request.cookies.get(SESSION_COOKIE, "")
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


@get("/me", include_in_schema=False)
async def status_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    now = runtime.clock()
    async with runtime.pool.acquire() as conn:
        status = user_status(await current_attestations(conn, session.user_id), now)
        facts = await load_subject_facts(conn, session.user_id)
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
    )


@get("/v1/me")
async def status_api(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        raise Unauthenticated("sign in first")
    async with runtime.pool.acquire() as conn:
        status = user_status(await current_attestations(conn, session.user_id), runtime.clock())
    return Response(status, headers={"Cache-Control": "no-store"})


signin_routes = [home, login_page, login_start, login_callback, logout, status_page, status_api]
