"""The last-admin rule over SCIM (issue 24): a SCIM client can neither make an address nobody
has signed in with an admin, nor take away the last admin who has signed in — by deleting,
deactivating or replacing the User, or by changing an admin Group — even when an unclaimed
admin address is there to "take over"."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.scim import GROUP, PATCH, USER, Orgs, bearer, claim, new_token
from tests.support.signin import Caller, call, session_caller

Client = AsyncTestClient[Litestar]
OUTSIDER = "mallory@evil.example"


async def _user(client: Client, token: str, email: str) -> str:
    created = await client.post(
        "/scim/v2/Users",
        json={"schemas": [USER], "userName": email, "active": True},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _as(client: Client, caller: Caller, method: str, url: str, body: object) -> Any:
    """One request as an org admin (session and CSRF header); SCIM's calls carry no cookie."""
    try:
        return await call(client, caller, method, url, body)
    finally:
        client.cookies.clear()


async def _admin_group(client: Client, token: str, admin: Caller, org: uuid.UUID) -> str:
    """A Group the provider pushed, given the admin role by an org admin."""
    created = await client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "idsvc-admins"},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    group = str(created.json()["id"])
    chosen = await _as(
        client, admin, "PUT", f"/v1/orgs/{org}/scim-groups/{group}/role", {"role": "admin"}
    )
    assert chosen.status_code == 200, chosen.text
    return group


async def _patch_group(client: Client, token: str, group: str, operation: Any) -> Any:
    return await client.patch(
        f"/scim/v2/Groups/{group}",
        json={"schemas": [PATCH], "Operations": [operation]},
        headers=bearer(token),
    )


async def _membership(pool: db.Pool, org: uuid.UUID, user_id: uuid.UUID) -> str:
    return str(
        await pool.fetchval(
            "SELECT id FROM memberships WHERE org_id = $1 AND user_id = $2", org, user_id
        )
    )


async def _import_admin(client: Client, admin: Caller, org: uuid.UUID, email: str) -> None:
    """An org admin's CSV import makes ``email`` an admin: a membership nobody has claimed."""
    client.cookies.update(admin.cookies)
    try:
        imported = await client.post(
            f"/v1/orgs/{org}/members:import",
            content=f"email,role\n{email},admin\n",
            headers={**admin.headers, "content-type": "text/csv"},
        )
    finally:
        client.cookies.clear()
    assert imported.status_code == 200, imported.text


async def _state(pool: db.Pool, membership: str) -> tuple[str, str]:
    row = await pool.fetchrow(
        "SELECT role, status FROM memberships WHERE id = $1", uuid.UUID(membership)
    )
    return row["role"], row["status"]


def _refused(response: Any, status: int, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type


async def test_a_scim_client_cannot_hand_the_organisation_to_an_unclaimed_address(
    client: Client, orgs: Orgs, pool: db.Pool, clock: FakeClock
) -> None:
    """The reported attack: with an admin group, make an outside address nobody has signed
    in with an admin, then delete the only admin who has signed in (it answered 204)."""
    token = await new_token(client, orgs.admin, orgs.ours)
    group = await _admin_group(client, token, orgs.admin, orgs.ours)
    outsider = await _user(client, token, OUTSIDER)
    before = await pool.fetchval("SELECT count(*) FROM audit_events")

    joined = await _patch_group(
        client, token, group, {"op": "add", "path": "members", "value": [{"value": outsider}]}
    )
    _refused(joined, 400, "mutability")
    assert outsider in joined.json()["detail"]
    replaced = await client.put(
        f"/scim/v2/Groups/{group}",
        json={"schemas": [GROUP], "displayName": "idsvc-admins", "members": [{"value": outsider}]},
        headers=bearer(token),
    )
    _refused(replaced, 400, "mutability")
    admin = await _membership(pool, orgs.ours, orgs.admin.user_id)
    deleted = await client.delete(f"/scim/v2/Users/{admin}", headers=bearer(token))
    _refused(deleted, 409)

    # Nothing changed: the outsider is a plain member outside the group, the admin stays.
    assert await _state(pool, outsider) == ("member", "active")
    assert await _state(pool, admin) == ("admin", "active")
    group_now = await client.get(f"/scim/v2/Groups/{group}", headers=bearer(token))
    assert "members" not in group_now.json()
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before

    # Once the person behind the address has signed in, the same push makes them an admin.
    await claim(pool, clock(), OUTSIDER)
    joined = await _patch_group(
        client, token, group, {"op": "add", "path": "members", "value": [{"value": outsider}]}
    )
    assert joined.status_code == 200, joined.text
    assert await _state(pool, outsider) == ("admin", "active")


async def test_an_unclaimed_admin_does_not_count_as_the_last_admin(
    client: Client, orgs: Orgs, pool: db.Pool
) -> None:
    """However an address nobody has signed in with became an admin (here an org admin's CSV
    import), the admin who has signed in is still the last one: SCIM can neither delete
    them nor deactivate them (by PATCH or PUT)."""
    token = await new_token(client, orgs.admin, orgs.ours)
    outsider = await _user(client, token, OUTSIDER)
    await _import_admin(client, orgs.admin, orgs.ours, OUTSIDER)
    assert await _state(pool, outsider) == ("admin", "active")
    admin = await _membership(pool, orgs.ours, orgs.admin.user_id)
    before = await pool.fetchval("SELECT count(*) FROM audit_events")

    deleted = await client.delete(f"/scim/v2/Users/{admin}", headers=bearer(token))
    _refused(deleted, 409)
    assert "Acme Analytics" in deleted.json()["detail"]
    deactivated = await client.patch(
        f"/scim/v2/Users/{admin}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
        headers=bearer(token),
    )
    _refused(deactivated, 409)
    replaced = await client.put(
        f"/scim/v2/Users/{admin}",
        json={"schemas": [USER], "userName": "admin@acme.example", "active": False},
        headers=bearer(token),
    )
    _refused(replaced, 409)
    assert await _state(pool, admin) == ("admin", "active")
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before

    # The unclaimed admin itself may go: it never counted.
    gone = await client.delete(f"/scim/v2/Users/{outsider}", headers=bearer(token))
    assert gone.status_code == 204


async def test_an_admin_group_cannot_take_away_the_last_admin_who_signed_in(
    client: Client, orgs: Orgs, pool: db.Pool, clock: FakeClock
) -> None:
    """Ann, who signed in, is an admin through the admin group and the only admin who has
    signed in; an unclaimed admin address exists. Taking her out of the group, replacing
    the group's members, deleting the group or taking its role away is refused."""
    token = await new_token(client, orgs.admin, orgs.ours)
    group = await _admin_group(client, token, orgs.admin, orgs.ours)
    ann = await _user(client, token, "ann@acme.example")
    ann_user = await claim(pool, clock(), "ann@acme.example")
    added = await _patch_group(
        client, token, group, {"op": "add", "path": "members", "value": [{"value": ann}]}
    )
    assert added.status_code == 200, added.text
    assert await _state(pool, ann) == ("admin", "active")
    await _user(client, token, OUTSIDER)
    await _import_admin(client, orgs.admin, orgs.ours, OUTSIDER)
    # The first admin steps down: Ann counts, so this is allowed.
    first = await _membership(pool, orgs.ours, orgs.admin.user_id)
    stepped_down = await _as(
        client, orgs.admin, "POST", f"/v1/orgs/{orgs.ours}/members/{first}/role", {"role": "member"}
    )
    assert stepped_down.status_code == 200, stepped_down.text
    before = await pool.fetchval("SELECT count(*) FROM audit_events")

    _refused(
        await _patch_group(
            client, token, group, {"op": "remove", "path": f'members[value eq "{ann}"]'}
        ),
        409,
    )
    _refused(
        await _patch_group(
            client, token, group, {"op": "remove", "path": "members", "value": [{"value": ann}]}
        ),
        409,
    )
    _refused(
        await client.put(
            f"/scim/v2/Groups/{group}",
            json={"schemas": [GROUP], "displayName": "idsvc-admins", "members": []},
            headers=bearer(token),
        ),
        409,
    )
    _refused(await client.delete(f"/scim/v2/Groups/{group}", headers=bearer(token)), 409)
    # Nor can Ann herself take the role off the group (REST: an RFC 9457 problem).
    ann_caller = await session_caller(pool, clock(), user_id=ann_user)
    cleared = await _as(
        client, ann_caller, "PUT", f"/v1/orgs/{orgs.ours}/scim-groups/{group}/role", {"role": None}
    )
    assert cleared.status_code == 409, cleared.text
    assert cleared.json()["type"] == "urn:idsvc:problem:last_admin"

    assert await _state(pool, ann) == ("admin", "active")
    kept = await client.get(f"/scim/v2/Groups/{group}", headers=bearer(token))
    assert {m["value"] for m in kept.json()["members"]} == {ann}
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_an_admin_cannot_give_the_admin_role_to_a_group_holding_an_unclaimed_user(
    client: Client, orgs: Orgs, pool: db.Pool
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    outsider = await _user(client, token, OUTSIDER)
    created = await client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "owners", "members": [{"value": outsider}]},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    group = created.json()["id"]
    chosen = await _as(
        client,
        orgs.admin,
        "PUT",
        f"/v1/orgs/{orgs.ours}/scim-groups/{group}/role",
        {"role": "admin"},
    )
    assert chosen.status_code == 400, chosen.text
    assert chosen.json()["type"] == "urn:idsvc:problem:mutability"
    assert await _state(pool, outsider) == ("member", "active")
    assert (
        await pool.fetchval("SELECT role FROM scim_groups WHERE id = $1", uuid.UUID(group)) is None
    )
