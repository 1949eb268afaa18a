from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS
from keyhygiene.exchanges.adapter import ParseError
from keyhygiene.exchanges.binance import TABLE, BinanceAdapter

DOC_EXAMPLE = {
    "ipRestrict": False, "createTime": 1698645219000, "enableInternalTransfer": False, "enableFutures": False,
    "enablePortfolioMarginTrading": True, "enableVanillaOptions": False, "permitsUniversalTransfer": False,
    "enableReading": True, "enableSpotAndMarginTrading": False, "enableWithdrawals": False, "enableMargin": False,
}


# The current example of developers.binance.com wallet/account/api-key-permission (with the FIX flags).
CURRENT_DOC_EXAMPLE = {
    "ipRestrict": False, "createTime": 1698645219000, "enableReading": True, "enableWithdrawals": False,
    "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
    "permitsUniversalTransfer": False, "enableVanillaOptions": False, "enableFixApiTrade": False,
    "enableFixReadOnly": True, "enableSpotAndMarginTrading": False, "enablePortfolioMarginTrading": True,
}


def parse(data: dict) -> KeyProfile:
    p = KeyProfile(exchange="binance", key="x")
    BinanceAdapter().parse(data, p)
    return p


def test_documented_example() -> None:
    p = parse(DOC_EXAMPLE)
    assert p.permissions == ["futures_trade", "margin_trade", "read"]
    assert p.ip_restricted is False and p.ip_whitelist == []  # Binance says: no IP restriction (issue 15 item 7)
    assert p.created_at == datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)
    assert p.trade_expires_at is None and p.expires_at is None and p.is_master is None


@pytest.mark.parametrize(
    ("field", "perms"),
    [
        ("enableSpotAndMarginTrading", {"spot_trade", "margin_trade"}),
        ("enableMargin", {"margin_trade"}),
        ("enableFutures", {"futures_trade"}),
        ("enableVanillaOptions", {"options_trade"}),
        ("enableWithdrawals", {"withdraw"}),
        ("enableInternalTransfer", {"transfer"}),
        ("permitsUniversalTransfer", {"transfer"}),
    ],
)
def test_each_flag_maps_to_its_permission(field: str, perms: set[str]) -> None:
    data = {k: (False if isinstance(v, bool) else v) for k, v in DOC_EXAMPLE.items()}
    data["enableReading"] = True
    data[field] = True
    assert set(parse(data).permissions) == {"read"} | perms


def test_trading_authority_expiry_and_fix_flags() -> None:
    p = parse({**DOC_EXAMPLE, "ipRestrict": True, "tradingAuthorityExpirationTime": 1700000000000,
               "enableFixApiTrade": True, "enableBrandNew": True})
    assert p.ip_restricted is True
    assert p.trade_expires_at == datetime.fromtimestamp(1700000000, UTC)
    assert p.other == ["enableBrandNew"]


def test_fix_api_trade_is_a_spot_trade_right() -> None:
    # Issue 15 item 4: FIX order entry places and cancels SPOT orders (binance-spot-api-docs fix-api).
    p = parse({**CURRENT_DOC_EXAMPLE, "enableFixApiTrade": True})
    assert "spot_trade" in p.permissions and "enableFixApiTrade" not in p.other
    assert "fix-api" in TABLE.grants["enableFixApiTrade"].source


def test_current_documented_example_has_no_trading_authority_expiry() -> None:
    # tradingAuthorityExpirationTime is absent when there is none (it is not in the docs' example): null.
    p = parse(CURRENT_DOC_EXAMPLE)
    assert "tradingAuthorityExpirationTime" not in CURRENT_DOC_EXAMPLE
    assert p.trade_expires_at is None
    assert p.permissions == ["futures_trade", "margin_trade", "read"] and p.other == ["enableFixReadOnly"]


def test_undocumented_shape_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse({"code": 0, "data": {}})


@pytest.mark.parametrize(
    ("code", "status"),
    [(-2015, Status.REJECTED), (-2014, Status.INVALID_KEY), (-1022, Status.INVALID_SIGNATURE),
     (-1021, Status.CLOCK_SKEW), (-1002, Status.PERMISSION_DENIED), (-1003, Status.RATE_LIMITED)],
)
def test_error_codes(code: int, status: Status) -> None:
    mapped = BinanceAdapter().classify(400, {"code": code, "msg": "x"}, RuntimeError())
    assert mapped is not None and mapped[0] is status


def test_minus_2015_after_success_is_still_rejected_not_ddos() -> None:
    """ccxt raises DDoSProtection for -2015 once the instance has authenticated: the body code decides."""
    import ccxt

    mapped = BinanceAdapter().classify(401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions"},
                                       ccxt.DDoSProtection("binance"))
    assert mapped is not None and mapped[0] is Status.REJECTED


booleans = st.one_of(st.booleans(), st.none(), st.integers(-1, 2), st.text(max_size=5))
fields = st.sampled_from([*TABLE.grants, "ipRestrict", "createTime", "tradingAuthorityExpirationTime"])
unknown = st.text(min_size=1, max_size=20).filter(lambda s: s not in TABLE.grants)


@given(st.dictionaries(st.one_of(fields, unknown), booleans, max_size=15), st.booleans())
def test_random_fields_never_crash(data: dict, reading: bool) -> None:
    data["enableReading"] = reading
    p = parse(data)
    assert p.permissions == sorted(p.permissions)
    assert set(p.permissions) <= set(ALL_PERMISSIONS)
    for k, v in data.items():
        if k not in TABLE.grants and k not in ("ipRestrict", "createTime", "tradingAuthorityExpirationTime") \
                and v is True:
            assert k in p.other
