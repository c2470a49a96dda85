"""TLS in front of idsvc for tests, as production has: a self-signed certificate for
127.0.0.1 and a real NGINX terminating TLS (mod_auth_openidc only fetches https JWKS)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.gateways.nginx import run_nginx
from tests.support.serving import free_port


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def https_in_front(tmp_path: Path, upstream: str) -> Iterator[tuple[str, Path]]:
    """Yields (https base URL, CA file to trust)."""
    cert, key = self_signed(tmp_path)
    port = free_port()
    block = (
        f"server {{\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {cert};\n"
        f" ssl_certificate_key {key};\n location / {{ proxy_pass {upstream}; }}\n}}\n"
    )
    with run_nginx(tmp_path / "tls", block, port, scheme="https") as base:
        yield base, cert
