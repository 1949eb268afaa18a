from __future__ import annotations

import pytest

from keyhygiene.exchanges.adapter import Endpoint
from keyhygiene.exchanges.client import apply_endpoint, rewrite_url
from keyhygiene.exchanges.readonly import Allowlist, ReadOnlyViolation

EP = Endpoint("sapi_get_account_apirestrictions", "GET", "/sapi/v1/account/apiRestrictions")


def test_allowlist_allows_only_listed_method_and_path() -> None:
    a = Allowlist([EP])
    a.check("GET", "https://api.binance.com/sapi/v1/account/apiRestrictions?timestamp=1&signature=x")
    a.check("get", "http://127.0.0.1:9/prefix/sapi/v1/account/apiRestrictions")
    for method, url in [
        ("POST", "https://api.binance.com/sapi/v1/account/apiRestrictions"),
        ("GET", "https://api.binance.com/sapi/v1/account/apiRestrictions/ipRestriction"),
        ("POST", "https://api.binance.com/api/v3/order"),
        ("DELETE", "https://api.binance.com/api/v3/order"),
        ("GET", "https://api.binance.com/api/v3/exchangeInfo"),
    ]:
        with pytest.raises(ReadOnlyViolation):
            a.check(method, url)


@pytest.mark.parametrize(
    ("method", "url", "ok"),
    [
        ("GET", "https://x.com/api/v1/balance", True),
        ("GET", "https://x.com/api/v1/markets", True),
        ("POST", "https://x.com/api/v1/private/balance", True),
        ("POST", "https://x.com/0/private/Balance", True),
        ("POST", "https://x.com/api/v1/order", False),
        ("POST", "https://x.com/api/v1/withdraw", False),
        ("GET", "https://x.com/api/v1/order/cancel", False),
        ("DELETE", "https://x.com/api/v1/orders", False),
        ("PUT", "https://x.com/api/v1/account", False),
    ],
)
def test_generic_allowlist_reads_only(method: str, url: str, ok: bool) -> None:
    a = Allowlist(generic=True)
    if ok:
        a.check(method, url)
    else:
        with pytest.raises(ReadOnlyViolation):
            a.check(method, url)


def test_rewrite_url_keeps_path_and_query() -> None:
    assert rewrite_url("https://api.binance.com/sapi/v1/x?a=1", "http://127.0.0.1:9000") == \
        "http://127.0.0.1:9000/sapi/v1/x?a=1"
    assert rewrite_url("https://api.{hostname}/v5", "http://h:1/pre/", "bybit.com") == "http://h:1/pre/v5"


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx", "kucoin", "htx", "coinbase", "kraken", "gate",
                                      "bitget", "bitfinex", "bingx", "mexc", "bitstamp"])
def test_apply_endpoint_rewrites_every_api_url(exchange: str) -> None:
    import ccxt

    client = getattr(ccxt, exchange)()
    apply_endpoint(client, "http://127.0.0.1:9999")

    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [u for v in node.values() for u in walk(v)]
        if isinstance(node, list):
            return [u for v in node for u in walk(v)]
        return []

    urls = [u for u in walk(client.urls["api"]) if "://" in u or u.startswith("{")]
    assert urls, "no API URLs found"
    assert all(u.startswith("http://127.0.0.1:9999") for u in urls), urls
    assert client.hostname == "127.0.0.1:9999"


def test_int_code_reads_numeric_codes_from_the_first_field_present() -> None:
    from keyhygiene.exchanges.adapter import int_code

    assert int_code({"code": "10003"}) == 10003
    assert int_code({"retCode": -2015, "code": 1}, "retCode", "ret_code") == -2015
    assert int_code({"ret_code": 10002}, "retCode", "ret_code") == 10002
    assert int_code({"code": "x"}) is None
    assert int_code({"code": None}) is None
    assert int_code("<html>", "code") is None
    assert int_code(None) is None


@pytest.mark.parametrize(("masked", "ok"), [
    ("abcd1234wxyz", True),  # shown whole
    ("abcd****wxyz", True),
    ("abcd****", True),
    ("****wxyz", True),
    ("ab****yz", True),  # four characters shown in all
    ("abcd****wxya", False),  # the tail is another key's
    ("abce****", False),
    ("****", False),  # names no key: matched every key before
    ("a****z", False),  # too little shown to tell keys apart
    ("", False),
    (None, False),
])
def test_masked_matches_needs_the_shown_characters_to_be_the_keys(masked: object, ok: bool) -> None:
    from keyhygiene.exchanges.adapter import masked_matches

    assert masked_matches(masked, "abcd1234wxyz") is ok


def test_bingx_picks_no_stranger_for_a_fully_masked_entry() -> None:
    from keyhygiene.exchanges.bingx import select_own

    resp = {"data": {"apiInfos": [{"apiKey": "****", "createTime": 1}, {"apiKey": "zzzz****zzzz", "createTime": 2}]}}
    assert select_own(resp, "abcd1234wxyz") is None
