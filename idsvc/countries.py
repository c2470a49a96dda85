"""Nationality codes in one normal form.

Providers send ICAO Doc 9303 / ISO 3166-1 alpha-3 codes (the OpenID Connect for Identity
Assurance claims registry) or alpha-2. We store ISO 3166-1 alpha-2 for countries, from
``pycountry``'s ISO tables. ICAO's travel-document codes that are not ISO are mapped where
they name a country (``D`` for Germany, the British nationality variants ``GBD``, ``GBN``,
``GBO``, ``GBP``, ``GBS`` for GB, ``RKS`` for Kosovo's ``XK``) and kept as explicit special
values where they do not: ``XXA`` stateless, ``XXB`` refugee (1951 Convention), ``XXC``
other refugee, ``XXX`` unspecified, ``UNO``/``UNA``/``UNK`` United Nations documents. A
stateless person's nationality must not silently become a country, and a policy that
requires a U.S. person never matches one of these.
"""

from __future__ import annotations

import pycountry

__all__ = [
    "SPECIAL_NATIONALITIES",
    "UnknownCountryCode",
    "is_iso_country",
    "normalize_nationality",
]

_ICAO_TO_ALPHA2 = {
    "D": "DE",
    "GBD": "GB",
    "GBN": "GB",
    "GBO": "GB",
    "GBP": "GB",
    "GBS": "GB",
    "RKS": "XK",
    "XK": "XK",
    "XKX": "XK",
}
SPECIAL_NATIONALITIES = frozenset({"XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "UNK"})


class UnknownCountryCode(ValueError):
    code = "unknown_country_code"

    def __init__(self, value: str) -> None:
        super().__init__(f"not an ISO 3166-1 or ICAO nationality code: {value[:16]!r}")
        self.value = value


def normalize_nationality(code: str) -> str:
    text = code.strip().upper()
    if text in SPECIAL_NATIONALITIES:
        return text
    if text in _ICAO_TO_ALPHA2:
        return _ICAO_TO_ALPHA2[text]
    country = None
    if len(text) == 2 and text.isalpha():
        country = pycountry.countries.get(alpha_2=text)
    elif len(text) == 3 and text.isalpha():
        country = pycountry.countries.get(alpha_3=text)
    if country is None:
        raise UnknownCountryCode(code)
    return str(country.alpha_2)


def is_iso_country(code: str) -> bool:
    """``code`` is exactly an ISO 3166-1 alpha-2 country code ("DE", not "de", "DEU" or "IA").
    Data such as the country groups is checked against this, not normalised: a typo there
    would otherwise deny or allow nobody, silently."""
    return (
        len(code) == 2
        and code.isascii()
        and code.isupper()
        and (pycountry.countries.get(alpha_2=code) is not None)
    )
