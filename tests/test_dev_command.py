"""`idsvc dev` on another port: the issuer follows the port unless the file names one, and
a busy port says what to do instead of failing with an errno."""

from __future__ import annotations

import socket
from pathlib import Path

import msgspec
import pytest

from idsvc.cli.serve import dev_settings, serve_dev
from tests.support.settings import make_settings


def test_the_issuer_follows_the_port_unless_the_file_names_one(tmp_path: Path) -> None:
    # A configuration file that does not set service.issuer (found: the default issuer,
    # on port 8000, was kept, and every sign-in on another port failed).
    default = msgspec.structs.replace(
        make_settings(None, tmp_path), config_path=tmp_path / "idsvc.toml"
    )
    assert dev_settings(default, port=18555).service.issuer == "http://127.0.0.1:18555"
    named = make_settings(None, tmp_path, issuer="http://id.localhost:9000")
    assert dev_settings(named, port=18555).service.issuer == "http://id.localhost:9000"
    assert not dev_settings(default, port=18555).service.cookie_secure


def test_a_busy_port_names_the_way_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        assert serve_dev(make_settings(None, tmp_path), port=port) == 1
    message = capsys.readouterr().err
    assert f"port {port} is already in use" in message
    assert f"make dev PORT={port + 1}" in message
