"""SCIM userName and emails that only look like another address: refused with scimType
invalidValue naming the attribute, changing nothing; look-ups and uniqueness by key."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.look_alikes import IDS, LOOK_ALIKES
from tests.support.scim import PATCH, USER, Orgs, bearer, new_token

Client = AsyncTestClient[Litestar]

_STATE = """
SELECT (SELECT count(*) FROM memberships) AS memberships,
       (SELECT count(*) FROM audit_events) AS audit_events,
       (SELECT count(*) FROM memberships WHERE user_id IS NULL AND email IS NOT NULL) AS claimable
"""


def user(user_name: str, *emails: str) -> dict[str, object]:
    return {
        "schemas": [USER],
        "userName": user_name,
        "emails": [{"value": e, "type": "work", "primary": i == 0} for i, e in enumerate(emails)],
        "active": True,
    }


async def state(pool: db.Pool) -> dict[str, int]:
    row = await pool.fetchrow(_STATE)
    assert row is not None
    return dict(row)


def assert_invalid_value(response: httpx.Response, attribute: str, named: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["scimType"] == "invalidValue"
    assert body["detail"].startswith(f"{attribute}: ")
    assert named in body["detail"]


@pytest.mark.parametrize(("name", "address", "named"), LOOK_ALIKES, ids=IDS)
async def test_user_name_and_emails_are_refused_naming_the_attribute(
    client: Client, orgs: Orgs, pool: db.Pool, name: str, address: str, named: str
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    kate = await client.post(
        "/scim/v2/Users", json=user("kate@acme.example", "kate@acme.example"), headers=bearer(token)
    )
    assert kate.status_code == 201, kate.text
    before = await state(pool)

    as_user_name = await client.post(
        "/scim/v2/Users", json=user(address, "other@acme.example"), headers=bearer(token)
    )
    assert_invalid_value(as_user_name, "userName", named)
    as_email = await client.post(
        "/scim/v2/Users", json=user("jdoe", address), headers=bearer(token)
    )
    assert_invalid_value(as_email, "emails[0].value", named)
    replaced = await client.put(
        f"/scim/v2/Users/{kate.json()['id']}",
        json=user("kate@acme.example", "kate@acme.example", address),
        headers=bearer(token),
    )
    assert_invalid_value(replaced, "emails[1].value", named)
    patched = await client.patch(
        f"/scim/v2/Users/{kate.json()['id']}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "userName", "value": address}],
        },
        headers=bearer(token),
    )
    assert_invalid_value(patched, "userName", named)
    assert await state(pool) == before


async def test_a_user_name_that_is_not_an_address_is_still_plain(
    client: Client, orgs: Orgs
) -> None:
    token = await new_token(client, orgs.admin, orgs.ours)
    refused = await client.post("/scim/v2/Users", json=user("jd\u200boe"), headers=bearer(token))
    assert_invalid_value(refused, "userName", "U+200B")
    accepted = await client.post("/scim/v2/Users", json=user("jdoe"), headers=bearer(token))
    assert accepted.status_code == 201, accepted.text


async def test_a_look_alike_filter_value_finds_nobody(client: Client, orgs: Orgs) -> None:
    """An identity provider looks a user up by userName before creating it. Compared with
    lower(), "<U+212A>ate@" found kate, and the provider would then update her."""
    token = await new_token(client, orgs.admin, orgs.ours)
    kate = await client.post(
        "/scim/v2/Users", json=user("kate@acme.example", "kate@acme.example"), headers=bearer(token)
    )
    assert kate.status_code == 201, kate.text
    found = await client.get(
        "/scim/v2/Users",
        params={"filter": 'userName eq "\u212aate@acme.example"'},
        headers=bearer(token),
    )
    assert found.status_code == 400, found.text
    assert found.json()["scimType"] == "invalidFilter"
    plain = await client.get(
        "/scim/v2/Users",
        params={"filter": 'userName eq "KATE@acme.example"'},
        headers=bearer(token),
    )
    assert [r["id"] for r in plain.json()["Resources"]] == [kate.json()["id"]]


async def test_user_names_are_unique_by_key(client: Client, orgs: Orgs, pool: db.Pool) -> None:
    """Full case folding: straße@ and STRASSE@ are one address, so one User."""
    token = await new_token(client, orgs.admin, orgs.ours)
    first = await client.post(
        "/scim/v2/Users", json=user("straße@acme.example"), headers=bearer(token)
    )
    assert first.status_code == 201, first.text
    assert first.json()["userName"] == "straße@acme.example"  # shown as sent
    again = await client.post(
        "/scim/v2/Users", json=user("STRASSE@acme.example"), headers=bearer(token)
    )
    assert again.status_code == 409, again.text
    assert again.json()["scimType"] == "uniqueness"
    emails = await pool.fetch("SELECT email FROM memberships WHERE email LIKE 'str%'")
    assert [r["email"] for r in emails] == ["strasse@acme.example"]
