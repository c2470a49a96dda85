"""The ``[screening]`` and ``[dns]`` sections: defaults, and bad values named by key."""

from __future__ import annotations

import tomllib

import pytest

from idsvc.settings import ConfigError, parse_config


def test_the_readme_example_parses() -> None:
    config = parse_config(
        tomllib.loads(
            "[screening]\nthreshold = 88.0\n"
            '[dns]\nnameservers = ["127.0.0.1", "::1"]\nport = 5353\ntimeout = 5.0\n'
        )
    )
    assert config.screening.threshold == 88.0
    assert config.dns.nameservers == ("127.0.0.1", "::1")
    assert config.dns.port == 5353
    defaults = parse_config({})
    assert defaults.dns.nameservers == ()  # the system resolver
    assert defaults.screening.threshold == 88.0


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"screening": {"threshold": 30}}, "screening.threshold"),
        ({"dns": {"port": 0}}, "dns.port"),
        ({"dns": {"nameservers": ["dns.example.com"]}}, "dns.nameservers"),
        ({"dns": {"timeot": 1}}, "dns.timeot"),
    ],
)
def test_bad_values_name_the_key(document: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config(document)
