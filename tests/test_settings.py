from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from idsvc.settings import ConfigError, load_settings

if TYPE_CHECKING:
    from pathlib import Path


def write(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "idsvc.toml"
    path.write_text(text)
    return {"IDSVC_CONFIG": str(path)}


def test_defaults_without_a_file() -> None:
    settings = load_settings({})
    assert settings.service.issuer == "http://127.0.0.1:8000"
    assert settings.database_url is None
    assert settings.service.cookie_secure is True


def test_file_and_environment_are_read(tmp_path: Path) -> None:
    env = write(tmp_path, '[service]\nissuer = "https://id.example.com"\nlisten_port = 9000\n')
    env |= {"IDSVC_DATABASE_URL": "postgresql://db/idsvc", "IDSVC_SESSION_SECRET": "s3cret"}
    settings = load_settings(env)
    assert settings.service.issuer == "https://id.example.com"
    assert settings.service.listen_port == 9000
    assert settings.database_url == "postgresql://db/idsvc"
    assert settings.secrets.session_secret == b"s3cret"
    assert "s3cret" not in repr(settings)


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "kek"
    secret.write_text("from-a-file\n")
    settings = load_settings({"IDSVC_KEY_ENCRYPTION_KEY_FILE": str(secret)})
    assert settings.secrets.key_encryption_key == b"from-a-file"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[service]\nlisten_prot = 1\n", "unknown key `service.listen_prot`"),
        ("[servce]\n", "unknown key `servce`"),
        ('[service]\nlisten_port = "eighty"\n', "key `service.listen_port`: Expected `int`"),
        ("[service]\nlisten_port = 70000\n", "key `service.listen_port`: Expected `int` <= 65535"),
        ('[service]\nissuer = "not a url"\n', "key `service.issuer`"),
        ("[audit]\nseal_interval = 0\n", "key `audit.seal_interval`"),
        ("operators = [1]\n", "key `operators[0]`"),
        ("[service\n", "not valid TOML"),
        (
            '[service]\nissuer = "https://id.example"\ncookie_secure = false\n',
            "service.cookie_secure must be true when the issuer is https",
        ),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert expected in str(caught.value)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IDSVC_CONFIG: cannot read"):
        load_settings({"IDSVC_CONFIG": str(tmp_path / "missing.toml")})


def test_service_refuses_to_start_with_a_bad_file(tmp_path: Path) -> None:
    env = write(tmp_path, "[service]\nlisten_port = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "idsvc.cli", "migrate"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "key `service.listen_port`" in result.stderr


def test_serve_without_a_key_encryption_key_says_so_in_one_line(tmp_path: Path) -> None:
    # Found: a NameError traceback (ConfigError was imported for type checking only).
    result = subprocess.run(
        [sys.executable, "-m", "idsvc.cli", "serve"],
        env={"PATH": "/usr/bin:/bin", "IDSVC_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("idsvc: configuration error: IDSVC_KEY_ENCRYPTION_KEY")
    assert "Traceback" not in result.stderr
