"""Turn the exchange names that bot configs use (``gate_io``, ``OKEX``, ``binance_perpetual``) into ccxt ids.

Only a ccxt id or one of the aliases below counts as an exchange: that is what keeps ``GEMINI_API_KEY`` from a
random project from being mistaken for anything unless it also comes with a secret (see the .env detector).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache

# Names bots and older ccxt versions use for exchanges that ccxt now calls differently.
ALIASES: dict[str, str] = {
    "okex": "okx",
    "okex5": "okx",
    "huobi": "htx",
    "huobipro": "htx",
    "gateio": "gate",
    "gdax": "coinbaseexchange",
    "coinbasepro": "coinbaseexchange",
    "coinbaseadvanced": "coinbase",
    "coinbaseadvancedtrade": "coinbase",
    "cryptocomexchange": "cryptocom",
    "bitpanda": "onetrading",
    "bitfinex2": "bitfinex",
    "woox": "woo",
    "mexcglobal": "mexc",
    "kucoinspot": "kucoin",
}

# Exchange ids whose API keys are the same credentials as another id's: Binance USDⓈ-M and COIN-M futures use
# the account's ordinary Binance API key, so a key found for them is the vault's "binance" key.
SAME_CREDENTIALS_AS: dict[str, str] = {
    "binanceusdm": "binance",
    "binancecoinm": "binance",
}

_MAX_TOKENS = 4  # "coinbase_advanced_trade" is the longest real-world spelling seen


# ccxt's exchange ids are the exchange layer's to load (the core never imports it): the service hands over the
# function that lists them when it starts (``service.App``), read on the first lookup.
_exchange_ids: Callable[[], Iterable[str]] | None = None


def use_exchange_ids(source: Callable[[], Iterable[str]]) -> None:
    """Where the known exchange ids come from (``exchanges.catalog.all_exchange_ids``)."""
    global _exchange_ids
    if source is not _exchange_ids:
        _exchange_ids = source
        _known_ids.cache_clear()


@cache
def _known_ids() -> frozenset[str]:
    if _exchange_ids is None:
        raise RuntimeError("no list of exchange ids: the service layer sets it (exchange_names.use_exchange_ids)")
    return frozenset(_exchange_ids())


def resolve(name: str) -> str | None:
    """``name`` as one word (``Gate.io``, ``OKEX``, ``binanceusdm``) → ccxt id, or None when it is not an exchange."""
    squashed = "".join(ch for ch in name.lower() if ch.isalnum())
    if not squashed:
        return None
    ident = ALIASES.get(squashed, squashed)
    if ident not in _known_ids():
        return None
    return SAME_CREDENTIALS_AS.get(ident, ident)


def resolve_prefix(tokens: Sequence[str]) -> tuple[str, int] | None:
    """Longest run of leading ``tokens`` that names an exchange: ``["binance", "us", "spot"]`` → ``("binanceus", 2)``.

    Returns the ccxt id and how many tokens it used, so callers can keep the rest as a qualifier
    (``PERPETUAL_FUTURES``, ``TESTNET``).
    """
    for n in range(min(len(tokens), _MAX_TOKENS), 0, -1):
        ident = resolve("".join(tokens[:n]))
        if ident is not None:
            return ident, n
    return None


_TOKEN = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def split_tokens(name: str) -> list[str]:
    """``binanceFutures`` / ``gate_io`` / ``BINANCE_US`` → lowercase word tokens."""
    return [t.lower() for t in _TOKEN.findall(name)]


def resolve_loose(name: str) -> str | None:
    """``resolve`` on the whole name, then on its leading words (``binance_perpetual_testnet`` → binance)."""
    ident = resolve(name)
    if ident is not None:
        return ident
    hit = resolve_prefix(split_tokens(name))
    return hit[0] if hit else None
