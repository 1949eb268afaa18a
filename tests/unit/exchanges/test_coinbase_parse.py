from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.coinbase import TABLE, CoinbaseAdapter, CoinbaseClockSkew, _scheme_free_auth_token
from tests.helpers.sim_force import generic_for_rate_limit

# Field names of the official OpenAPI schema GetApiKeyPermissionsResponse.
DOC = {"can_view": True, "can_trade": True, "can_transfer": False,
       "portfolio_uuid": "8b3d3c1b-0000-0000-0000-000000000000", "portfolio_type": "DEFAULT"}


def parse(data: dict) -> KeyProfile:
    p = KeyProfile(exchange="coinbase", key="x")
    CoinbaseAdapter().parse(data, p)
    return p


def test_documented_fields() -> None:
    p = parse(DOC)
    assert p.permissions == ["futures_trade", "read", "spot_trade"]
    assert p.other == []
    assert p.ip_restricted is None and p.ip_whitelist is None  # not reported by this endpoint
    assert p.created_at is None and p.expires_at is None and p.is_master is None and p.third_party_link is None
    assert p.account_id is None  # a portfolio id is not an account id
    assert len(p.notes) == 1 and "portfolio_type DEFAULT" in p.notes[0]
    assert "UNDEFINED, DEFAULT, CONSUMER, INTX" in p.notes[0]


def test_transfer_scope_is_withdraw_and_transfer() -> None:
    assert parse({**DOC, "can_trade": False, "can_transfer": True}).permissions == ["read", "transfer", "withdraw"]


# The official SDK's test body (coinbase/coinbase-advanced-py tests/rest/test_data_api.py).
SDK_TEST_BODY = {"can_view": True, "can_trade": False, "can_withdraw": False, "portfolio_uuid": "portfolio1"}


def test_official_sdk_body_reports_can_withdraw() -> None:
    # Issue 15 item 5: can_withdraw maps to withdraw where present, beside can_transfer.
    p = parse(SDK_TEST_BODY)
    assert p.permissions == ["read"] and p.other == []
    p = parse({**SDK_TEST_BODY, "can_withdraw": True})
    assert p.permissions == ["read", "withdraw"] and p.other == []
    both = parse({**SDK_TEST_BODY, "can_withdraw": True, "can_transfer": True})
    assert both.permissions == ["read", "transfer", "withdraw"]


def test_undocumented_portfolio_type_is_said_so() -> None:
    p = parse({**DOC, "portfolio_type": "INTX"})
    assert "portfolio_type INTX;" in p.notes[0]
    p = parse({**DOC, "portfolio_type": "SOMETHING"})
    assert "does not document" in p.notes[0]


def test_string_booleans_and_unknown_scopes() -> None:
    p = parse({"can_view": "true", "can_trade": "false", "can_stake": True, "portfolio_type": ""})
    assert p.permissions == ["read"] and p.other == ["can_stake"] and p.notes == []


@pytest.mark.parametrize("data", [{}, [], {"can_trade": True}, "Unauthorized"])
def test_undocumented_shapes_are_parse_errors(data: object) -> None:
    with pytest.raises(ParseError):
        CoinbaseAdapter().parse(data, KeyProfile(exchange="coinbase", key="x"))


@pytest.mark.parametrize(
    ("http", "body", "status"),
    [(401, None, Status.REJECTED), (403, {"error": "PERMISSION_DENIED"}, Status.PERMISSION_DENIED),
     (400, {"errors": [{"id": "invalid_scope"}]}, Status.PERMISSION_DENIED),
     (400, {"errors": [{"id": "expired_token"}]}, Status.REJECTED),
     (400, {"error": "rate_limit_exceeded"}, Status.RATE_LIMITED)],
)
def test_error_mapping(http: int, body: object, status: Status) -> None:
    mapped = CoinbaseAdapter().classify(http, body, RuntimeError())
    assert mapped is not None and mapped[0] is status


def test_429_and_418_are_left_to_the_generic_mapping() -> None:
    assert generic_for_rate_limit(CoinbaseAdapter(), 429, json.dumps({"error": "RATE_LIMIT_EXCEEDED"}))
    assert generic_for_rate_limit(CoinbaseAdapter(), 418, None)


def test_clock_skew_exception_is_named() -> None:
    mapped = CoinbaseAdapter().classify(401, None, CoinbaseClockSkew(-95.4))
    assert mapped is not None and mapped[0] is Status.CLOCK_SKEW and "95 s" in mapped[1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://api.coinbase.com/api/v3/brokerage/key_permissions", "api.coinbase.com/api/v3/brokerage/key_permissions"),
     ("http://127.0.0.1:8123/api/v3/brokerage/key_permissions", "127.0.0.1:8123/api/v3/brokerage/key_permissions"),
     (None, None)],
)
def test_uri_claim_loses_any_scheme(url: str | None, expected: str | None) -> None:
    seen = []
    hooked = _scheme_free_auth_token(lambda s, m, u, e: seen.append((s, m, u, e)) or "token")
    assert hooked(1, "GET", url, False) == "token"
    assert seen == [(1, "GET", expected, False)]


@given(st.dictionaries(st.one_of(st.sampled_from(sorted(TABLE.grants)), st.text(max_size=12).map("can_".__add__),
                                 st.text(max_size=10)),
                       st.one_of(st.booleans(), st.none(), st.integers(), st.text(max_size=6)), max_size=8))
def test_random_fields_never_crash(extra: dict) -> None:
    p = parse({**DOC, **extra})
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    assert p.permissions == sorted(p.permissions) and p.other == sorted(p.other)
    for k, v in {**DOC, **extra}.items():
        if k.startswith("can_") and k not in TABLE.grants and v is True:
            assert k in p.other


def test_a_403_web_page_is_not_read_as_a_missing_scope() -> None:
    assert CoinbaseAdapter().classify(403, None, RuntimeError()) is None  # generic: an HTML error page
