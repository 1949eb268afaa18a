"""The loopback exchange simulator: one aiohttp app per exchange, each on its own 127.0.0.1 port.

Shared behaviour lives in one middleware: request log, latency, the exchange's rate-limit window, and injected
faults (HTML page, malformed JSON, 429/418 with Retry-After, 5xx, a request that never answers). Clock skew is a
per-exchange clock offset: signed requests fail the exchange's timestamp check until the client resyncs with the
exchange's server-time endpoint, which reports the skewed clock.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.exchanges.limits import RateLimit, budget_for
from keyhygiene.sim import registration
from keyhygiene.sim.base import Reject, SimExchange
from keyhygiene.sim.console import CONSOLE_PREFIX, Console
from keyhygiene.sim.model import SimKey

log = logging.getLogger(__name__)

FAULT_KINDS = ("html", "malformed_json", "http_429", "http_418", "http_500", "clock_skew", "hang",
               # issue 18: answers a client must neither follow nor swallow whole
               "redirect", "endless_body", "gzip_bomb", "huge_json")
# Where the "redirect" fault sends a client: another host name for the loopback (so a client that follows it
# carries the API key header to a host it was never pointed at) and a withdraw path (never on an allowlist).
REDIRECT_PATH = "/sapi/v1/capital/withdraw/apply"
HUGE_JSON_BYTES = 8 * 1024 * 1024
CLOCK_SKEW_MS = 120_000
DEFAULT_CLIENT_IP = "203.0.113.10"  # TEST-NET-3: the public IP the simulator pretends requests come from


# Where each exchange carries the API key on a signed request (for per-key rate limits).
KEY_HEADERS: dict[str, str] = {
    "binance": "X-MBX-APIKEY", "bybit": "X-BAPI-API-KEY", "okx": "OK-ACCESS-KEY", "kucoin": "KC-API-KEY",
    "kraken": "API-Key", "bitget": "ACCESS-KEY", "gate": "KEY", "bitfinex": "bfx-apikey",
    "bingx": "X-BX-APIKEY", "mexc": "X-MEXC-APIKEY",
}
KEY_QUERY_PARAMS: dict[str, str] = {"htx": "AccessKeyId"}


def request_api_key(exchange: str, request: web.Request) -> str | None:
    if exchange in KEY_HEADERS:
        return request.headers.get(KEY_HEADERS[exchange])
    if exchange in KEY_QUERY_PARAMS:
        return request.query.get(KEY_QUERY_PARAMS[exchange])
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        # Coinbase: a fresh JWT per request; its header's ``kid`` names the key (no verification needed here).
        try:
            import jwt

            kid = jwt.get_unverified_header(auth[7:].strip()).get("kid")
            return str(kid) if kid else None
        except Exception:  # noqa: BLE001 - a malformed token is the handler's to reject
            return None
    return None


@dataclass
class Fault:
    kind: str
    remaining: int | None  # None: until cleared


def _load_exchange(exchange: str) -> type[SimExchange] | None:
    try:
        module = importlib.import_module(f"keyhygiene.sim.exchanges.{exchange}")
    except ModuleNotFoundError:
        return None
    return module.SIM  # type: ignore[no-any-return]


class Simulator:
    def __init__(
        self,
        latency: float = 0.0,
        exchanges: tuple[str, ...] | None = None,
        rate_limits: dict[str, RateLimit] | None = None,
        enforce_rate_limits: bool = True,
    ) -> None:
        self.latency: dict[str | None, float] = {None: latency}
        self.client_ip = DEFAULT_CLIENT_IP
        self.keys: dict[tuple[str, str], SimKey] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.clock_offset_ms: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[float, str, str, str]] = []  # (time, exchange, method, path)
        self.enforce_rate_limits = enforce_rate_limits
        # Per-IP limits (all requests to an exchange); per-key limits come from the exchange's budget.
        self.rate_limits = {ex: (rate_limits or {}).get(ex, budget_for(ex).per_ip) for ex in SUPPORTED}
        self.key_limits = {ex: budget_for(ex).per_key for ex in SUPPORTED}
        self._windows: dict[object, deque[float]] = defaultdict(deque)
        self._wanted = exchanges or SUPPORTED
        self._runners: list[web.AppRunner] = []
        self._hanging: set[asyncio.Future[None]] = set()
        self.endpoints: dict[str, str] = {}
        self.handlers: dict[str, SimExchange] = {}
        # Every POST of the console page (sim/console.py) must carry it: no other web page can post to it.
        self.console_token = secrets.token_urlsafe(24)

    # ---- configuration --------------------------------------------------------------------------------------
    def add_key(self, key: SimKey) -> SimKey:
        self.keys[(key.exchange, key.api_key)] = key
        return key

    def find_key(self, exchange: str, api_key: str) -> SimKey | None:
        return self.keys.get((exchange, api_key))

    # What a user does on the exchange's API page (sim/registration.py; the sim console serves it as HTML).
    def create_key(self, exchange: str, **settings: Any) -> SimKey:
        """A new system-generated (HMAC) key; ``settings``: permissions, ip_whitelist, label."""
        return registration.create_hmac_key(self, exchange, **settings)

    def register_public_key(self, exchange: str, public_pem: str, **settings: Any) -> SimKey:
        """The key the exchange creates for a user-supplied public key; registration.Refused when it refuses it."""
        return registration.register_public_key(self, exchange, public_pem, **settings)

    def delete_key(self, exchange: str, api_key: str) -> bool:
        return registration.delete_key(self, exchange, api_key)

    def revoke(self, api_key: str) -> None:
        for (_ex, k), key in self.keys.items():
            if k == api_key:
                key.revoked = True

    def set_latency(self, seconds: float, exchange: str | None = None) -> None:
        self.latency[exchange] = seconds

    def inject_fault(self, exchange: str, kind: str, count: int | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        if kind == "clock_skew":
            self.clock_offset_ms[exchange] = CLOCK_SKEW_MS
            return
        self.faults[exchange].append(Fault(kind, count))

    def clear_faults(self, exchange: str | None = None) -> None:
        # A clock skew lives only in clock_offset_ms (inject_fault never touches faults for it): clear both.
        for ex in [exchange] if exchange else list({*self.faults, *self.clock_offset_ms}):
            self.faults[ex].clear()
            self.clock_offset_ms[ex] = 0

    def now_ms(self, exchange: str) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms[exchange]

    def request_count(self, exchange: str | None = None, path: str | None = None) -> int:
        return sum(1 for _t, ex, _m, p in self.requests
                   if (exchange is None or ex == exchange) and (path is None or p == path))

    # ---- lifecycle ------------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", ports: dict[str, int] | None = None) -> dict[str, str]:
        for ex in self._wanted:
            cls = _load_exchange(ex)
            if cls is None:
                continue
            handler = cls(self)
            self.handlers[ex] = handler
            app = web.Application(middlewares=[self._middleware(ex)])
            for method, path, fn in [*handler.routes(), *Console(self, ex).routes()]:
                app.router.add_route(method, path, fn)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, host, (ports or {}).get(ex, 0))
            await site.start()
            self._runners.append(runner)
            sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
            port = sockets[0].getsockname()[1]
            self.endpoints[ex] = f"http://{host}:{port}"
        return dict(self.endpoints)

    async def stop(self) -> None:
        for fut in list(self._hanging):
            fut.cancel()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- shared behaviour -----------------------------------------------------------------------------------
    def _take_fault(self, exchange: str) -> str | None:
        q = self.faults.get(exchange)
        if not q:
            return None
        f = q[0]
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                q.popleft()
        return f.kind

    def _rate_check(self, exchange: str, api_key: str | None = None, endpoint: str | None = None) -> float | None:
        """Seconds until the per-IP (or, with ``api_key``, the per-key) window has room; None when this request
        fits (and is then counted). ``endpoint`` gives a per-IP window of its own to each path."""
        if not self.enforce_rate_limits:
            return None
        lim = self.rate_limits.get(exchange) if api_key is None else self.key_limits.get(exchange)
        if lim is None:
            return None
        now = time.monotonic()
        scope: object = exchange if endpoint is None else (exchange, "ip", endpoint)
        win = self._windows[scope if api_key is None else (exchange, api_key)]
        # 10% slack: real exchanges count in coarse buckets, not to the millisecond, and loopback arrival times
        # jitter with the load on this machine. The scheduler's pacing is tested against the same budget.
        while win and now - win[0] >= lim.per_seconds * 0.9:
            win.popleft()
        if len(win) >= lim.requests:
            return lim.per_seconds - (now - win[0])
        win.append(now)
        return None

    def _middleware(self, exchange: str):  # type: ignore[no-untyped-def]
        # (the hostile answers of issue 18 are in _hostile_answer below)
        @web.middleware
        async def middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
            if request.path.startswith(CONSOLE_PREFIX + "/"):
                # The API management page is not the exchange's API: no latency, faults, limits or request log.
                return await handler(request)
            self.requests.append((time.monotonic(), exchange, request.method, request.path))
            delay = self.latency.get(exchange, self.latency[None])
            if delay:
                await asyncio.sleep(delay)
            ex = self.handlers[exchange]
            fault = self._take_fault(exchange)
            if fault == "hang":
                fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._hanging.add(fut)
                try:
                    await fut
                finally:
                    self._hanging.discard(fut)
            if fault == "html":
                return web.Response(status=502, content_type="text/html",
                                    text="<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>")
            if fault == "malformed_json":
                return web.Response(status=200, content_type="application/json", text='{"data": {"perm')
            if fault in ("http_429", "http_418"):
                resp = ex.error("rate_limited")
                resp.set_status(429 if fault == "http_429" else 418)
                resp.headers["Retry-After"] = "1"
                return resp
            if fault in ("redirect", "endless_body", "gzip_bomb", "huge_json"):
                return await _hostile_answer(fault, request)
            if fault == "http_500":
                return web.Response(status=500, content_type="application/json",
                                    text='{"error": "Internal Server Error"}')
            per_endpoint = budget_for(exchange).per_endpoint  # limits.py: the documented budgets, shared with the app
            wait = self._rate_check(exchange, endpoint=request.path if per_endpoint else None)
            api_key = request_api_key(exchange, request)
            if wait is None and api_key:
                scope = f"{api_key} {request.path}" if per_endpoint else api_key
                wait = self._rate_check(exchange, scope)
            if wait is not None:
                resp = ex.error("rate_limited")
                resp.set_status(429)
                resp.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                return resp
            try:
                return await handler(request)
            except Reject as r:
                return ex.error(r.kind)

        return middleware


async def _hostile_answer(fault: str, request: web.Request) -> web.StreamResponse:
    """Answers that once drove a client to follow a redirect with the key, or to gigabytes of memory."""
    if fault == "redirect":
        port = request.url.port
        raise web.HTTPFound(f"http://localhost:{port}{REDIRECT_PATH}?amount=1&coin=BTC")
    if fault == "huge_json":
        body = b'{"data": "' + b"x" * HUGE_JSON_BYTES + b'"}'
        return web.Response(body=body, content_type="application/json")
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    if fault == "gzip_bomb":
        member = _gzip_member()
        resp.headers["Content-Encoding"] = "gzip"
        await resp.prepare(request)
        for _ in range(16):  # 16 gzip members of 64 MiB of zeros each: 1 GiB from ~1 MB on the wire
            await resp.write(member)
        await resp.write_eof()
        return resp
    await resp.prepare(request)  # endless_body: a JSON array that never closes, until the client hangs up
    await resp.write(b"[")
    chunk = b'"' + b"x" * 65_000 + b'",'
    try:
        while True:
            await resp.write(chunk)
    except (ConnectionError, RuntimeError):
        pass
    return resp


_GZIP_MEMBER: bytes | None = None


def _gzip_member() -> bytes:
    global _GZIP_MEMBER
    if _GZIP_MEMBER is None:
        import gzip

        _GZIP_MEMBER = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    return _GZIP_MEMBER
