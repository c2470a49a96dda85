"""People are screened: the name a provider verified is matched against the listed
individuals at sign-in, at each import and daily. A hit holds the person's eligibility
("under review", never the list or the entry) and invalidates their tokens until an
operator overrides it; the birth date ranks the hit. Lists come in the CSL's JSON form as
well as CSV, and can be fetched from a URL on a schedule."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.policy.model import PolicySettings
from idsvc.rescreening.fetch import FetchFailure, fetch_list_if_due
from idsvc.rescreening.importing import ImportOutcome, import_list
from idsvc.screening.csl import CslError
from idsvc.screening.list_files import parse_list
from idsvc.screening.service import birthdate_match, remember_person, screen_person
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import session_caller, sign_in

OPERATOR = "demo:demo-0a6b3c88-email-only"
MODEL = "https://api.example.com/open-model"
POLICY = PolicySettings(
    id="open", version=1, audience=MODEL, require_us_person=False, entitlements=("use",)
)
JUSTIFICATION = "Different person: listed one born 1961 in Minsk, passport checked."


def csl_json(*entries: dict[str, object]) -> bytes:
    padding = [
        {"id": f"pad-{i}", "name": f"Padding Trading Company {i}", "type": "Entity",
         "source": "Entity List (EL) - Bureau of Industry and Security"}
        for i in range(8)
    ]  # fmt: skip
    return json.dumps({"total": len(entries) + 8, "results": [*entries, *padding]}).encode()


LISTED_FRIEDA = {
    "id": "sdn-4242",
    "name": "NATIONAL, Frieda",
    "alt_names": ["Фрида Национал"],
    "type": "Individual",
    "source": "Specially Designated Nationals (SDN) - Treasury Department",
    "dates_of_birth": ["1961-03-02"],
    "nationalities": ["Belarus"],
    "addresses": [{"address": "Ul. Lenina 1", "city": "Minsk", "country": "BY"}],
}


def test_the_json_form_reads_secondary_fields() -> None:
    [row, *_] = parse_list(csl_json(LISTED_FRIEDA))
    assert row.entry_key == "Specially Designated Nationals (SDN) - Treasury Department|sdn-4242"
    assert row.alt_names == ("Фрида Национал",)
    assert row.dates_of_birth == ("1961-03-02",)
    assert row.nationalities == ("Belarus",)
    assert row.countries == ("BY",)
    assert "Minsk" in (row.addresses or "")
    for bad in (b'{"results": [{"name": "x"}]}', b"[1]", b'{"results": 3}', b"{oops"):
        with pytest.raises(CslError):
            parse_list(bad)


@pytest.mark.parametrize(
    ("verified", "listed", "expected"),
    [
        (date(1961, 3, 2), ("1961-03-02",), "same"),
        (date(1961, 3, 2), ("circa 1961",), "same_year"),
        (date(1992, 1, 23), ("1961-03-02",), "different"),
        (date(1961, 1, 23), ("1961-03-02",), "different"),
        (date(1992, 1, 23), ("02 Mar 1961", "1992"), "same_year"),
        (None, ("1961-03-02",), "unknown"),
        (date(1992, 1, 23), (), "unknown"),
        (date(1992, 1, 23), ("unknown",), "unknown"),
    ],
)
def test_birth_dates_rank_hits(
    verified: date | None, listed: tuple[str, ...], expected: str
) -> None:
    assert birthdate_match(verified, listed) == expected


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, operators=(OPERATOR,), policies=(POLICY,)) as (
        url,
        _,
    ):
        yield url


async def _import(pool: db.Pool, data: bytes, clock: FakeClock) -> ImportOutcome:
    async with db.transaction(pool) as conn:
        return await import_list(
            conn, data=data, rows=parse_list(data), actor="test", now=clock(), force=False,
            max_entry_drop=0.1, threshold=88.0,
        )  # fmt: skip


async def _token(client: httpx.AsyncClient) -> httpx.Response:
    csrf = (await client.get("/v1/me")).json()["csrf_token"]
    return await client.post(
        "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": csrf}
    )


@pytest.fixture
async def operator(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "email-only")
        yield client


async def test_a_listed_name_holds_the_person_until_an_operator_decides(
    service: str, operator: httpx.AsyncClient, pool: db.Pool, clock: FakeClock
) -> None:
    async with httpx.AsyncClient(base_url=service, timeout=10) as person:
        await sign_in(person, "foreign-national")  # Frieda National, verified by the provider
        granted = await _token(person)
        assert granted.status_code == 201, granted.text

        # A list naming her (in Latin and in Cyrillic script) arrives: she is held at once
        # (the import re-screens every person), her token is invalidated.
        await _import(pool, csl_json(LISTED_FRIEDA), clock)
        held = await _token(person)
        assert held.status_code == 403
        assert held.json()["reasons"] == ["screening_review"]
        words = held.json()["explanations"][0]["explanation"]
        assert "under review" in words
        assert "SDN" not in held.text
        assert "Specially Designated" not in held.text  # never the list or the entry
        me = (await person.get("/me")).text
        assert "under review" in me
        assert "Specially Designated" not in me
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM audit_events WHERE action = 'token.status.invalid'"
                " AND data->>'reason' = 'screening_review'"
            )
            == 1
        )

        # Signing in again screens her again; the open hit stays one hit.
        await sign_in(person, "foreign-national")
        assert await pool.fetchval("SELECT count(*) FROM person_screening_hits") == 1

        # The operator sees the hit, ranked by the birth date (1992 against 1961).
        queue = (await operator.get("/v1/operator/screening/people?state=open")).json()
        [hit] = queue["hits"]
        assert hit["matched_name"] in ("NATIONAL, Frieda", "Фрида Национал")
        assert hit["screened_name"] == "Frieda National"
        assert hit["birthdate_match"] == "different"
        csrf = (await operator.get("/v1/me")).json()["csrf_token"]
        url = f"/v1/operator/users/{hit['user_id']}/screening-hits/{hit['id']}/override"
        # Not the person herself; not without a real justification.
        own_csrf = (await person.get("/v1/me")).json()["csrf_token"]
        mine = await person.post(url, json={"justification": JUSTIFICATION},
                                 headers={"x-csrf-token": own_csrf})  # fmt: skip
        assert mine.status_code == 403
        short = await operator.post(url, json={"justification": "ok"},
                                    headers={"x-csrf-token": csrf})  # fmt: skip
        assert short.status_code == 400
        decided = await operator.post(
            url, json={"justification": JUSTIFICATION}, headers={"x-csrf-token": csrf}
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["state"] == "overridden"
        assert (await _token(person)).status_code == 201

        # The override holds at the next import, and lapses after a year.
        await _import(pool, csl_json(LISTED_FRIEDA), clock)
        assert (await _token(person)).status_code == 201
        clock.advance(366 * 86_400)
        await _import(pool, csl_json(LISTED_FRIEDA), clock)
        await sign_in(person, "foreign-national")  # a year on: a new session
        assert (await _token(person)).json()["reasons"] == ["screening_review"]
    events = [
        r["action"]
        for r in await pool.fetch(
            "SELECT action FROM audit_events WHERE action LIKE 'person.screen%' ORDER BY seq"
        )
    ]
    assert events == ["person.screened", "person.screening.overridden", "person.screened"]


class _ListServer:
    """A loopback HTTP server serving whatever list the test puts in ``body``."""

    def __init__(self) -> None:
        self.body, self.status, self.requests = b"", 200, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/consolidated.json?key=secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_the_list_is_fetched_on_a_schedule_and_a_bad_download_changes_nothing(
    pool: db.Pool, clock: FakeClock
) -> None:
    source = _ListServer()
    day = timedelta(days=1)
    try:
        async with httpx.AsyncClient() as http:

            async def fetch() -> object:
                return await fetch_list_if_due(
                    pool, http, url=source.url, interval=day, now=clock(),
                    max_entry_drop=0.1, threshold=88.0,
                )  # fmt: skip

            source.body = csl_json(LISTED_FRIEDA)
            first = await fetch()
            assert isinstance(first, ImportOutcome)
            assert first.snapshot.entries == 9
            assert await fetch() is None  # once per interval, across instances
            assert source.requests == 1

            # A truncated download a day later: refused, audited, nothing imported.
            clock.advance(86_400)
            source.body = csl_json()[: len(csl_json()) // 3]
            broken = await fetch()
            assert isinstance(broken, FetchFailure)
            clock.advance(86_400)
            source.body = json.dumps({"results": [LISTED_FRIEDA]}).encode()  # 1 of 9
            partial = await fetch()
            assert isinstance(partial, FetchFailure)
            assert "partial file" in partial.reason
            clock.advance(86_400)
            source.status = 503
            unavailable = await fetch()
            assert isinstance(unavailable, FetchFailure)
            assert unavailable.reason == "HTTP 503"
            # Found in review: a list PostgreSQL refuses (a NUL in a name) escaped the audit.
            clock.advance(86_400)
            source.status = 200
            source.body = csl_json({**LISTED_FRIEDA, "name": "Frieda\u0000National"})
            refused = await fetch()
            assert isinstance(refused, FetchFailure)
    finally:
        source.close()
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 1
    failures = await pool.fetch(
        "SELECT data FROM audit_events WHERE action = 'screening.list.fetch_failed'"
    )
    assert len(failures) == 4
    assert all("secret" not in json.dumps(f["data"]) for f in failures)  # no query string


async def test_a_later_name_from_another_provider_never_lifts_a_hold(
    pool: db.Pool, clock: FakeClock
) -> None:
    """Found in review: each sign-in replaced the screened name and cleared the hits it no
    longer matched, so linking a provider that verified only "Frieda" lifted the hold."""
    person = await session_caller(pool, clock(), email="frieda@example.com")
    await _import(pool, csl_json(LISTED_FRIEDA), clock)
    async with db.transaction(pool) as conn:
        await remember_person(conn, user_id=person.user_id, name="Frieda National",
                              birthdate=None, provider="idp-a", now=clock())  # fmt: skip
        first = await screen_person(
            conn, user_id=person.user_id, threshold=88.0, actor="system", now=clock()
        )
    assert len(first.new_hits) == 1
    async with db.transaction(pool) as conn:
        await remember_person(conn, user_id=person.user_id, name="Frieda",
                              birthdate=None, provider="idp-b", now=clock())  # fmt: skip
        await screen_person(
            conn, user_id=person.user_id, threshold=88.0, actor="system", now=clock()
        )
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "open"
    # The next import screens both names: the first still matches, the hold stays.
    await _import(pool, csl_json(LISTED_FRIEDA), clock)
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "open"
    # A listed entry that changed its name is still on the list: the hold stays (issue 24:
    # a hold ends by a decision or the entry leaving the list, not by a name that no longer
    # matches).
    await _import(pool, csl_json({**LISTED_FRIEDA, "name": "Someone Else", "alt_names": []}),
                  clock)  # fmt: skip
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "open"
    # Only a whole list without the entry clears it.
    await _import(pool, csl_json({**LISTED_FRIEDA, "id": "sdn-9999", "name": "Someone Else",
                                  "alt_names": []}), clock)  # fmt: skip
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "cleared"
