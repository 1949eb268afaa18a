"""Capture the exact request ccxt would send (URL, headers, body, signature) without sending it, so a test can
tamper with it, replay it, or send it as it is to the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from keyhygiene.core.models import Credentials
from keyhygiene.exchanges.client import apply_endpoint


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def with_(self, **kw: Any) -> SignedRequest:
        return replace(self, **kw)


class _Captured(Exception):
    pass


def capture(exchange: str, creds: Credentials, endpoint: str,
            call: Callable[[Any], Awaitable[Any]], *, configure: Callable[[Any], None] | None = None) -> SignedRequest:
    """Run ``call(client)`` on a ccxt client pointed at ``endpoint`` and return the first request it signs."""
    import ccxt.async_support as ccxt_async

    async def run() -> SignedRequest:
        client = getattr(ccxt_async, exchange)({**creds.to_ccxt(), "enableRateLimit": False})
        apply_endpoint(client, endpoint)
        if configure is not None:
            configure(client)
        seen: dict[str, Any] = {}

        async def fake_fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            seen.update(url=url, method=method, headers=dict(headers or {}), body=body)
            raise _Captured

        client.fetch = fake_fetch
        try:
            await call(client)
        except _Captured:
            pass
        finally:
            await client.close()
        if not seen:
            raise AssertionError("the call sent no request")
        return SignedRequest(seen["method"], seen["url"], seen["headers"], seen["body"])

    return asyncio.run(run())


def send(req: SignedRequest) -> tuple[int, Any]:
    """Send a (possibly tampered) request; returns (HTTP status, decoded JSON or text)."""

    async def run() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.request(req.method, req.url, headers=req.headers, data=req.body) as resp:
                try:
                    return resp.status, await resp.json(content_type=None)
                except ValueError:
                    return resp.status, await resp.text()

    return asyncio.run(run())
