from __future__ import annotations

import pytest

from idsvc.countries import UnknownCountryCode, normalize_nationality


@pytest.mark.parametrize(
    ("code", "normal"),
    [
        ("US", "US"),
        ("USA", "US"),
        ("usa", "US"),
        (" deu ", "DE"),
        ("D", "DE"),
        ("GBD", "GB"),
        ("GBO", "GB"),
        ("RKS", "XK"),
        ("XXA", "XXA"),
        ("XXB", "XXB"),
        ("UNO", "UNO"),
        ("CHN", "CN"),
    ],
)
def test_known_codes_normalise(code: str, normal: str) -> None:
    assert normalize_nationality(code) == normal


@pytest.mark.parametrize("code", ["ZZ", "XYZ", "", "U S", "USAA", "1A", "ÜSA"])
def test_unknown_codes_are_refused_with_a_reason(code: str) -> None:
    with pytest.raises(UnknownCountryCode) as caught:
        normalize_nationality(code)
    assert caught.value.code == "unknown_country_code"
