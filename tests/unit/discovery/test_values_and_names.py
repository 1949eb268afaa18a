from __future__ import annotations

import pytest

from keyhygiene.core.discovery import exchange_names
from keyhygiene.core.discovery.values import is_filled, is_placeholder, is_reference, looks_like_credential


@pytest.mark.parametrize("value", [
    "your_exchange_key", "YOUR_API_SECRET", "<your secret>", "xxxxxxxxxxxx", "********", "changeme123456",
    "insert-key-here", "${BINANCE_KEY}", "$BINANCE_KEY", "%BINANCE_KEY%", "", "   ", "secret", "api_key",
    "EXAMPLEKEY1234567", "short", "has spaces in it here", None, 12345678901234,
])
def test_not_credentials(value: object) -> None:
    assert not looks_like_credential(value)


@pytest.mark.parametrize("value", [
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "0123456789abcdef0123456789abcdef", "a1B2c3D4e5F6g7H8", "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ=",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oG0iDqcvZqIpoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----\n",
])
def test_credentials(value: str) -> None:
    assert looks_like_credential(value)


def test_references_and_placeholders() -> None:
    assert is_reference("${X}") and is_reference("$X") and not is_reference("abc$")
    assert is_placeholder("your key") and is_placeholder("0000000000") and not is_placeholder("a1b2c3d4e5f6")
    assert is_filled("pass1") and is_filled(42) and not is_filled("") and not is_filled("<passphrase>")
    assert not is_filled(True)


@pytest.mark.parametrize(("name", "want"), [
    ("binance", "binance"), ("Binance", "binance"), ("OKEX", "okx"), ("huobi", "htx"), ("gate.io", "gate"),
    ("gateio", "gate"), ("binanceusdm", "binance"), ("binanceus", "binanceus"), ("kucoinfutures", "kucoinfutures"),
    ("not-an-exchange", None), ("", None), ("telegram", None),
])
def test_resolve(name: str, want: str | None) -> None:
    assert exchange_names.resolve(name) == want


@pytest.mark.parametrize(("tokens", "want"), [
    (["binance"], ("binance", 1)), (["binance", "us", "spot"], ("binanceus", 2)),
    (["binance", "perpetual", "futures"], ("binance", 1)), (["gate", "io"], ("gate", 2)),
    (["database"], None), ([], None),
])
def test_resolve_prefix(tokens: list[str], want: tuple[str, int] | None) -> None:
    assert exchange_names.resolve_prefix(tokens) == want


@pytest.mark.parametrize(("name", "want"), [
    ("binanceFutures", "binance"), ("binance_perpetual_testnet", "binance"), ("kucoin_perpetual", "kucoin"),
    ("coinbase_advanced_trade", "coinbase"), ("gate_io", "gate"), ("mystery_exchange", None),
])
def test_resolve_loose(name: str, want: str | None) -> None:
    assert exchange_names.resolve_loose(name) == want
