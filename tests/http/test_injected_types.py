"""``Injected[T]`` goes by name; start-up checks that each service a handler names is a
``T`` (issue 29), so a wiring mistake stops the app instead of reaching a request."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import get

from idsvc.app import create_app
from idsvc.http.inject import Injected
from idsvc.keys.service import KeyService
from idsvc.policy.model import PolicySettings
from tests.support.settings import make_settings


@get("/test/keys")
async def wants_keys(*, keys: Injected[KeyService]) -> dict[str, str]:
    return {}


@get("/test/policies-as-keys")
async def wants_policies_as_keys(*, policies: Injected[KeyService]) -> dict[str, str]:
    return {}


@get("/test/policies")
async def wants_policies(*, policies: Injected[dict[str, PolicySettings]]) -> dict[str, str]:
    return {}


def test_a_handler_given_the_type_it_names_starts(tmp_path: Path) -> None:
    create_app(make_settings(None, tmp_path), extra_routes=(wants_keys, wants_policies))


def test_a_handler_naming_a_service_of_another_type_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"'policies' is injected as .*KeyService.* is a dict"):
        create_app(make_settings(None, tmp_path), extra_routes=(wants_policies_as_keys,))
