"""Request budgets for each exchange's key-info endpoint, shared by the audit scheduler and the simulator.

The scheduler never sends faster than these; the simulator enforces the same numbers, so the benchmark can compute
the critical path an audit is allowed. Numbers are deliberately at or below each exchange's documented limit for
the endpoint we call (sources in the per-exchange adapter modules).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    requests: int  # at most this many requests …
    per_seconds: float  # … in any window of this length

    @property
    def interval(self) -> float:
        return self.per_seconds / self.requests


LIMITS: dict[str, RateLimit] = {
    "binance": RateLimit(10, 1.0),  # weight 1 of 6000/min per IP; we stay far below
    "kucoin": RateLimit(10, 1.0),  # management pool 4000/30s; key-info weight 20
    "okx": RateLimit(5, 2.0),  # /account/config: 5 requests per 2 s
    "bybit": RateLimit(10, 1.0),  # query-api: 10/s
    "coinbase": RateLimit(10, 1.0),  # private REST 30/s; conservative
    "kraken": RateLimit(1, 1.0),  # counter-based; about one private call per second sustained
    "bitget": RateLimit(1, 1.0),  # spot account info: 1/s per UID
    "gate": RateLimit(10, 1.0),  # private endpoints 200/10s
    "htx": RateLimit(10, 1.0),  # private 100/10s per UID
    "bitfinex": RateLimit(1, 1.0),  # auth endpoints ~90/min
    "bingx": RateLimit(5, 1.0),  # apiPermissions: 5 req/s
    "mexc": RateLimit(10, 1.0),
}
DEFAULT_LIMIT = RateLimit(1, 1.0)


def limit_for(exchange: str) -> RateLimit:
    return LIMITS.get(exchange, DEFAULT_LIMIT)
