"""Where the client keeps its DPoP key, refresh token and cached tokens: one JSON file per
issuer in the user's config folder, readable by the user only (0600, folder 0700)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import msgspec

__all__ = ["CachedToken", "CredentialStore", "Credentials"]


class CachedToken(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_at: float


class Credentials(msgspec.Struct, kw_only=True):
    issuer: str
    client_id: str
    # PKCS#8 PEM of the client's DPoP key: whoever holds it and the refresh token acts as
    # the user, so the file is private to the user.
    dpop_key_pem: str
    refresh_token: str | None = None
    tokens: dict[str, CachedToken] = msgspec.field(default_factory=dict)


def _default_folder() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "idsvc"


class CredentialStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or _default_folder()

    def path(self, issuer: str) -> Path:
        name = hashlib.sha256(issuer.rstrip("/").encode()).hexdigest()[:16]
        return self.folder / f"credentials-{name}.json"

    def load(self, issuer: str) -> Credentials | None:
        try:
            data = self.path(issuer).read_bytes()
        except FileNotFoundError:
            return None
        return msgspec.json.decode(data, type=Credentials)

    def save(self, credentials: Credentials) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path(credentials.issuer)
        temporary = target.with_suffix(".tmp")
        # Created 0600 from the start (never world-readable, even for a moment), then
        # renamed over the old file so a crash never leaves half a file.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.encode(credentials))
        os.replace(temporary, target)

    def forget(self, issuer: str) -> None:
        self.path(issuer).unlink(missing_ok=True)

    def remember_issuer(self, issuer: str) -> None:
        """The service of the last ``idsvc login``: later commands need no --issuer."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.folder / "issuer"
        temporary = target.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(issuer.rstrip("/") + "\n")
        os.replace(temporary, target)

    def remembered_issuer(self) -> str | None:
        try:
            issuer = (self.folder / "issuer").read_text().strip()
        except FileNotFoundError:
            return None
        return issuer or None
