"""Issue 15 item 7: one meaning of "unrestricted" across the twelve adapters.

Where the exchange says the key has no IP restriction: ``ip_restricted`` False and ``ip_whitelist`` []. ``None`` only
where the exchange does not say. Each body is shaped like the exchange's documented example (the parse tests' own
constants), changed only in its IP field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from keyhygiene.core.models import KeyProfile
from keyhygiene.exchanges.catalog import SUPPORTED
from tests.unit.exchanges import (
    test_binance_parse,
    test_bingx_parse,
    test_bitfinex_parse,
    test_bitget_parse,
    test_bybit_parse,
    test_coinbase_parse,
    test_gate_parse,
    test_htx_parse,
    test_kraken_parse,
    test_kucoin_parse,
    test_mexc_parse,
    test_okx_parse,
)


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


# exchange -> (parse a body the exchange uses for "no IP restriction", or None where the exchange never says)
UNRESTRICTED: dict[str, Callable[[], KeyProfile] | None] = {
    "binance": lambda: test_binance_parse.parse({**test_binance_parse.CURRENT_DOC_EXAMPLE, "ipRestrict": False}),
    "bybit": lambda: test_bybit_parse.parse({**test_bybit_parse.CURRENT_DOC_RESULT, "ips": ["*"]}),
    "okx": lambda: test_okx_parse.parse({**test_okx_parse.DOC_ROW, "ip": ""}),
    "kucoin": lambda: test_kucoin_parse.parse({**test_kucoin_parse.DOC_DATA, "ipWhitelist": ""}),
    "kraken": lambda: test_kraken_parse.parse({**test_kraken_parse.DOC_RESULT, "ipAllowlist": []}),
    "bitget": lambda: test_bitget_parse.parse({**test_bitget_parse.DOC_DATA, "ips": ""}),
    "gate": lambda: test_gate_parse.parse({**test_gate_parse.DOC_EXAMPLE[0], "ip_whitelist": []}),
    "htx": lambda: test_htx_parse.parse(test_htx_parse.DOC_DATA[1]),  # "ipAddresses": ""
    "bingx": lambda: test_bingx_parse.parse({**test_bingx_parse.DOC_PERMISSIONS, "ipAddresses": [""]}),
    "coinbase": None, "bitfinex": None, "mexc": None,  # these never report a key's IP restriction
}
# exchange -> parse a body in which the exchange does not say anything about IPs
NOT_SAID: dict[str, Callable[[], KeyProfile]] = {
    "binance": lambda: test_binance_parse.parse(_without(test_binance_parse.CURRENT_DOC_EXAMPLE, "ipRestrict")),
    "bybit": lambda: test_bybit_parse.parse(_without(test_bybit_parse.CURRENT_DOC_RESULT, "ips")),
    "okx": lambda: test_okx_parse.parse(_without(test_okx_parse.DOC_ROW, "ip")),
    "kraken": lambda: test_kraken_parse.parse(_without(test_kraken_parse.DOC_RESULT, "ipAllowlist")),
    "bitget": lambda: test_bitget_parse.parse(_without(test_bitget_parse.DOC_DATA, "ips")),
    "gate": lambda: test_gate_parse.parse(_without(test_gate_parse.DOC_EXAMPLE[0], "ip_whitelist")),
    "bingx": lambda: test_bingx_parse.parse(_without(test_bingx_parse.DOC_PERMISSIONS, "ipAddresses")),
    "coinbase": lambda: test_coinbase_parse.parse(test_coinbase_parse.DOC),
    "bitfinex": lambda: test_bitfinex_parse.parse(test_bitfinex_parse.DOC_EXAMPLE),
    "mexc": lambda: test_mexc_parse.parse(test_mexc_parse.DOC_EXAMPLE),
    # KuCoin: ipWhitelist is optional in its spec and absent/empty for a key without one; HTX: the official client
    # checks for an absent ipAddresses (exchanges-confirmations.md H2). Both read an absent field as
    # "unrestricted" (KuCoin with a note saying so): see UNRESTRICTED_WHEN_ABSENT.
}
UNRESTRICTED_WHEN_ABSENT: dict[str, Callable[[], KeyProfile]] = {
    "kucoin": lambda: test_kucoin_parse.parse(_without(test_kucoin_parse.DOC_DATA, "ipWhitelist")),
    "htx": lambda: test_htx_parse.parse(_without(test_htx_parse.DOC_DATA[1], "ipAddresses")),
}


def test_every_adapter_is_covered() -> None:
    assert set(UNRESTRICTED) == set(SUPPORTED)
    assert set(NOT_SAID) | set(UNRESTRICTED_WHEN_ABSENT) == set(SUPPORTED)


@pytest.mark.parametrize("exchange", SUPPORTED)
def test_unrestricted_means_false_and_an_empty_list(exchange: str) -> None:
    make = UNRESTRICTED[exchange]
    if make is None:
        pytest.skip(f"{exchange} never reports a key's IP restriction")
    p = make()
    assert (p.ip_restricted, p.ip_whitelist) == (False, []), exchange
    assert p.to_json()["ip_whitelist"] == [] and p.to_json()["ip_restricted"] is False


@pytest.mark.parametrize("exchange", sorted(NOT_SAID))
def test_null_only_where_the_exchange_does_not_say(exchange: str) -> None:
    p = NOT_SAID[exchange]()
    assert (p.ip_restricted, p.ip_whitelist) == (None, None), exchange


@pytest.mark.parametrize("exchange", sorted(UNRESTRICTED_WHEN_ABSENT))
def test_an_absent_field_that_means_unrestricted(exchange: str) -> None:
    p = UNRESTRICTED_WHEN_ABSENT[exchange]()
    assert (p.ip_restricted, p.ip_whitelist) == (False, []), exchange


@pytest.mark.parametrize("exchange", sorted(ex for ex, f in UNRESTRICTED.items() if f is not None))
def test_restricted_is_never_an_empty_list(exchange: str) -> None:
    p = UNRESTRICTED[exchange]()  # type: ignore[misc]
    assert not (p.ip_restricted is True and p.ip_whitelist == [])
