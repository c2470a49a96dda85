"""Operator pages: keys, users and their attestations, policies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.attestations.status import user_status
from idsvc.attestations.store import (
    current_attestations,
    operator_reads_attestations,
    revoke_attestation,
)
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import operator_viewer, viewer
from idsvc.erasure.service import RetentionDuty, erase_person
from idsvc.errors import BadRequest, NotFound
from idsvc.http.pages import page
from idsvc.keys.rotation import rotate
from idsvc.keys.schedule import key_state
from idsvc.keys.store import select_keys
from idsvc.policy.decision import decide
from idsvc.policy.explain import explain
from idsvc.runtime import RuntimeDependency
from idsvc.screening.people import hits_of_person, override_person_hit
from idsvc.tokens.revocation import revoke_key_tokens
from idsvc.tokens.service import load_subject_facts

__all__ = ["operator_pages"]


@get("/", include_in_schema=False)
async def console_home(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Redirect:
    seen = await viewer(request, runtime)
    return Redirect("/console/orgs" if seen.operator else "/console/my-orgs", status_code=303)


# --- keys -------------------------------------------------------------------------------


class RotateForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    alg: Literal["ES256", "EdDSA", "RS256"]


class EmergencyForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    alg: Literal["ES256", "EdDSA", "RS256"]
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=500)]
    # The second confirmation: the operator types the kid of the key being dropped.
    confirm_kid: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


async def _keys_page(
    request: Request[Any, Any, Any], runtime: RuntimeDependency, **extra: Any
) -> Template:
    seen = await operator_viewer(request, runtime)
    now = runtime.clock()
    async with runtime.pool.acquire() as conn:
        keys = await select_keys(conn)
    ordered = sorted(keys, key=lambda k: k.activates_at, reverse=True)
    rows = [{"key": k, "state": key_state(k.times, now)} for k in ordered]
    current = {k.alg: k.kid for k in ordered if key_state(k.times, now) == "current"}
    return page(
        "console/keys.html",
        title="Signing keys",
        section="keys",
        status=extra.pop("status", 200),
        keys=rows,
        current=current,
        alg_options=[(a, a) for a in runtime.settings.config.keys.algorithms],
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        **extra,
        **seen.page_context(),
    )


@get("/keys", include_in_schema=False)
async def keys_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    return await _keys_page(request, runtime, done=request.query_params.get("done"))


@post("/keys/rotate", include_in_schema=False, status_code=303)
async def keys_rotate(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    form, errors = validate_form(RotateForm, await read_form(request, seen.session))
    if form is None:
        return await _keys_page(request, runtime, status=400, errors=errors)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await rotate(
            conn,
            alg=form.alg,
            now=runtime.clock(),
            policy=runtime.keys.policy,
            kek=runtime.keys.kek,
            actor=f"user:{seen.session.user_id}",
            revoke_tokens=revoke_key_tokens,
        )
    await runtime.keys.reload(runtime.pool)
    return Redirect("/console/keys?done=rotated", status_code=303)


@post("/keys/emergency", include_in_schema=False, status_code=303)
async def keys_emergency(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(EmergencyForm, data)
    if form is not None:
        async with runtime.pool.acquire() as conn:
            keys = await select_keys(conn)
        now = runtime.clock()
        current = [
            k.kid for k in keys if k.alg == form.alg and key_state(k.times, now) == "current"
        ]
        if form.confirm_kid not in current:
            errors = {"confirm_kid": "Type the kid of the current key exactly, to confirm."}
    if form is None or errors:
        return await _keys_page(request, runtime, status=400, errors=errors, values=data)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await rotate(
            conn,
            alg=form.alg,
            now=runtime.clock(),
            policy=runtime.keys.policy,
            kek=runtime.keys.kek,
            actor=f"user:{seen.session.user_id}",
            revoke_tokens=revoke_key_tokens,
            emergency=True,
            reason=form.reason,
        )
    await runtime.keys.reload(runtime.pool)
    return Redirect("/console/keys?done=emergency", status_code=303)


# --- users and attestations ------------------------------------------------------------

_FIND_USERS = """
SELECT id, email, display_name, status, created_at FROM users
WHERE ($1::uuid IS NOT NULL AND id = $1) OR ($2 <> '' AND lower(email) LIKE $2 || '%')
ORDER BY email NULLS LAST, id
LIMIT 50
"""
_USER = "SELECT id, email, display_name, status, created_at FROM users WHERE id = $1"


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str | None
    display_name: str | None
    status: str
    created_at: Any


@get("/users", include_in_schema=False)
async def users_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await operator_viewer(request, runtime)
    q = str(request.query_params.get("q", "")).strip()[:320]
    users: list[UserRow] = []
    if q:
        try:
            as_id: uuid.UUID | None = uuid.UUID(q)
        except ValueError:
            as_id = None
        pattern = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with runtime.pool.acquire() as conn:
            users = [
                msgspec.convert(dict(r), UserRow)
                for r in await conn.fetch(_FIND_USERS, as_id, pattern)
            ]
    return page(
        "console/users.html",
        title="Users",
        section="users",
        q=q,
        users=users,
        **seen.page_context(),
    )


class RevokeForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=500)]


async def _user_page(
    request: Request[Any, Any, Any], runtime: RuntimeDependency, user_id: uuid.UUID, **extra: Any
) -> Template:
    seen = await operator_viewer(request, runtime)
    async with runtime.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(_USER, user_id)
        if row is None:
            raise NotFound("no such user")
        attestations = await operator_reads_attestations(
            conn, user_id, operator=seen.session.user_id, now=runtime.clock()
        )
        facts = await load_subject_facts(conn, user_id)
        screened, person_hits = await hits_of_person(conn, user_id)
    now = runtime.clock()
    status = user_status(attestations, now)
    services = [
        {"audience": p.audience, "policy": p.ref, "needs": explain(p, decide(p, facts, now))}
        for p in runtime.policies.values()
    ]
    return page(
        "console/user.html",
        title="User",
        section="users",
        status=extra.pop("status", 200),
        user=msgspec.convert(dict(row), UserRow),
        attestations=attestations,
        views={v.id: v for v in status.attestations},
        services=services,
        screened=screened,
        person_hits=person_hits,
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        failed=extra.pop("failed", None),
        **seen.page_context(),
    )


@get("/users/{user_id:uuid}", include_in_schema=False)
async def user_page(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    return await _user_page(request, runtime, user_id)


@post(
    "/users/{user_id:uuid}/attestations/{attestation_id:uuid}/revoke",
    include_in_schema=False,
    status_code=303,
)
async def revoke_page(
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    attestation_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(RevokeForm, data)
    if form is None:
        return await _user_page(
            request,
            runtime,
            user_id,
            status=400,
            errors=errors,
            values=data,
            failed=str(attestation_id),
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        owned = {a.id for a in await current_attestations(conn, user_id)}
        if attestation_id not in owned:
            raise NotFound("no such attestation for this user")
        await revoke_attestation(
            conn,
            attestation_id,
            now=runtime.clock(),
            actor=f"user:{seen.session.user_id}",
            reason=form.reason,
        )
    return Redirect(f"/console/users/{user_id}", status_code=303)


class EraseForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=200)]
    confirm_id: Annotated[str, msgspec.Meta(max_length=64)]
    # Ticked: no retention duty applies (else a recently active person is refused).
    despite_retention: Literal["on"] | None = None


@post("/users/{user_id:uuid}/erase", include_in_schema=False, status_code=303)
async def erase_page(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    """Erasure from the console: the operator types the user id again to confirm."""
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(EraseForm, data)
    if form is not None and form.confirm_id.strip() != str(user_id):
        errors = {"confirm_id": "Type the user id exactly to confirm."}
        form = None
    if form is None:
        return await _user_page(
            request, runtime, user_id, status=400, errors=errors, values=data, failed="erase"
        )
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            period = runtime.settings.config.retention.period
            await erase_person(
                conn,
                user_id=user_id,
                reason=form.reason,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
                retention=None
                if form.despite_retention or not period
                else timedelta(seconds=period),
            )
    except (BadRequest, RetentionDuty) as exc:
        return await _user_page(
            request, runtime, user_id, status=400, errors={"reason": exc.detail},
            values=data, failed="erase",
        )  # fmt: skip
    return Redirect(f"/console/users/{user_id}?done=erased", status_code=303)


class HitOverrideForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


@post(
    "/users/{user_id:uuid}/screening-hits/{hit_id:uuid}/override",
    include_in_schema=False,
    status_code=303,
)
async def override_person_page(
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(HitOverrideForm, data)
    if form is None or len(form.justification.strip()) < 20:
        return await _user_page(
            request,
            runtime,
            user_id,
            status=400,
            errors=errors or {"justification": "explain the decision in at least 20 characters"},
            values=data,
            failed=str(hit_id),
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        await override_person_hit(
            conn,
            user_id=user_id,
            hit_id=hit_id,
            justification=form.justification.strip(),
            actor=f"user:{seen.session.user_id}",
            now=runtime.clock(),
            validity=timedelta(seconds=runtime.settings.config.screening.override_validity),
        )
    return Redirect(f"/console/users/{user_id}", status_code=303)


# --- policies ----------------------------------------------------------------------------


class CheckForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user: uuid.UUID
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


@get("/policies", include_in_schema=False)
async def policies_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await operator_viewer(request, runtime)
    raw = {k: str(v).strip() for k, v in request.query_params.items() if k in ("user", "audience")}
    result = None
    errors: dict[str, str] = {}
    if raw:
        form, errors = validate_form(CheckForm, raw)
        if form is not None and form.audience not in runtime.policies:
            errors = {"audience": "No policy protects that audience."}
        if form is not None and not errors:
            policy = runtime.policies[form.audience]
            async with runtime.pool.acquire() as conn:
                exists = await conn.fetchval(_USER, form.user)
                facts = await load_subject_facts(conn, form.user)
            if exists is None:
                errors = {"user": "No user has that id."}
            else:
                decision = decide(policy, facts, runtime.clock())
                result = {
                    "policy": policy.ref,
                    "decision": decision,
                    "explained": explain(policy, decision),
                }
    return page(
        "console/policies.html",
        title="Policies",
        section="policies",
        status=400 if errors else 200,
        policies=list(runtime.policies.values()),
        values=raw,
        errors=errors,
        result=result,
        **seen.page_context(),
    )


operator_pages = [
    console_home,
    keys_page,
    keys_rotate,
    keys_emergency,
    users_page,
    user_page,
    revoke_page,
    override_person_page,
    erase_page,
    policies_page,
]
