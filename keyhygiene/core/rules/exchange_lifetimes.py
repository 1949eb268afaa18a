"""Exchange rules that end a key's life on their own: deletion after inactivity, expiry of keys without an IP.

One table, one row per rule, each with its source and whether that source is the exchange's own word
(``reference/exchanges.md`` and ``exchanges-confirmations.md``). The app reports these as what the exchange
*says* it does; a key that "should" be dead is still checked against the exchange, never assumed dead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keyhygiene.core.rules.facts import KeyFacts


@dataclass(frozen=True)
class LifetimeRule:
    exchange: str
    kind: str  # "inactivity": deleted after N days unused; "age": expires N days after creation
    days: int
    applies: Callable[[KeyFacts], bool]
    what: str  # what the exchange does, in a sentence that follows the exchange's name
    source: str
    verified: bool  # True when the source is the exchange's own documentation


def _unbound(f: KeyFacts) -> bool:
    return f.ip_restricted is False


def _unbound_trade_or_withdraw(f: KeyFacts) -> bool:
    return _unbound(f) and (f.can_trade or f.can_withdraw)


def _unbound_bingx(f: KeyFacts) -> bool:
    # BingX names spot/futures trading, universal transfer and sub-account management (not in our vocabulary).
    return _unbound(f) and (f.has("spot_trade") or f.has("futures_trade") or f.can_transfer)


def _unbound_no_reported_expiry(f: KeyFacts) -> bool:
    return _unbound(f) and f.expires_at is None


LIFETIME_RULES: tuple[LifetimeRule, ...] = (
    LifetimeRule(
        # docs-v5 "API key security": "API keys that are not linked to an IP address and have `trade` or `withdraw`
        # permissions will expire after 14 days of inactivity. (The API key of demo trading will not expire)"; only
        # calls that need API key authentication count as use.
        "okx", "inactivity", 14, _unbound_trade_or_withdraw,
        "expires keys that are not linked to an IP address and have trade or withdraw permission after 14 days "
        "without an authenticated call",
        "https://www.okx.com/docs-v5/en/#overview-api-key-creation-api-key-security",
        verified=True,
    ),
    LifetimeRule(
        "bingx", "inactivity", 14, _unbound_bingx,
        "deletes keys without an IP binding that can trade or transfer after 14 days without use",
        "https://bingx.com/en-gb/account/api/",
        verified=True,
    ),
    LifetimeRule(
        "binance", "inactivity", 30, _unbound,
        "deletes keys without an IP whitelist that have been unused for more than 30 days",
        "https://helpdesk.bitsgap.com/en/articles/6838861-how-do-i-whitelist-the-bitsgap-ip-address-in-binance"
        " (Bitsgap's help centre; not confirmed by Binance)",
        verified=False,
    ),
    LifetimeRule(
        "htx", "age", 90, _unbound_no_reported_expiry,
        "expires keys without a bound IP 90 days after they are created",
        "https://huobiapi.github.io/docs/spot/v1/en/",
        verified=True,
    ),
    LifetimeRule(
        "mexc", "age", 90, _unbound_no_reported_expiry,
        "expires keys without a linked IP 90 days after they are created",
        "https://mexcdevelop.github.io/apidocs/spot_v3_en/ (FAQ)",
        verified=True,
    ),
    LifetimeRule(
        "bybit", "age", 0, _unbound_no_reported_expiry,
        "expires keys without a bound IP (its key-info answer carries the date, but none came back this time)",
        "https://bybit-exchange.github.io/docs/v5/user/apikey-info",
        verified=True,
    ),
)


def rules_for(exchange: str) -> list[LifetimeRule]:
    return [r for r in LIFETIME_RULES if r.exchange == exchange]
