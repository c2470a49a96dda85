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
from idsvc.console.operator.users.errors import (
    BadRequest,
    LastAdmin,
    RetentionDuty,
    UnderLegalHold,
)
from idsvc.console.operator.users.service import (
    UserRow,
    erase_user,
    find_users,
    revoke_user_attestation,
    user_view,
)
from idsvc.db import Connection
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
        **viewer.page_context(),
    )


@get("/users/{user_id:uuid}", include_in_schema=False, guards=[operator_viewer])
async def user_page(
    *,
    user_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    policies: Injected[dict[str, PolicySettings]],
    screening: Injected[ScreeningSettings],
    conn: Transaction,
    now: Now,
) -> Template:
    return await _user_page(
        conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening
    )


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
        # A savepoint: a refused erasure leaves nothing of itself, and the page that
        # explains the refusal is still written in the request's transaction.
        async with conn.transaction():
            await erase_user(
                conn,
                user_id=user_id,
                reason=form.reason,
                actor=actor,
                now=now,
                retention_period=settings.config.retention.period,
                despite_retention=bool(form.despite_retention),
            )
    except (BadRequest, RetentionDuty, LastAdmin, UnderLegalHold) as exc:
        return await _user_page(
            conn, user_id, viewer=viewer, now=now, policies=policies, screening=screening,
            status=400, errors={"reason": exc.detail}, values=data, failed="erase",
        )  # fmt: skip
    return Redirect(f"/console/users/{user_id}?done=erased", status_code=303)


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
    await override_person_hit(
        conn,
        user_id=user_id,
        hit_id=hit_id,
        justification=form.justification.strip(),
        actor=actor,
        now=now,
        validity=timedelta(seconds=settings.config.screening.override_validity),
    )
    return Redirect(f"/console/users/{user_id}", status_code=303)


routes = [users_page, user_page, revoke_page, override_person_page, erase_page]
