"""The check sidecar's throughput on one core, for cached and for fresh tokens, against
the raw verification rate measured in the same run.

    python bench/gateway.py [--seconds 5]

The sidecar (`idsvc gateway`, one uvicorn worker) runs in its own process; wrk (Debian's
`wrk`, a C load generator) drives it over loopback with NGINX-style sub-requests, so the
load generator costs little of the machine's second core. "Cached" repeats one token
(the verifier's cache answers, re-checking the key and the DPoP-free claims); "fresh"
cycles through more distinct tokens than the cache holds, so every check verifies a
signature. The reference is `Verifier.verify` on fresh tokens called in-process, i.e.
the same work without HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from idsvc.jose.jws import sign_compact
from idsvc.keys.material import generate_private_key, public_jwk
from idsvc.verify import Verifier

ISSUER = "https://id.example"
AUDIENCE = "https://api.example.com/mythos-5"
FRESH_TOKENS = 30_000  # three times the verifier's default cache


def tokens(count: int) -> tuple[dict[str, object], list[str]]:
    key = generate_private_key("ES256")
    jwk: dict[str, str] = msgspec.to_builtins(public_jwk(key, "ES256"))
    now = int(time.time())
    minted = []
    for n in range(count):
        claims = {
            "iss": ISSUER, "sub": f"pairwise-{n}", "aud": AUDIENCE, "iat": now, "nbf": now,
            "exp": now + 3600, "jti": f"jti-{n}", "entitlements": ["model:invoke"],
            "assurance": "IAL2", "pol": "mythos-5@1",
        }  # fmt: skip
        header = {"alg": "ES256", "kid": jwk["kid"], "typ": "eligibility+jwt"}
        minted.append(sign_compact(header, json.dumps(claims).encode(), key, "ES256"))
    return {"keys": [jwk]}, minted


def in_process_rate(jwks: dict[str, object], minted: list[str], seconds: float) -> float:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks, cache_size=0)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for token in minted[done % len(minted) : done % len(minted) + 500]:
            verifier.verify(token)
        done += 500
    return done / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(port: int, script: Path, seconds: float) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds:.0f}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}/check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} refusals: the benchmark tokens should all pass")
    return rate, p99


def lua_for(minted: list[str], folder: Path, name: str) -> Path:
    data = folder / f"{name}.txt"
    data.write_text("\n".join(minted))
    script = folder / f"{name}.lua"
    script.write_text(
        f'local tokens = {{}}\nfor line in io.lines("{data}") do tokens[#tokens + 1] = line end\n'
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #tokens + 1\n"
        '  return wrk.format("GET", "/check", {["Authorization"] = "Bearer " .. tokens[n],'
        ' ["X-Original-Method"] = "GET", ["X-Original-URL"] = "https://api.example.com/v1/infer"})\n'
        "end\n"
    )
    return script


def main(seconds: float) -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench/gateway.py needs wrk (apt-get install wrk)")
    jwks, minted = tokens(FRESH_TOKENS)
    folder = Path(tempfile.mkdtemp(prefix="idsvc-gateway-bench-"))
    (folder / "jwks.json").write_text(json.dumps(jwks))
    port = free_port()
    sidecar = subprocess.Popen(
        [sys.executable, "-m", "idsvc.cli", "gateway", "--issuer", ISSUER, "--audience", AUDIENCE,
         "--jwks-file", str(folder / "jwks.json"), "--listen", f"127.0.0.1:{port}"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        reference = in_process_rate(jwks, minted, seconds)
        cached, cached_p99 = wrk(port, lua_for(minted[:1], folder, "cached"), seconds)
        fresh, fresh_p99 = wrk(port, lua_for(minted, folder, "fresh"), seconds)
    finally:
        sidecar.terminate()
        sidecar.wait(10)
    print(f"sidecar on one core, wrk -c16 on loopback, {seconds:.0f} s each")
    print(f"{'':34} {'checks/s':>10} {'p99':>9} {'vs in-process verify':>22}")
    print(f"{'in-process Verifier.verify (fresh)':34} {reference:10.0f} {'-':>9} {1.0:22.2f}")
    print(f"{'sidecar, cached token':34} {cached:10.0f} {cached_p99:>9} {cached / reference:22.2f}")
    print(f"{'sidecar, fresh tokens':34} {fresh:10.0f} {fresh_p99:>9} {fresh / reference:22.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    main(parser.parse_args().seconds)
