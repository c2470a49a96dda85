"""SCIM 2.0 over HTTP through the real app, with the request bodies Okta and Microsoft
Entra send, and a token of one organisation trying another organisation's users."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.scim import PATCH, SCIM, USER, Orgs, bearer, new_token

OKTA_CREATE = {
    "schemas": [USER],
    "userName": "ann@acme.example",
    "name": {"givenName": "Ann", "familyName": "Example"},
    "emails": [{"primary": True, "value": "ann@acme.example", "type": "work"}],
    "displayName": "Ann Example",
    "locale": "en-US",
    "externalId": "00u1abcd",
    "groups": [],
    "password": "ignored-by-idsvc",
    "active": True,
}


async def test_okta_provisions_reads_filters_deactivates_and_deletes(
    client: AsyncTestClient[Litestar], orgs: Orgs, pool: db.Pool
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    created = await client.post("/scim/v2/Users", json=OKTA_CREATE, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith(SCIM)
    user = created.json()
    assert user["userName"] == "ann@acme.example"
    assert user["active"] is True
    assert created.headers["location"] == user["meta"]["location"]
    again = await client.post("/scim/v2/Users", json=OKTA_CREATE, headers=bearer(token))
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"
    # Okta looks users up by userName before creating them.
    found = await client.get(
        "/scim/v2/Users",
        params={"filter": 'userName eq "ANN@acme.example"', "startIndex": "1", "count": "100"},
        headers=bearer(token),
    )
    assert found.json()["totalResults"] == 1
    assert found.json()["Resources"][0]["id"] == user["id"]
    # Okta's deactivation.
    deactivated = await client.patch(
        f"/scim/v2/Users/{user['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
        headers=bearer(token),
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    assert (
        await pool.fetchval("SELECT status FROM memberships WHERE id = $1", uuid.UUID(user["id"]))
        == "suspended"
    )
    reactivated = await client.patch(
        f"/scim/v2/Users/{user['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]},
        headers=bearer(token),
    )
    assert reactivated.json()["active"] is True
    deleted = await client.delete(f"/scim/v2/Users/{user['id']}", headers=bearer(token))
    assert deleted.status_code == 204
    assert (
        await client.get(f"/scim/v2/Users/{user['id']}", headers=bearer(token))
    ).status_code == 404
    assert (
        await pool.fetchval("SELECT status FROM memberships WHERE id = $1", uuid.UUID(user["id"]))
        == "removed"
    )
    actors = {
        r["actor"]
        for r in await pool.fetch("SELECT actor FROM audit_events WHERE action LIKE 'org.member.%'")
    }
    assert any(a.startswith("scim:") for a in actors)


async def test_entra_patch_forms_and_paging(client: AsyncTestClient[Litestar], orgs: Orgs) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    for n in range(5):
        body = {
            "schemas": [USER],
            "externalId": f"e{n}",
            "userName": f"user{n}@acme.example",
            "active": True,
            "displayName": f"User {n}",
            "emails": [{"primary": True, "type": "work", "value": f"user{n}@acme.example"}],
        }
        assert (
            await client.post("/scim/v2/Users", json=body, headers=bearer(token))
        ).status_code == 201
    page = await client.get(
        "/scim/v2/Users",
        params={"startIndex": "2", "count": "2", "attributes": "userName"},
        headers=bearer(token),
    )
    body = page.json()
    assert body["totalResults"] == 6  # five provisioned plus the admin
    assert body["startIndex"] == 2
    assert body["itemsPerPage"] == 2
    assert set(body["Resources"][0]) == {"id", "schemas", "userName"}
    user = (
        await client.get(
            "/scim/v2/Users", params={"filter": 'externalId eq "e3"'}, headers=bearer(token)
        )
    ).json()["Resources"][0]
    # Entra: capitalised op names, "False" as a string, and a value-filter path.
    entra = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "renamed@acme.example",
            },
            {"op": "Replace", "path": "userName", "value": "renamed@acme.example"},
            {"op": "Add", "path": "name.givenName", "value": "Renamed"},
            {
                "op": "Add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                "value": "42",
            },
        ],
    }
    patched = await client.patch(f"/scim/v2/Users/{user['id']}", json=entra, headers=bearer(token))
    assert patched.status_code == 200, patched.text
    assert patched.json()["userName"] == "renamed@acme.example"
    assert patched.json()["active"] is False
    replaced = await client.put(
        f"/scim/v2/Users/{user['id']}",
        json={
            "schemas": [USER],
            "userName": "renamed@acme.example",
            "active": True,
            "externalId": "e3b",
        },
        headers=bearer(token),
    )
    assert replaced.json()["externalId"] == "e3b"
    assert replaced.json()["active"] is True
    taken = await client.put(
        f"/scim/v2/Users/{user['id']}",
        json={"schemas": [USER], "userName": "user1@acme.example"},
        headers=bearer(token),
    )
    assert taken.status_code == 409


async def test_bad_requests_get_scim_errors_and_change_nothing(
    client: AsyncTestClient[Litestar], orgs: Orgs, pool: db.Pool
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    before = await pool.fetchval("SELECT count(*) FROM memberships")
    bad_filter = await client.get(
        "/scim/v2/Users", params={"filter": "userName equals 1"}, headers=bearer(token)
    )
    assert bad_filter.status_code == 400
    assert bad_filter.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "scimType": "invalidFilter",
        "detail": bad_filter.json()["detail"],
    }
    for body in (
        {},  # no userName
        {"userName": "nul\u0000@acme.example"},
        {"userName": "bell\u0007"},
        {"userName": "x", "emails": [{"value": "not-an-address"}]},
        {"userName": "x", "emails": [{"value": "a@b.example", "primary": True}] * 2},
        {"userName": "a@b.example", "active": "maybe"},
        ["not", "an", "object"],
    ):
        response = await client.post("/scim/v2/Users", json=body, headers=bearer(token))
        assert response.status_code == 400, body
    junk = await client.post("/scim/v2/Users", content=b"{not json", headers=bearer(token))
    assert junk.json()["scimType"] == "invalidSyntax"
    assert await pool.fetchval("SELECT count(*) FROM memberships") == before
    for headers in (
        {},
        {"Authorization": "Bearer idsvc_scim_forged"},
        {"Authorization": "Basic abc"},
    ):
        response = await client.get("/scim/v2/Users", headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == "401"


async def test_a_token_reaches_only_its_own_organisation(
    client: AsyncTestClient[Litestar], orgs: Orgs, pool: db.Pool
) -> None:
    ours = await new_token(client, orgs.admin, orgs.ours)
    theirs = await new_token(client, orgs.their_admin, orgs.theirs)
    their_user = (
        await client.post("/scim/v2/Users", json=OKTA_CREATE, headers=bearer(theirs))
    ).json()
    listed = await client.get("/scim/v2/Users", headers=bearer(ours))
    assert their_user["id"] not in {r["id"] for r in listed.json()["Resources"]}
    path = f"/scim/v2/Users/{their_user['id']}"
    assert (await client.get(path, headers=bearer(ours))).status_code == 404
    assert (
        await client.patch(
            path,
            json={
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            },
            headers=bearer(ours),
        )
    ).status_code == 404
    assert (
        await client.put(
            path, json={"schemas": [USER], "userName": "x@acme.example"}, headers=bearer(ours)
        )
    ).status_code == 404
    assert (await client.delete(path, headers=bearer(ours))).status_code == 404
    assert (
        await pool.fetchval(
            "SELECT status FROM memberships WHERE id = $1", uuid.UUID(their_user["id"])
        )
        == "active"
    )
    # The same person may be provisioned in our organisation independently.
    assert (
        await client.post("/scim/v2/Users", json=OKTA_CREATE, headers=bearer(ours))
    ).status_code == 201


async def test_tokens_are_listed_without_secrets_revoked_and_guarded(
    client: AsyncTestClient[Litestar], orgs: Orgs, pool: db.Pool
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    assert (await client.get("/scim/v2/Users", headers=bearer(token))).status_code == 200
    client.cookies.update(orgs.admin.cookies)
    listed = await client.get(f"/v1/orgs/{orgs.ours}/scim-tokens")
    entry = listed.json()["tokens"][0]
    assert token not in listed.text
    assert entry["last_used_at"] is not None
    client.cookies.clear()
    client.cookies.update(orgs.their_admin.cookies)
    assert (
        await client.delete(
            f"/v1/orgs/{orgs.ours}/scim-tokens/{entry['id']}", headers=orgs.their_admin.headers
        )
    ).status_code == 404
    assert (await client.get(f"/v1/orgs/{orgs.ours}/scim-tokens")).status_code == 404
    client.cookies.clear()
    client.cookies.update(orgs.admin.cookies)
    assert (
        await client.delete(
            f"/v1/orgs/{orgs.ours}/scim-tokens/{entry['id']}", headers=orgs.admin.headers
        )
    ).status_code == 204
    client.cookies.clear()
    assert (await client.get("/scim/v2/Users", headers=bearer(token))).status_code == 401
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM scim_tokens WHERE token_hash IS NOT NULL AND label = 'Okta'"
        )
        == 1
    )


async def test_discovery_documents(client: AsyncTestClient[Litestar]) -> None:
    config = (await client.get("/scim/v2/ServiceProviderConfig")).json()
    assert config["patch"]["supported"] is True
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
    types = (await client.get("/scim/v2/ResourceTypes")).json()
    assert types["Resources"][0]["endpoint"] == "/Users"
    schema = (await client.get(f"/scim/v2/Schemas/{USER}")).json()
    assert {a["name"] for a in schema["attributes"]} >= {
        "userName",
        "active",
        "emails",
        "externalId",
    }
