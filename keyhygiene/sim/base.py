"""The contract each simulated exchange implements, and helpers they share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from keyhygiene.sim.model import SimKey

if TYPE_CHECKING:
    from keyhygiene.sim.server import Simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Reject(Exception):
    """Raised inside a handler to answer with the exchange's error for ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# Kinds every exchange must be able to render (SimExchange.error):
ERROR_KINDS = (
    "invalid_key", "bad_signature", "bad_passphrase", "ip_not_allowed", "permission_denied", "expired",
    "clock_skew", "rate_limited",
)


class SimExchange:
    """One exchange's API surface. Subclasses declare routes and answer in the exchange's documented shape."""

    id: ClassVar[str]
    # Maximum clock difference the exchange tolerates, in ms (its recvWindow or documented tolerance).
    clock_tolerance_ms: ClassVar[int] = 5000

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    def error(self, kind: str) -> web.Response:
        """The exchange's documented error response for ``kind`` (one of ERROR_KINDS)."""
        raise NotImplementedError

    # ---- shared helpers ---------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.sim.now_ms(self.id)

    def find_key(self, api_key: str | None) -> SimKey | None:
        if not api_key:
            return None
        return self.sim.find_key(self.id, api_key)

    def check_key(self, key: SimKey | None) -> SimKey:
        """Common checks after the signature verified: revoked, expired, IP whitelist."""
        if key is None or key.revoked:
            raise Reject("invalid_key")
        if key.expires_at is not None and key.expires_at.timestamp() * 1000 < self.now_ms():
            raise Reject("expired")
        if key.ip_whitelist and self.sim.client_ip not in key.ip_whitelist:
            raise Reject("ip_not_allowed")
        return key

    def check_timestamp(self, ts_ms: int | str | None, window_ms: int | None = None) -> None:
        try:
            ts = int(float(ts_ms))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise Reject("clock_skew") from None
        window = window_ms if window_ms is not None else self.clock_tolerance_ms
        if abs(self.now_ms() - ts) > window:
            raise Reject("clock_skew")

    @staticmethod
    def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(text=json.dumps(data), status=status, content_type="application/json", headers=headers)


def hmac_hex(secret: str, message: str, algo: str = "sha256") -> str:
    return hmac.new(secret.encode(), message.encode(), getattr(hashlib, algo)).hexdigest()


def hmac_b64(secret: str | bytes, message: str | bytes, algo: str = "sha256") -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    msg = message.encode() if isinstance(message, str) else message
    return base64.b64encode(hmac.new(key, msg, getattr(hashlib, algo)).digest()).decode()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)
