"""Which exchanges exist and which credentials each needs, from ccxt itself.

Imports ccxt lazily: the GUI must be able to paint its first frame before ccxt loads (DESIGN.md). The static facts
(supported exchanges, display names) are core facts, re-exported here.
"""

from __future__ import annotations

from functools import cache

from keyhygiene.core.exchange_facts import DISPLAY_NAMES, SUPPORTED, display_name

__all__ = ["DISPLAY_NAMES", "SUPPORTED", "all_exchange_ids", "display_name", "is_known", "needs_passphrase",
           "required_credentials"]


@cache
def all_exchange_ids() -> tuple[str, ...]:
    import ccxt

    return tuple(sorted(ccxt.exchanges))


@cache
def exchange_names() -> dict[str, str]:
    """Every ccxt exchange id with the exchange's own name (``binancecoinm`` -> ``Binance COIN-M``), for pickers.
    ccxt keeps the name in each class's ``describe()``, so this builds each exchange once (~0.5 s): call it off
    the GUI thread."""
    import ccxt

    names: dict[str, str] = {}
    for ex in all_exchange_ids():
        try:
            name = getattr(ccxt, ex)().name
        except Exception:  # an exchange class that cannot be built here still gets listed, by its id
            name = None
        names[ex] = DISPLAY_NAMES.get(ex) or (name if isinstance(name, str) and name else ex)
    return names


def is_known(exchange_id: str) -> bool:
    name = exchange_id.lower()
    # The app checks --endpoint before its window shows: the supported twelve must not cost ccxt's import (~0.7 s,
    # ~60 MB) there; only another name needs ccxt's list.
    return name in SUPPORTED or name in all_exchange_ids()


@cache
def required_credentials(exchange_id: str) -> tuple[str, ...]:
    """ccxt's ``requiredCredentials`` that are True, e.g. ``('apiKey', 'secret', 'password')`` for KuCoin."""
    import ccxt

    cls = getattr(ccxt, exchange_id.lower())
    req = cls().requiredCredentials
    return tuple(name for name, needed in req.items() if needed)


def needs_passphrase(exchange_id: str) -> bool:
    return "password" in required_credentials(exchange_id)
