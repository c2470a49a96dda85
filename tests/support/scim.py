"""Helpers for the SCIM tests: SCIM tokens made the way an org admin makes them
(POST /v1/orgs/{id}/scim-tokens), the two organisations the fixtures set up, and a person
claiming the User provisioned for their address."""

from __future__ import annotations

import uuid
from datetime import datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.orgs.claims import claim_memberships
from tests.support.factories import create_user
from tests.support.signin import Caller

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Orgs:
    def __init__(
        self, ours: uuid.UUID, theirs: uuid.UUID, admin: Caller, their_admin: Caller
    ) -> None:
        self.ours, self.theirs, self.admin, self.their_admin = ours, theirs, admin, their_admin


async def new_token(client: AsyncTestClient[Litestar], caller: Caller, org: uuid.UUID) -> str:
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    response = await client.post(
        f"/v1/orgs/{org}/scim-tokens", json={"label": "Okta"}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["scim_base_url"].endswith("/scim/v2")
    client.cookies.clear()
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": SCIM}


async def claim(pool: db.Pool, now: datetime, email: str) -> uuid.UUID:
    """The person at ``email`` signs in (a provider verified the address) and so claims the
    Users provisioned for it, as at a real sign-in (idsvc.orgs.claims); their user id."""
    async with db.transaction(pool) as conn:
        user_id = await create_user(conn, now, email=email)
        assert await claim_memberships(conn, user_id=user_id, email=email, now=now) == 1
    return user_id
