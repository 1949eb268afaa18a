"""Inspect many keys at once: every exchange in parallel, each paced to its own rate limit.

One slow or failing exchange never holds up the others: each key is its own task, and the only thing tasks of the
same exchange share is that exchange's pacer. All clients share one aiohttp session (one connection pool).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges.limits import RateLimit, limit_for

log = logging.getLogger(__name__)

# Margin over the exact spacing: requests reach the exchange with jitter, and one early arrival costs a 429.
_PACE_MARGIN = 1.08
_PACE_SLACK_S = 0.005


class Pacer:
    """Evenly spaced request slots: one every ``per_seconds / requests``.

    Any ``requests`` consecutive slots span 8% more than the window: that is the jitter a request may pick up
    between taking its slot and reaching the exchange (a busy event loop, a new connection) without a 429. The
    audit's wall time is set by the slowest exchange's window, so the margin costs about 8% of it.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.interval = limit.interval * _PACE_MARGIN + _PACE_SLACK_S
        self.next_free = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self.next_free)
        self.next_free = slot + self.interval  # reserved before awaiting: tasks cannot overtake each other
        if slot > now:
            await asyncio.sleep(slot - now)


def _shared_session() -> Any:
    import aiohttp
    import certifi

    ctx = ssl.create_default_context(cafile=certifi.where())
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, limit=200, enable_cleanup_closed=True))


async def inspect_many(
    items: Sequence[tuple[str, str, Credentials]],
    *,
    endpoints: Mapping[str, str] | None = None,
    declared: Mapping[str, list[str] | None] | None = None,
    on_result: Callable[[str, KeyProfile], None] | None = None,
    cancel: asyncio.Event | None = None,
    rate_limits: Mapping[str, RateLimit] | None = None,
) -> dict[str, KeyProfile]:
    """Inspect ``(key_id, exchange, creds)`` items; returns key_id → profile. Cancelled keys are left out."""
    from keyhygiene.exchanges.inspect import inspect_key

    pacers: dict[str, Pacer] = {}
    results: dict[str, KeyProfile] = {}
    session = _shared_session()

    async def one(key_id: str, exchange: str, creds: Credentials) -> None:
        pacer = pacers.setdefault(exchange, Pacer((rate_limits or {}).get(exchange) or limit_for(exchange)))
        if cancel is not None and cancel.is_set():
            return
        try:
            profile = await inspect_key(
                exchange, creds, endpoints=endpoints, declared_permissions=(declared or {}).get(key_id),
                session=session, pacer=pacer,
            )
        except Exception as exc:  # noqa: BLE001 - inspect_key should not raise; if it does, only this key fails
            log.exception("inspect of key %s crashed", key_id)
            profile = KeyProfile(exchange=exchange, key=mask_key(creds.api_key), status=Status.ERROR,
                                 message=f"Internal error while checking this key ({type(exc).__name__}).")
        results[key_id] = profile
        if on_result is not None:
            on_result(key_id, profile)

    tasks = [asyncio.create_task(one(k, ex, c)) for k, ex, c in items]
    try:
        if cancel is None:
            await asyncio.gather(*tasks)
        else:
            waiter = asyncio.create_task(cancel.wait())
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
                pending.discard(waiter)
                if waiter in done:
                    for t in pending:
                        t.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    break
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
    finally:
        await session.close()
    return results


def critical_path_seconds(counts: Mapping[str, int], latency_s: float,
                          rate_limits: Mapping[str, RateLimit] | None = None) -> float:
    """The shortest wall time the exchanges' limits allow for ``counts`` requests per exchange.

    With n requests and at most r per window w, the last request can start at floor((n-1)/r)*w and then takes
    one round trip; exchanges run in parallel, so the audit's lower bound is the slowest exchange's.
    """
    worst = 0.0
    for ex, n in counts.items():
        if n <= 0:
            continue
        lim = (rate_limits or {}).get(ex) or limit_for(ex)
        worst = max(worst, ((n - 1) // lim.requests) * lim.per_seconds + latency_s)
    return worst
