"""What only ccxt knows about exchanges (every id, which credentials each needs), for the window and the command
line, which never import the exchange layer. Blocking on first use: ccxt loads then (run it off the GUI thread).
The static facts (names, API-key pages) are core's: ``core/exchange_facts.py``."""

from __future__ import annotations


def exchange_ids() -> tuple[str, ...]:
    from keyhygiene.exchanges import catalog

    return catalog.all_exchange_ids()


def is_known(exchange: str) -> bool:
    from keyhygiene.exchanges import catalog

    return catalog.is_known(exchange)


def required_credentials(exchange: str) -> tuple[str, ...]:
    from keyhygiene.exchanges import catalog

    return catalog.required_credentials(exchange)


def needs_passphrase(exchange: str) -> bool:
    from keyhygiene.exchanges import catalog

    return catalog.needs_passphrase(exchange)


def exchange_names() -> dict[str, str]:
    """Every ccxt exchange id with the exchange's own name, for pickers (slow: builds each exchange once)."""
    from keyhygiene.exchanges import catalog

    return catalog.exchange_names()
