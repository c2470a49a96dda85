"""Settings as a test wants them: the service's defaults with what the test changes, fresh
secrets (but the session's one key-encryption key), and the shipped country groups allowed
as development allows them."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import msgspec

from idsvc.config.oauth import ClientSettings, OAuthSettings
from idsvc.policy.model import PolicySettings
from idsvc.settings import (
    ComplianceSettings,
    ConfigFile,
    PolicyOptions,
    ScreeningSettings,
    Secrets,
    ServiceSettings,
    Settings,
    StatusListSettings,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TEST_KEK", "make_settings"]

# One key-encryption key for the session, as a deployment has one: data keys are wrapped
# under it (audit.personal), and the tests themselves, every app a test starts and every
# `idsvc` command it runs seal and open texts under the same data keys.
TEST_KEK = secrets.token_urlsafe(32)


def make_settings(
    database_url: str | None,
    tmp_path: Path,
    *,
    operators: tuple[str, ...] = (),
    policies: tuple[PolicySettings, ...] = (),
    clients: tuple[ClientSettings, ...] = (),
    oauth: OAuthSettings | None = None,
    status_lists: StatusListSettings | None = None,
    screening: ScreeningSettings | None = None,
    compliance: ComplianceSettings | None = None,
    **service: object,
) -> Settings:
    service_settings = msgspec.structs.replace(ServiceSettings(), **service)
    return Settings(
        config=ConfigFile(
            service=service_settings,
            operators=operators,
            policies=policies,
            clients=clients,
            oauth=oauth or OAuthSettings(),
            status_lists=status_lists or StatusListSettings(),
            # Screening is required by default in the service; tests whose subject is not
            # screening switch the requirement off, as a deployment may do deliberately,
            # so that each need not import a list. The screening, evidence-ledger and
            # quick-start tests run with the service's default (required).
            screening=screening or ScreeningSettings(required=False),
            # The shipped country groups await compliance sign-off (app start refuses them
            # otherwise); tests decide on them as development does.
            policy=PolicyOptions(allow_unreviewed_country_groups=True),
            # Four eyes is on by default in the service; tests whose subject is not a
            # compliance decision's second operator run as `idsvc dev` does (one operator
            # decides alone, audited as four_eyes.waived). tests/four_eyes/ runs with the
            # service's default.
            compliance=compliance or ComplianceSettings(four_eyes=False),
        ),
        database_url=database_url,
        secrets=Secrets(
            key_encryption_key=TEST_KEK.encode(),
            session_secret=secrets.token_urlsafe(32).encode(),
        ),
        data_dir=tmp_path / "data",
        config_path=None,
    )
