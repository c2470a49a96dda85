"""Browser routes for signing in through a provider, linking another provider's identity
to the signed-in account, signing out, and seeing one's own status.

The pages have no guard: a visitor who is not signed in is sent to the sign-in page rather
than refused, so they receive ``maybe_session`` and open their connection once they know
whom they serve. A sign-in and a link answer talk to the provider and audit a refusal
apart from the refused step, so their use cases take the ``database`` and open their own
transactions (:mod:`idsvc.oidc.service`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.accounts.guards import signed_in
from idsvc.accounts.sessions import (
    Session,
    csrf_token,
    csrf_valid,
    end_session,
    session_cookie_name,
)
from idsvc.accounts.users import get_user
from idsvc.attestations.reminders import set_expiry_reminders
from idsvc.attestations.status import user_status
from idsvc.attestations.store import counting_attestations
from idsvc.audit import record_event
from idsvc.db.database import Database
from idsvc.errors import CsrfFailed
from idsvc.evidence.ledger import load_subject_facts
from idsvc.http.inject import Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.oidc.errors import SignInRefused
from idsvc.oidc.guards import sign_in_budget
from idsvc.oidc.pages import link_adds, login_hint, refusal_response, safe_return_to
from idsvc.oidc.pending_links import LINK_LIFETIME, pending_link
from idsvc.oidc.service import LinkPending, SignInService, answer_link, audit_refusal
from idsvc.oidc.signin_cookie import (
    binding_cookie,
    browser_binding,
    cleared_binding_cookie,
    new_browser_binding,
    session_cookie,
)
from idsvc.oidc.transactions import TRANSACTION_LIFETIME
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

__all__ = ["routes"]

_REMINDERS = "SELECT expiry_reminders FROM users WHERE id = $1"


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/me")


@get("/login", include_in_schema=False)
async def login_page(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
) -> Template:
    return page(
        "login.html",
        title="Sign in",
        return_to=safe_return_to(request.query_params.get("return_to")),
        providers=list(signin.providers.values()),
        signed_in=maybe_session is not None,
        csrf_token=csrf_token(maybe_session) if maybe_session else "",
    )


@get("/login/{provider_id:str}", include_in_schema=False, guards=[sign_in_budget])
async def login_start(
    *,
    request: Request[Any, Any, Any],
    provider_id: FromPath[str],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    settings: Injected[Settings],
    database: Injected[Database],
) -> Response[Any]:
    binding = new_browser_binding()
    try:
        url = await signin.begin(
            database,
            provider_id[:40],
            link_user_id=maybe_session.user_id if maybe_session else None,
            return_to=safe_return_to(request.query_params.get("return_to")),
            browser_binding=binding,
            login_hint=login_hint(request.query_params.get("login_hint")),
        )
    except SignInRefused as refusal:
        status = 404 if refusal.reason == "unknown_provider" else 503
        return refusal_response(request, refusal, status=status)
    response: Response[Any] = Redirect(url, status_code=303)
    lifetime = int(TRANSACTION_LIFETIME.total_seconds())
    response.set_cookie(
        binding_cookie(binding, secure=settings.service.cookie_secure, max_age=lifetime)
    )
    return response


@get("/oidc/callback/{provider_id:str}", include_in_schema=False)
async def login_callback(
    *,
    request: Request[Any, Any, Any],
    provider_id: FromPath[str],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    settings: Injected[Settings],
    database: Injected[Database],
) -> Response[Any]:
    params = {
        k: v for k, v in request.query_params.items() if isinstance(v, str) and len(v) <= 2048
    }
    secure = settings.service.cookie_secure
    try:
        result = await signin.complete(
            database,
            provider_id[:40],
            params,
            browser_binding=browser_binding(request, secure=secure),
            signed_in_user=maybe_session.user_id if maybe_session else None,
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
        session_cookie(
            result.session_id,
            secure=secure,
            max_age=settings.service.session_absolute_lifetime,
        )
    )
    response.set_cookie(cleared_binding_cookie(secure=secure))
    return response


@post("/logout", include_in_schema=False, status_code=303)
async def logout(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    settings: Injected[Settings],
    database: Injected[Database],
    now: Now,
) -> Response[Any]:
    session = maybe_session
    if session is None:
        return Redirect("/login", status_code=303)
    # The form's field or, from a script, the header.
    form = await request.form()
    presented = form.get("csrf_token") or request.headers.get("x-csrf-token")
    if not csrf_valid(session, presented if isinstance(presented, str) else None):
        raise CsrfFailed("the form is stale or came from another site")
    secure = settings.service.cookie_secure
    cookie = request.cookies.get(session_cookie_name(secure), "")
    async with database.transaction() as conn:
        await end_session(conn, cookie, now=now)
        await record_event(
            conn,
            at=now,
            actor=f"user:{session.user_id}",
            action="session.ended",
            target=f"user:{session.user_id}",
        )
    response: Response[Any] = Redirect("/login", status_code=303)
    response.set_cookie(session_cookie("", secure=secure, max_age=0))
    return response


@get("/me", include_in_schema=False)
async def status_page(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    policies: Injected[dict[str, PolicySettings]],
    database: Injected[Database],
    settings: Injected[Settings],
    now: Now,
) -> Response[Any]:
    session = maybe_session
    if session is None:
        return Redirect("/login", status_code=303)
    async with database.connection() as conn:
        status = user_status(await counting_attestations(conn, session.user_id), now)
        facts = await load_subject_facts(
            conn, session.user_id, screening=settings.config.screening, now=now
        )
        reminders = await conn.fetchval(_REMINDERS, session.user_id)
    services = [
        {"audience": policy.audience, "needs": explain(policy, decide(policy, facts, now))}
        for policy in policies.values()
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
        providers=list(signin.providers.values()),
        expiry_reminders=bool(reminders),
        done=request.query_params.get("done"),
    )


@get("/v1/me", guards=[signed_in])
async def status_api(*, session: Injected[Session], conn: Transaction, now: Now) -> Response[Any]:
    status = user_status(await counting_attestations(conn, session.user_id), now)
    # The session's CSRF token, for scripts that then POST /v1/eligibility-tokens. Another
    # site can make a browser send this request but never read the answer (no CORS), so
    # the token is as safe here as in the pages' hidden inputs.
    body = {**msgspec.to_builtins(status), "csrf_token": csrf_token(session)}
    return Response(body, headers={"Cache-Control": "no-store"})


@post("/me/reminders", include_in_schema=False, status_code=303)
async def reminders_choice(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    database: Injected[Database],
    now: Now,
) -> Response[Any]:
    """The person's own choice: e-mail before a verification expires, or not."""
    session = maybe_session
    if session is None:
        return Redirect("/login", status_code=303)
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_valid(session, token if isinstance(token, str) else None):
        raise CsrfFailed("the form is stale or came from another site; reload the page")
    wanted = form.get("expiry_reminders") == "on"
    async with database.transaction() as conn:
        await set_expiry_reminders(conn, user_id=session.user_id, wanted=wanted, now=now)
    return Redirect("/me?done=reminders", status_code=303)


# Confirming a new identity for the signed-in account, in the browser that asked for it.
# The callback of a sign-in that a signed-in browser started does not link a new identity
# by itself: it sends the browser here, where the person sees whose identity it is and
# what it would add, and confirms or cancels with a POST carrying the session's CSRF
# token. Only the browser holding the sign-in's binding cookie, signed in to the same
# account, finds the pending link.


@get("/link", include_in_schema=False)
async def link_confirmation(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    settings: Injected[Settings],
    database: Injected[Database],
    now: Now,
) -> Response[Any]:
    session = maybe_session
    if session is None:
        return Redirect("/login", status_code=303)
    binding = browser_binding(request, secure=settings.service.cookie_secure)
    identity, account = None, None
    async with database.connection() as conn:
        if binding is not None:
            identity = await pending_link(
                conn, browser_binding=binding, user_id=session.user_id, now=now
            )
        account = await get_user(conn, session.user_id)
    if identity is None or account is None:
        return refusal_response(request, SignInRefused("link_expired"), status=404)
    provider = signin.providers.get(identity.provider)
    return page(
        "link.html",
        title="Link this identity to your account?",
        provider=provider.display_name if provider else identity.provider,
        identity_email=identity.email,
        # Named, so that a person tricked into someone else's session sees whose it is.
        account=account.email or account.display_name or str(account.id),
        identity_name=identity.display_name,
        adds=link_adds(identity.drafts),
        return_to=safe_return_to(request.query_params.get("return_to")),
        signed_in=True,
        csrf_token=csrf_token(session),
    )


@post("/link", include_in_schema=False, status_code=303)
async def link_answer(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    settings: Injected[Settings],
    database: Injected[Database],
    now: Now,
) -> Response[Any]:
    session = maybe_session
    if session is None:
        return Redirect("/login", status_code=303)
    form = await request.form()
    presented = form.get("csrf_token")
    if not csrf_valid(session, presented if isinstance(presented, str) else None):
        raise CsrfFailed("the form is stale or came from another site")
    secure = settings.service.cookie_secure
    binding = browser_binding(request, secure=secure)
    try:
        if binding is None:
            refusal = SignInRefused("link_expired", "no sign-in binding in this browser")
            await audit_refusal(database, "", refusal, actor=session.user_id, now=now)
            raise refusal
        await answer_link(
            database,
            browser_binding=binding,
            user_id=session.user_id,
            confirmed=form.get("decision") == "link",
            now=now,
            screening_threshold=settings.config.screening.threshold,
        )
    except SignInRefused as refusal:
        refused = refusal_response(request, refusal, status=400)
        refused.set_cookie(cleared_binding_cookie(secure=secure))
        return refused
    response: Response[Any] = Redirect(
        safe_return_to(form.get("return_to") if isinstance(form.get("return_to"), str) else None),
        status_code=303,
    )
    response.set_cookie(cleared_binding_cookie(secure=secure))
    return response


routes = [
    home,
    login_page,
    login_start,
    login_callback,
    logout,
    status_page,
    status_api,
    reminders_choice,
    link_confirmation,
    link_answer,
]
