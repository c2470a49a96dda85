"""SCIM Groups in the request shapes Okta and Microsoft Entra send, the role an org admin
gives a group (its members become admins while they are in it), and another
organisation's tokens and admins trying this organisation's groups."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.scim import GROUP, PATCH, SCIM, USER, Orgs, bearer, claim, new_token

Client = AsyncTestClient[Litestar]


async def _user(client: Client, token: str, email: str) -> str:
    created = await client.post(
        "/scim/v2/Users",
        json={"schemas": [USER], "userName": email, "active": True},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _patch(client: Client, token: str, group: str, *operations: Any) -> Any:
    return await client.patch(
        f"/scim/v2/Groups/{group}",
        json={"schemas": [PATCH], "Operations": list(operations)},
        headers=bearer(token),
    )


def _members(response: Any) -> set[str]:
    return {m["value"] for m in response.json().get("members", [])}


async def _role(pool: db.Pool, membership: str) -> str:
    return str(
        await pool.fetchval("SELECT role FROM memberships WHERE id = $1", uuid.UUID(membership))
    )


async def _admin_sets_role(
    client: Client, orgs: Orgs, org: uuid.UUID, group: str, role: str | None
) -> Any:
    client.cookies.clear()
    client.cookies.update(orgs.admin.cookies)
    try:
        return await client.put(
            f"/v1/orgs/{org}/scim-groups/{group}/role",
            json={"role": role},
            headers=orgs.admin.headers,
        )
    finally:
        client.cookies.clear()


async def test_okta_pushes_a_group_and_its_members(
    client: Client, orgs: Orgs, pool: db.Pool
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    ann, bob = (
        await _user(client, token, "ann@acme.example"),
        await _user(client, token, "bob@acme.example"),
    )
    created = await client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "Engineering", "members": []},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith(SCIM)
    group = created.json()["id"]
    assert created.headers["location"].endswith(f"/scim/v2/Groups/{group}")
    # Okta looks the group up by name, then pushes membership changes.
    found = await client.get(
        "/scim/v2/Groups",
        params={"filter": 'displayName eq "engineering"'},
        headers=bearer(token),
    )
    assert [g["id"] for g in found.json()["Resources"]] == [group]
    added = await _patch(
        client,
        token,
        group,
        {"op": "add", "path": "members", "value": [{"value": ann, "display": "ann@acme.example"}]},
        {"op": "add", "path": "members", "value": [{"value": bob}]},
    )
    assert added.status_code == 200, added.text
    assert _members(added) == {ann, bob}
    removed = await _patch(
        client, token, group, {"op": "remove", "path": f'members[value eq "{bob}"]'}
    )
    assert _members(removed) == {ann}
    renamed = await _patch(
        client, token, group, {"op": "replace", "value": {"id": group, "displayName": "Eng"}}
    )
    assert renamed.json()["displayName"] == "Eng"
    assert _members(renamed) == {ann}
    duplicate = await client.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "ENG"}, headers=bearer(token)
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["scimType"] == "uniqueness"
    # Deleting a User takes it out of its groups.
    assert (await client.delete(f"/scim/v2/Users/{ann}", headers=bearer(token))).status_code == 204
    after = await client.get(f"/scim/v2/Groups/{group}", headers=bearer(token))
    assert _members(after) == set()
    assert (
        await client.delete(f"/scim/v2/Groups/{group}", headers=bearer(token))
    ).status_code == 204
    assert (await client.get(f"/scim/v2/Groups/{group}", headers=bearer(token))).status_code == 404
    actions = [
        r["action"]
        for r in await pool.fetch(
            "SELECT action FROM audit_events WHERE action LIKE 'scim.group.%' ORDER BY seq"
        )
    ]
    assert actions[0] == "scim.group.created"
    assert actions[-1] == "scim.group.deleted"
    assert actions.count("scim.group.updated") == 3


async def test_entra_adds_and_removes_members_with_value_lists(client: Client, orgs: Orgs) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    ann, bob = (
        await _user(client, token, "ann@acme.example"),
        await _user(client, token, "bob@acme.example"),
    )
    created = await client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "Finance", "externalId": "8aa1a0c0"},
        headers=bearer(token),
    )
    group = created.json()["id"]
    added = await _patch(
        client,
        token,
        group,
        {"op": "Add", "path": "members", "value": [{"value": ann}, {"value": bob}]},
    )
    assert _members(added) == {ann, bob}
    removed = await _patch(
        client, token, group, {"op": "Remove", "path": "members", "value": [{"value": ann}]}
    )
    assert _members(removed) == {bob}
    renamed = await _patch(
        client, token, group, {"op": "Replace", "path": "displayName", "value": "Fin"}
    )
    assert renamed.json()["displayName"] == "Fin"
    assert renamed.json()["externalId"] == "8aa1a0c0"
    # Entra's own search by externalId, and the POST form of search.
    searched = await client.post(
        "/scim/v2/Groups/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'externalId eq "8aa1a0c0"',
            "attributes": ["displayName"],
        },
        headers=bearer(token),
    )
    assert searched.status_code == 200, searched.text
    assert searched.json()["Resources"] == [{"schemas": [GROUP], "id": group, "displayName": "Fin"}]


async def test_an_admin_group_makes_its_members_admins_while_they_are_in_it(
    client: Client, orgs: Orgs, pool: db.Pool, clock: FakeClock
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    ann, bob = (
        await _user(client, token, "ann@acme.example"),
        await _user(client, token, "bob@acme.example"),
    )
    # Both have signed in: a group gives the admin role to nobody else (test_scim_admins).
    await claim(pool, clock(), "ann@acme.example")
    await claim(pool, clock(), "bob@acme.example")
    group = (
        await client.post(
            "/scim/v2/Groups",
            json={"schemas": [GROUP], "displayName": "idsvc-admins", "members": [{"value": ann}]},
            headers=bearer(token),
        )
    ).json()["id"]
    assert await _role(pool, ann) == "member"  # no role until an org admin gives one
    chosen = await _admin_sets_role(client, orgs, orgs.ours, group, "admin")
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["role"] == "admin"
    assert chosen.json()["member_count"] == 1
    assert await _role(pool, ann) == "admin"
    await _patch(client, token, group, {"op": "add", "path": "members", "value": [{"value": bob}]})
    assert await _role(pool, bob) == "admin"
    await _patch(client, token, group, {"op": "remove", "path": f'members[value eq "{bob}"]'})
    assert await _role(pool, bob) == "member"
    # A second admin group still holds ann when the first lets her go.
    other = (
        await client.post(
            "/scim/v2/Groups",
            json={"schemas": [GROUP], "displayName": "owners", "members": [{"value": ann}]},
            headers=bearer(token),
        )
    ).json()["id"]
    await _admin_sets_role(client, orgs, orgs.ours, other, "admin")
    assert (
        await client.delete(f"/scim/v2/Groups/{group}", headers=bearer(token))
    ).status_code == 204
    assert await _role(pool, ann) == "admin"
    cleared = await _admin_sets_role(client, orgs, orgs.ours, other, None)
    assert cleared.json()["role"] is None
    assert await _role(pool, ann) == "member"
    changes = await pool.fetch(
        "SELECT actor, data FROM audit_events WHERE action = 'org.member.role_changed' ORDER BY seq"
    )
    assert len(changes) == 4
    assert changes[0]["actor"] == f"user:{orgs.admin.user_id}"  # the admin's choice
    assert changes[1]["actor"].startswith("scim:")  # the provider's push
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'scim.group.role_set'"
        )
        == 3
    )


async def test_another_organisation_cannot_reach_our_groups(
    client: Client, orgs: Orgs, pool: db.Pool
) -> None:
    ours = await new_token(client, orgs.admin, orgs.ours)
    theirs = await new_token(client, orgs.their_admin, orgs.theirs)
    ann = await _user(client, ours, "ann@acme.example")
    group = (
        await client.post(
            "/scim/v2/Groups",
            json={"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": ann}]},
            headers=bearer(ours),
        )
    ).json()["id"]
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    assert (await client.get(f"/scim/v2/Groups/{group}", headers=bearer(theirs))).status_code == 404
    listed = await client.get("/scim/v2/Groups", headers=bearer(theirs))
    assert listed.json()["totalResults"] == 0
    for attempt in (
        client.put(
            f"/scim/v2/Groups/{group}",
            json={"schemas": [GROUP], "displayName": "Mine"},
            headers=bearer(theirs),
        ),
        client.patch(
            f"/scim/v2/Groups/{group}",
            json={"schemas": [PATCH], "Operations": [{"op": "remove", "path": "members"}]},
            headers=bearer(theirs),
        ),
        client.delete(f"/scim/v2/Groups/{group}", headers=bearer(theirs)),
    ):
        assert (await attempt).status_code == 404
    # Their group cannot take our User in.
    smuggled = await client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "Theirs", "members": [{"value": ann}]},
        headers=bearer(theirs),
    )
    assert smuggled.status_code == 400
    assert smuggled.json()["scimType"] == "invalidValue"
    # Their admin cannot give our group a role, nor list our groups.
    client.cookies.update(orgs.their_admin.cookies)
    role = await client.put(
        f"/v1/orgs/{orgs.ours}/scim-groups/{group}/role",
        json={"role": "admin"},
        headers=orgs.their_admin.headers,
    )
    assert role.status_code == 404
    assert (await client.get(f"/v1/orgs/{orgs.ours}/scim-groups")).status_code == 404
    own = await client.put(
        f"/v1/orgs/{orgs.theirs}/scim-groups/{group}/role",
        json={"role": "admin"},
        headers=orgs.their_admin.headers,
    )
    assert own.status_code == 404  # our group is not theirs, under their own organisation
    client.cookies.clear()
    assert await _role(pool, ann) == "member"
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_every_scim_answer_is_a_scim_error_and_bad_filters_are_refused(
    client: Client, orgs: Orgs
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    for method, path in (
        ("GET", "/scim/v2/Nothing"),
        ("GET", "/scim/v2/ResourceTypes/Printer"),
        ("GET", "/scim/v2/Schemas/urn:example:unknown"),
        ("DELETE", "/scim/v2/ServiceProviderConfig"),
    ):
        response = await client.request(method, path, headers=bearer(token))
        assert response.status_code in (404, 405), (path, response.status_code)
        assert response.headers["content-type"].startswith(SCIM), path
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    for text in ('userName eq "\\x"', 'userName eq "\\u12"', "(" * 480 + "userName pr" + ")" * 480):
        # Unauthenticated: refused before the filter is even parsed.
        assert (await client.get("/scim/v2/Users", params={"filter": text})).status_code == 401
        bad = await client.get("/scim/v2/Users", params={"filter": text}, headers=bearer(token))
        assert bad.status_code == 400, text
        assert bad.json()["scimType"] == "invalidFilter"
    deep = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    nested = await client.post("/scim/v2/Users", content=deep, headers=bearer(token))
    assert nested.status_code in (400, 413)
    assert nested.headers["content-type"].startswith(SCIM)


async def test_a_group_takes_back_only_the_role_it_gave(
    client: Client, orgs: Orgs, pool: db.Pool, clock: FakeClock
) -> None:
    """Found in review: adding an admin appointed in the console to an admin group, then
    removing them, demoted them — a SCIM token could demote any admin."""
    token = await new_token(client, orgs.admin, orgs.ours)
    ann = await _user(client, token, "ann@acme.example")
    await claim(pool, clock(), "ann@acme.example")
    appointed = str(
        await pool.fetchval(
            "SELECT id FROM memberships WHERE org_id = $1 AND user_id = $2",
            orgs.ours,
            orgs.admin.user_id,
        )
    )
    groups = []
    for name in ("admins-a", "admins-b"):
        created = await client.post(
            "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": name}, headers=bearer(token)
        )
        groups.append(created.json()["id"])
    first, second = groups
    for group in (first, second):
        assert (await _admin_sets_role(client, orgs, orgs.ours, group, "admin")).status_code == 200
    # The console-appointed admin passes through a group: still an admin after.
    await _patch(
        client, token, first, {"op": "add", "path": "members", "value": [{"value": appointed}]}
    )
    await _patch(client, token, first, {"op": "remove", "path": f'members[value eq "{appointed}"]'})
    assert await _role(pool, appointed) == "admin"
    # Ann's role comes from group A; she joins B too; leaving A keeps it (B holds her),
    # leaving B as well takes it back.
    await _patch(client, token, first, {"op": "add", "path": "members", "value": [{"value": ann}]})
    await _patch(client, token, second, {"op": "add", "path": "members", "value": [{"value": ann}]})
    await _patch(client, token, first, {"op": "remove", "path": f'members[value eq "{ann}"]'})
    assert await _role(pool, ann) == "admin"
    await _patch(client, token, second, {"op": "remove", "path": f'members[value eq "{ann}"]'})
    assert await _role(pool, ann) == "member"
