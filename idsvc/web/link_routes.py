"""Confirming a new identity for the signed-in account, in the browser that asked for it.

The callback of a sign-in that a signed-in browser started does not link a new identity by
itself: it sends the browser here, where the person sees whose identity it is and what it
would add, and confirms or cancels with a POST carrying the session's CSRF token. Only the
browser holding the sign-in's binding cookie, signed in to the same account, finds the
pending link.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from idsvc.accounts.session_guard import current_session
from idsvc.accounts.sessions import csrf_token, csrf_valid
from idsvc.accounts.users import get_user
from idsvc.attestations.mapping import AttestationDraft
from idsvc.errors import CsrfFailed
from idsvc.http.pages import page
from idsvc.oidc.linking import answer_link
from idsvc.oidc.pending_links import pending_link
from idsvc.oidc.refusal import SignInRefused, audit_refusal
from idsvc.runtime import RuntimeDependency
from idsvc.web.signin_cookie import browser_binding, cleared_binding_cookie
from idsvc.web.signin_routes import refusal_response, safe_return_to

__all__ = ["link_routes"]

_KIND_LABELS = {
    "nationalities": "Nationalities",
    "permanent_residency": "Lawful permanent residence",
    "us_person_basis": "U.S.-person basis",
}


def _adds(drafts: tuple[AttestationDraft, ...]) -> list[dict[str, str]]:
    return [
        {
            "label": _KIND_LABELS.get(d.kind, d.kind),
            "value": ", ".join(d.values),
            "assurance": d.assurance,
        }
        for d in drafts
    ]


@get("/link", include_in_schema=False)
async def link_confirmation(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    binding = browser_binding(request, secure=runtime.settings.service.cookie_secure)
    identity, account = None, None
    async with runtime.pool.acquire() as conn:
        if binding is not None:
            identity = await pending_link(
                conn, browser_binding=binding, user_id=session.user_id, now=runtime.clock()
            )
        account = await get_user(conn, session.user_id)
    if identity is None or account is None:
        return refusal_response(request, SignInRefused("link_expired"), status=404)
    provider = runtime.signin.providers.get(identity.provider)
    return page(
        "link.html",
        title="Link this identity to your account?",
        provider=provider.display_name if provider else identity.provider,
        identity_email=identity.email,
        # Named, so that a person tricked into someone else's session sees whose it is.
        account=account.email or account.display_name or str(account.id),
        identity_name=identity.display_name,
        adds=_adds(identity.drafts),
        return_to=safe_return_to(request.query_params.get("return_to")),
        signed_in=True,
        csrf_token=csrf_token(session),
    )


@post("/link", include_in_schema=False, status_code=303)
async def link_answer(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    session = await current_session(request, runtime)
    if session is None:
        return Redirect("/login", status_code=303)
    form = await request.form()
    presented = form.get("csrf_token")
    if not csrf_valid(session, presented if isinstance(presented, str) else None):
        raise CsrfFailed("the form is stale or came from another site")
    secure = runtime.settings.service.cookie_secure
    binding = browser_binding(request, secure=secure)
    try:
        if binding is None:
            refusal = SignInRefused("link_expired", "no sign-in binding in this browser")
            await audit_refusal(
                runtime.pool, "", refusal, actor=session.user_id, now=runtime.clock()
            )
            raise refusal
        await answer_link(
            runtime.pool,
            browser_binding=binding,
            user_id=session.user_id,
            confirmed=form.get("decision") == "link",
            now=runtime.clock(),
            screening_threshold=runtime.settings.config.screening.threshold,
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


link_routes = [link_confirmation, link_answer]
