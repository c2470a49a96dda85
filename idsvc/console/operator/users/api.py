"""Operator pages for people: ``/console/users`` (search), one person's page, and its
forms (revoke an attestation, override a screening hit, erase the person)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.forms import FormErrors, read_form, validate_form
from idsvc.console.guard import Viewer, form_csrf, operator_viewer
from idsvc.console.operator.users.service import (
    UserRow,
    erase_user,
    find_users,
    reinstate_user_attestation,
    revoke_user_attestation,
    user_view,
)
from idsvc.db import Connection, keeping_refusals
from idsvc.erasure.service import LastAdmin, RetentionDuty, UnderLegalHold
from idsvc.errors import BadRequest, Conflict, Forbidden
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.policy.model import PolicySettings
from idsvc.screening.service import override_person_hit
from idsvc.settings import ScreeningSettings, Settings

__all__ = ["routes"]

_OPERATOR_FORM = [operator_viewer, form_csrf]


@get("/users", include_in_schema=False, guards=[operator_viewer])
async def users_page(
    *, request: Request[Any, Any, Any], viewer: Injected[Viewer], conn: Transaction
) -> Template:
    q = str(request.query_params.get("q", "")).strip()[:320]
    users: list[UserRow] = await find_users(conn, q) if q else []
    return page(
        "console/users.html",
        title="Users",
        section="users",
        q=q,
        users=users,
        **viewer.page_context(),
    )


class RevokeForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=500)]


async def _user_page(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    viewer: Viewer,
    now: datetime,
    policies: dict[str, PolicySettings],
    screening: ScreeningSettings,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    failed: str | None = None,
    notice: str | None = None,
) -> Template:
    view = await user_view(
        conn,
        user_id,
        operator=viewer.session.user_id,
        now=now,
        policies=policies,
        screening=screening,
    )
    return page(
        "console/user.html",
        title="User",
        section="users",
        status=status,
        user=view.user,
        attestations=view.attestations,
        views=view.views,
        services=view.services,
        screened=view.screened,
        person_hits=view.person_hits,
        errors=errors or {},
        values=values or {},
        failed=failed,
        notice=notice if notice in _NOTICES else None,
        **viewer.page_context(),
    )


# What a form's redirect may say on the page (?done=...): nothing else is echoed.
_NOTICES = frozenset({"proposed", "erased", "overridden", "revoked", "reinstated"})


@get("/users/{user_id:uuid}", include_in_schema=False, guards=[operator_viewer])
async def user_page(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    conn: Transaction,
    now: Now,
) -> Template:
    return await _user_page(
        conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
        notice=request.query_params.get("done"),
    )  # fmt: skip


@post(
    "/users/{user_id:uuid}/attestations/{attestation_id:uuid}/revoke",
    include_in_schema=False,
    status_code=303,
    guards=_OPERATOR_FORM,
)
async def revoke_page(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    attestation_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(RevokeForm, data)
    if form is None:
        return await _user_page(
            conn,
            user_id,
            viewer=viewer,
            now=now,
            policies=policies,
            screening=screening,
            status=400,
            errors=errors,
            values=data,
            failed=str(attestation_id),
        )
    await revoke_user_attestation(
        conn,
        user_id=user_id,
        attestation_id=attestation_id,
        now=now,
        actor=actor,
        reason=form.reason,
    )
    return Redirect(f"/console/users/{user_id}", status_code=303)


@post(
    "/users/{user_id:uuid}/attestations/{attestation_id:uuid}/reinstate",
    include_in_schema=False,
    status_code=303,
    guards=_OPERATOR_FORM,
)
async def reinstate_page(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    attestation_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    """Reverse a revocation made in error: proposed here, approved by another operator (here
    or under Decisions)."""
    data = await read_form(request)
    form, errors = validate_form(RevokeForm, data)
    if form is not None:
        try:
            async with keeping_refusals(conn):
                decided = await reinstate_user_attestation(
                    conn, user_id=user_id, attestation_id=attestation_id, actor=actor,
                    reason=form.reason, now=now, rule=four_eyes,
                )  # fmt: skip
        except (Conflict, Forbidden) as exc:
            errors = {"reason": exc.detail}
        else:
            done = "proposed" if decided is not None else "reinstated"
            return Redirect(f"/console/users/{user_id}?done={done}", status_code=303)
    return await _user_page(
        conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
        status=409 if form is not None else 400, errors=errors, values=data,
        failed=str(attestation_id),
    )  # fmt: skip


class EraseForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=200)]
    confirm_id: Annotated[str, msgspec.Meta(max_length=64)]
    # Ticked: no retention duty applies (else a recently active person is refused).
    despite_retention: Literal["on"] | None = None


@post(
    "/users/{user_id:uuid}/erase",
    include_in_schema=False,
    status_code=303,
    guards=_OPERATOR_FORM,
)
async def erase_page(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    """Erasure from the console: the operator types the user id again to confirm."""
    data = await read_form(request)
    form, errors = validate_form(EraseForm, data)
    if form is not None and form.confirm_id.strip() != str(user_id):
        errors = {"confirm_id": "Type the user id exactly to confirm."}
        form = None
    if form is None:
        return await _user_page(
            conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
            status=400, errors=errors, values=data, failed="erase",
        )  # fmt: skip
    try:
        # A savepoint: a refused erasure leaves nothing of itself but the audit event of a
        # refusal that is audited (four eyes), and the page that explains the refusal is
        # still written in the request's transaction.
        async with keeping_refusals(conn):
            decided = await erase_user(
                conn,
                user_id=user_id,
                reason=form.reason,
                actor=actor,
                now=now,
                retention_period=settings.config.retention.period,
                despite_retention=bool(form.despite_retention),
                rule=four_eyes,
            )
    except (BadRequest, RetentionDuty, LastAdmin, UnderLegalHold, Conflict, Forbidden) as exc:
        return await _user_page(
            conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
            status=400, errors={"reason": exc.detail}, values=data, failed="erase",
        )  # fmt: skip
    done = "proposed" if isinstance(decided, Proposed) else "erased"
    return Redirect(f"/console/users/{user_id}?done={done}", status_code=303)


class HitOverrideForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


@post(
    "/users/{user_id:uuid}/screening-hits/{hit_id:uuid}/override",
    include_in_schema=False,
    status_code=303,
    guards=_OPERATOR_FORM,
)
async def override_person_page(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(HitOverrideForm, data)
    if form is None or len(form.justification.strip()) < 20:
        return await _user_page(
            conn,
            user_id,
            viewer=viewer,
            now=now,
            policies=policies,
            screening=screening,
            status=400,
            errors=errors or {"justification": "explain the decision in at least 20 characters"},
            values=data,
            failed=str(hit_id),
        )
    try:
        async with keeping_refusals(conn):
            decided = await override_person_hit(
                conn, user_id=user_id, hit_id=hit_id, justification=form.justification.strip(),
                actor=actor, now=now, rule=four_eyes,
                validity=timedelta(seconds=settings.config.screening.override_validity),
            )  # fmt: skip
    except (Conflict, Forbidden) as exc:
        return await _user_page(
            conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
            status=exc.status, errors={"justification": exc.detail}, values=data,
            failed=str(hit_id),
        )  # fmt: skip
    if isinstance(decided, Proposed):
        return Redirect(f"/console/users/{user_id}?done=proposed", status_code=303)
    return Redirect(f"/console/users/{user_id}?done=overridden", status_code=303)


routes = [
    users_page,
    user_page,
    revoke_page,
    reinstate_page,
    override_person_page,
    erase_page,
]
