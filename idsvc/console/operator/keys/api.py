"""Operator pages for the signing keys: ``/console/keys``, rotation and emergency rotation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from idsvc.console.forms import FormErrors, read_form, validate_form
from idsvc.console.guard import Viewer, form_csrf, operator_viewer
from idsvc.console.operator.keys.service import current_kids, key_overview, rotate_keys
from idsvc.db import Connection
from idsvc.db.database import Database
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.keys.service import KeyService
from idsvc.settings import Settings

__all__ = ["routes"]


class RotateForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    alg: Literal["ES256", "EdDSA", "RS256"]


class EmergencyForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    alg: Literal["ES256", "EdDSA", "RS256"]
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=500)]
    # The second confirmation: the operator types the kid of the key being dropped.
    confirm_kid: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


async def _keys_page(
    conn: Connection,
    *,
    viewer: Viewer,
    settings: Settings,
    now: datetime,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
) -> Template:
    overview = await key_overview(conn, now)
    return page(
        "console/keys.html",
        title="Signing keys",
        section="keys",
        status=status,
        keys=overview.rows,
        current=overview.current,
        alg_options=[(a, a) for a in settings.config.keys.algorithms],
        errors=errors or {},
        values=values or {},
        done=done,
        **viewer.page_context(),
    )


@get("/keys", include_in_schema=False, guards=[operator_viewer])
async def keys_page(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
) -> Template:
    return await _keys_page(
        conn, viewer=viewer, settings=settings, now=now, done=request.query_params.get("done")
    )


# The rotations below open their transactions themselves: the key ring reloads from the
# committed rows, so the rotation must commit before the reload, and the reload before the
# answer (the next page shows the new key).


@post("/keys/rotate", include_in_schema=False, status_code=303, guards=[operator_viewer, form_csrf])
async def keys_rotate(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    keys: Injected[KeyService],
    database: Injected[Database],
    actor: Actor,
    now: Now,
) -> Response[Any]:
    form, errors = validate_form(RotateForm, await read_form(request))
    if form is None:
        async with database.connection() as conn:
            return await _keys_page(
                conn, viewer=viewer, settings=settings, now=now, status=400, errors=errors
            )
    async with database.transaction() as conn:
        await rotate_keys(conn, keys, alg=form.alg, now=now, actor=actor)
    await keys.reload(database.pool)
    return Redirect("/console/keys?done=rotated", status_code=303)


@post(
    "/keys/emergency", include_in_schema=False, status_code=303, guards=[operator_viewer, form_csrf]
)
async def keys_emergency(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    keys: Injected[KeyService],
    database: Injected[Database],
    actor: Actor,
    now: Now,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(EmergencyForm, data)
    if form is not None:
        async with database.connection() as conn:
            current = await current_kids(conn, form.alg, now)
        if form.confirm_kid not in current:
            errors = {"confirm_kid": "Type the kid of the current key exactly, to confirm."}
    if form is None or errors:
        async with database.connection() as conn:
            return await _keys_page(
                conn,
                viewer=viewer,
                settings=settings,
                now=now,
                status=400,
                errors=errors,
                values=data,
            )
    async with database.transaction() as conn:
        await rotate_keys(
            conn, keys, alg=form.alg, now=now, actor=actor, emergency=True, reason=form.reason
        )
    await keys.reload(database.pool)
    return Redirect("/console/keys?done=emergency", status_code=303)


routes = [keys_page, keys_rotate, keys_emergency]
