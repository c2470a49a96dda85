"""The hot-path cache and the JWKS source (dict, file, URL with refresh and staleness)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from idsvc.jose.jwk import thumbprint
from idsvc.verify import DPoPRequired, Expired, JWKSUnavailable, UnknownKey, Verifier
from tests.support.forge import AUDIENCE, ISSUER, NOW, Key, dpop_proof, token


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class JWKSServer:
    """A real HTTP server on loopback whose JWKS the test can change or take down."""

    def __init__(self) -> None:
        self.document: dict[str, object] = {"keys": []}
        self.requests = 0
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    yield server
    server.close()


def test_unknown_kid_refreshes_once_then_throttles(jwks_server: JWKSServer) -> None:
    old, new = Key(), Key()
    jwks_server.document = old.jwks()
    clock = Clock()
    v = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=jwks_server.url,
        clock=clock,
        jwks_refresh_interval=60,
    )
    v.verify(token(old))
    assert jwks_server.requests == 1
    jwks_server.document = old.jwks(new)
    clock.now += 61
    v.verify(token(new))  # unknown kid: one refresh finds it
    assert jwks_server.requests == 2
    with pytest.raises(UnknownKey):
        v.verify(token(Key()))
    assert jwks_server.requests == 2  # refreshed moments ago: throttled
    clock.now += 61
    for _ in range(5):
        with pytest.raises(UnknownKey):
            v.verify(token(Key()))
    assert jwks_server.requests == 3  # one refresh for five strangers


def test_stale_jwks_is_served_then_fails_closed(jwks_server: JWKSServer) -> None:
    key = Key()
    jwks_server.document = key.jwks()
    clock = Clock()
    v = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=jwks_server.url,
        clock=clock,
        jwks_max_stale=3600,
        cache_size=0,
    )
    v.verify(token(key))
    jwks_server.down = True
    clock.now += 301  # max-age passed: refetch fails, the stale set is served
    v.verify(token(key, iat=int(clock.now), nbf=int(clock.now), exp=int(clock.now) + 300))
    clock.now += 3600
    with pytest.raises(JWKSUnavailable):
        v.verify(token(key, iat=int(clock.now), nbf=int(clock.now), exp=int(clock.now) + 300))


def test_issuer_unreachable_from_the_start_fails_closed() -> None:
    v = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url="http://127.0.0.1:9/jwks",
        clock=Clock(),
        fetch_timeout=1,
    )
    with pytest.raises(JWKSUnavailable):
        v.verify(token(Key()))


def test_jwks_file_for_air_gapped_gateways(tmp_path: Path) -> None:
    old, new = Key(), Key()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(old.jwks()))
    clock = Clock()
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks_file=path, clock=clock)
    v.verify(token(old))
    path.write_text(json.dumps(old.jwks(new)))
    clock.now += 61
    v.verify(token(new))


def test_cache_returns_claims_until_expiry() -> None:
    key = Key()
    clock = Clock()
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=key.jwks(), clock=clock)
    tok = token(key)
    first = v.verify(tok)
    assert v.verify(tok) is first  # served from the cache
    clock.now += 300 + 30
    with pytest.raises(Expired):
        v.verify(tok)


def test_cache_is_bounded() -> None:
    key = Key()
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=key.jwks(), clock=Clock(), cache_size=3)
    for n in range(10):
        v.verify(token(key, jti=f"t{n}"))
    assert len(v._cache) == 3


def test_dpop_still_enforced_on_a_cache_hit() -> None:
    key, client = Key(), Key()
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=key.jwks(), clock=Clock())
    tok = token(key, cnf={"jkt": thumbprint(client.jwk)})
    url = "https://api.example/v1/infer"
    v.verify(tok, dpop_proof=dpop_proof(client, tok, htu=url), method="POST", url=url)
    with pytest.raises(DPoPRequired):
        v.verify(tok)


def test_cached_token_stops_when_its_key_leaves_the_jwks(jwks_server: JWKSServer) -> None:
    dropped, kept = Key(), Key()
    jwks_server.document = dropped.jwks(kept)
    clock = Clock()
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url, clock=clock)
    tok = token(dropped, exp=int(NOW) + 3600)
    v.verify(tok)
    jwks_server.document = kept.jwks()
    v.verify(tok)  # the cached JWKS still has the key
    clock.now += 301  # max-age: the next call refreshes
    with pytest.raises(UnknownKey):
        v.verify(tok)
