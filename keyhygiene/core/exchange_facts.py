"""Static facts about exchanges, without ccxt: which have a key-info adapter, their display names, and where the
user manages API keys on each exchange's website (the rotation wizard opens these).

Core facts: rules, reports and every widget read them without loading the exchange layer. What only ccxt knows
(every exchange id, which credentials each needs) stays in ``exchanges/catalog.py``.
"""

from __future__ import annotations

# The twelve exchanges with a key-info adapter, in the order the UI lists them first.
SUPPORTED: tuple[str, ...] = (
    "binance", "kucoin", "okx", "bybit", "coinbase", "kraken",
    "bitget", "gate", "htx", "bitfinex", "bingx", "mexc",
)

DISPLAY_NAMES: dict[str, str] = {
    "binance": "Binance", "kucoin": "KuCoin", "okx": "OKX", "bybit": "Bybit", "coinbase": "Coinbase",
    "kraken": "Kraken", "bitget": "Bitget", "gate": "Gate", "htx": "HTX", "bitfinex": "Bitfinex",
    "bingx": "BingX", "mexc": "MEXC",
}


def display_name(exchange_id: str) -> str:
    if exchange_id in DISPLAY_NAMES:
        return DISPLAY_NAMES[exchange_id]
    return exchange_id.capitalize()


# Sources: exchanges.md §1-12 and exchanges-confirmations.md (Kraken corrected to docs.kraken.com's URL).
API_KEY_PAGES: dict[str, str] = {
    "binance": "https://www.binance.com/en/my/settings/api-management",
    "kucoin": "https://www.kucoin.com/account/api",
    "okx": "https://www.okx.com/account/my-api",
    "bybit": "https://www.bybit.com/app/user/api-management",
    "coinbase": "https://portal.cdp.coinbase.com/access/api",
    "kraken": "https://www.kraken.com/u/security/api",
    "bitget": "https://www.bitget.com/account/newapi",
    "gate": "https://www.gate.com/myaccount/apikeys",
    "htx": "https://www.htx.com/en-us/apikey/",
    "bitfinex": "https://setting.bitfinex.com/api",
    "bingx": "https://bingx.com/en-gb/account/api/",  # confirmed (exchanges-confirmations.md B8)
    "mexc": "https://www.mexc.com/user/openapi",  # confirmed: mexcdevelop/apidocs "API Key Setup"
}


def key_page(exchange: str) -> str | None:
    return API_KEY_PAGES.get(exchange)
