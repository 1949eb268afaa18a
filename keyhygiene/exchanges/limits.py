"""Request budgets for each exchange, shared by the audit scheduler and the simulator.

Exchanges limit in two scopes: per account or key (UID limits: each of the user's keys has its own budget) and
per source IP (everything this machine sends). An audit sends one or two requests per key, so per-key limits
rarely bind; the per-IP budget is what bounds an audit of many keys on one exchange. The scheduler never sends
faster than either; the simulator enforces the same numbers, so the benchmark can compute the critical path an
audit is allowed (``critical_path_seconds``). Per-IP budgets are a conservative share of each exchange's
documented IP limit, so a user's bots sharing the IP keep most of it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    requests: int  # at most this many requests …
    per_seconds: float  # … in any window of this length


@dataclass(frozen=True)
class Budget:
    per_ip: RateLimit
    per_key: RateLimit | None = None
    # True where the exchange counts each endpoint separately (BingX, HTX, MEXC docs): a key's second request
    # to another endpoint does not eat into the first endpoint's budget.
    per_endpoint: bool = False


_IP = RateLimit(10, 1.0)

BUDGETS: dict[str, Budget] = {
    # Binance: key-info weight 1 of 6,000 weight/min per IP.
    "binance": Budget(per_ip=_IP),
    # KuCoin: management pool per UID (key-info weight 20 of 4,000/30 s); public IP limit 2,000/30 s.
    "kucoin": Budget(per_ip=_IP, per_key=RateLimit(20, 3.0)),
    # OKX docs-v5 Get account configuration: 5 requests / 2 s, rule User ID.
    "okx": Budget(per_ip=_IP, per_key=RateLimit(5, 2.0)),
    # Bybit: query-api 10/s per UID; 600 requests / 5 s per IP.
    "bybit": Budget(per_ip=_IP, per_key=RateLimit(10, 1.0)),
    # Coinbase Advanced Trade rate-limits page (docs.cloud.coinbase.com …/rest-api-rate-limits, via a copy):
    # private endpoints 30 requests/s per user; not re-read on the current docs site.
    "coinbase": Budget(per_ip=_IP, per_key=RateLimit(30, 1.0)),
    # Kraken docs spot-rest-ratelimits: a counter per API key, +1 per call (ledger/trade history +2), max 15
    # decaying 0.33/s at the Starter tier: about one call a second sustained.
    "kraken": Budget(per_ip=_IP, per_key=RateLimit(1, 1.0)),
    # Bitget api-doc spot/account/Get-Account-Info: "Frequency limit: 1 time/1s (User ID)".
    "bitget": Budget(per_ip=_IP, per_key=RateLimit(1, 1.0)),
    # Gate: main_keys has no figure in the docs copy; ccxt budgets private endpoints at 150 / 10 s.
    "gate": Budget(per_ip=_IP, per_key=RateLimit(150, 10.0)),
    # HTX spot docs, Rate Limiting Rule: "Each API Key is limited to 10 times per second" (uid + api-key per key).
    "htx": Budget(per_ip=_IP, per_key=RateLimit(10, 1.0), per_endpoint=True),
    # Bitfinex docs: an IP may send 10-90 requests / min to one endpoint, depending on load (then blocked 10-60 s);
    # no figure is published for auth/r/permissions. We budget the 90/min ceiling as a window (bursts allowed): an
    # audit sends one request per key, and a stricter answer comes back as a rate-limit status, never a crash.
    "bitfinex": Budget(per_ip=RateLimit(90, 60.0)),
    # BingX docs: apiPermissions 2/s per UID (bingx-api docs copy; the docs-v3 bundle said 5/s), uid 10/s,
    # apiKey/query 5/s; a key costs up to 3 requests.
    "bingx": Budget(per_ip=_IP, per_key=RateLimit(2, 1.0), per_endpoint=True),
    # MEXC spot v3 docs, Account Information: "rate limit: 2 times/s"; Weight(IP) 10 of 500 / 10 s per endpoint.
    # IP budget: 500 weight / 10 s at weight 10 = 50 calls / 10 s (a window: bursts allowed).
    "mexc": Budget(per_ip=RateLimit(50, 10.0), per_key=RateLimit(2, 1.0), per_endpoint=True),
}
DEFAULT_BUDGET = Budget(per_ip=RateLimit(5, 1.0), per_key=RateLimit(1, 1.0))


def budget_for(exchange: str) -> Budget:
    return BUDGETS.get(exchange, DEFAULT_BUDGET)


def limit_for(exchange: str) -> RateLimit:
    """The per-IP limit: what bounds an audit of many keys on one exchange."""
    return budget_for(exchange).per_ip
