"""Reading the OIDC ``claims`` request parameter: where verified_claims go, and which."""

from __future__ import annotations

import pytest

from idsvc.devidp.claims import (
    EVERYWHERE,
    ClaimsRequestError,
    VerifiedClaimsSelection,
    parse_claims_request,
)


def test_no_claims_parameter_returns_verified_claims_everywhere() -> None:
    assert parse_claims_request(None) == EVERYWHERE


def test_claims_parameter_without_verified_claims_returns_none() -> None:
    request = parse_claims_request('{"userinfo": {"email": null}, "id_token": null}')
    assert (request.id_token, request.userinfo) == (None, None)


def test_verified_claims_without_a_claims_filter_returns_all() -> None:
    request = parse_claims_request('{"id_token": {"verified_claims": {"verification": {}}}}')
    assert request.id_token == VerifiedClaimsSelection()
    assert request.userinfo is None


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"id_token": 5}',
        '{"id_token": {"verified_claims": 5}}',
        '{"id_token": {"verified_claims": [5]}}',
        '{"userinfo": {"verified_claims": {}}, "x": "' + "y" * 5000 + '"}',
    ],
)
def test_malformed_claims_parameter_is_an_error(raw: str) -> None:
    with pytest.raises(ClaimsRequestError):
        parse_claims_request(raw)
