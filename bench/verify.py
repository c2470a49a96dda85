"""Offline verification throughput on one core, per algorithm, against two references
measured in the same run: the raw ``cryptography`` signature check, and PyJWT's ``decode``
with the same claim checks.

    python bench/verify.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import jwt as pyjwt
import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jws import sign_compact
from idsvc.keys.material import Algorithm, generate_private_key, public_jwk
from idsvc.verify import Verifier

ISSUER = "https://id.example"
AUDIENCE = "mythos-5"


def rates(seconds: float, variants: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Calls per second of each variant. The variants take turns in short slices (20
    rounds) and each reports its median slice, so a noisy neighbour on the machine hits
    all of them alike instead of whichever happened to run at that moment."""
    for fn in variants.values():
        for _ in range(200):  # warm-up
            fn()
    rounds = 20
    slice_seconds = seconds / rounds
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            count = 0
            started = time.perf_counter()
            deadline = started + slice_seconds
            while time.perf_counter() < deadline:
                for _ in range(50):
                    fn()
                count += 50
            samples[name].append(count / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in samples.items()}


def raw_check(alg: str, private: object, token: str) -> Callable[[], object]:
    head, payload, signature = token.split(".")
    data = f"{head}.{payload}".encode()
    sig = b64url_decode(signature)
    if alg == "ES256":
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        key = private.public_key()
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        return lambda: key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    if alg == "EdDSA":
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        ed_key = private.public_key()
        return lambda: ed_key.verify(sig, data)
    assert isinstance(private, rsa.RSAPrivateKey)
    rsa_key = private.public_key()
    return lambda: rsa_key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())


def measure(alg: Algorithm, seconds: float) -> dict[str, float]:
    private = generate_private_key(alg)
    jwk = msgspec.to_builtins(public_jwk(private, alg))
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": "s", "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 3600,
        "jti": "j", "entitlements": ["model:mythos-5:invoke"], "assurance": "IAL2", "pol": "p@1",
    }  # fmt: skip
    header = {"alg": alg, "kid": jwk["kid"], "typ": "eligibility+jwt"}
    token = sign_compact(header, json.dumps(claims).encode(), private, alg)

    uncached = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [jwk]}, cache_size=0)
    cached = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [jwk]})
    pyjwt_key = pyjwt.PyJWK(jwk)
    options = {"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]}

    def with_pyjwt() -> object:
        return pyjwt.decode(
            token, pyjwt_key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER, options=options
        )

    return rates(
        seconds,
        {
            "raw": raw_check(alg, private, token),
            "idsvc": lambda: uncached.verify(token),
            "pyjwt": with_pyjwt,
            "cached": lambda: cached.verify(token),
        },
    )


def main(seconds: float) -> None:
    print(f"offline verification, one core, {seconds:.0f} s per variant, medians (per second)")
    print(
        f"{'alg':<6} {'raw verify':>11} {'idsvc':>9} {'PyJWT':>9} {'cached':>10}"
        f" {'idsvc/raw':>10} {'idsvc/PyJWT':>12}"
    )
    for alg in ("ES256", "EdDSA", "RS256"):
        r = measure(alg, seconds)  # type: ignore[arg-type]
        rates_ = f"{r['raw']:>11,.0f} {r['idsvc']:>9,.0f} {r['pyjwt']:>9,.0f} {r['cached']:>10,.0f}"
        ratios = f"{r['idsvc'] / r['raw']:>10.2f} {r['idsvc'] / r['pyjwt']:>12.2f}"
        print(f"{alg:<6} {rates_} {ratios}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    main(parser.parse_args().seconds)
