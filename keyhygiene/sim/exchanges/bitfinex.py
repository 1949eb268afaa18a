"""Simulated Bitfinex v2 authenticated REST: headers ``bfx-nonce``, ``bfx-apikey``, ``bfx-signature`` =
hex HMAC-SHA384(secret, "/api/" + path + nonce + body) over the raw JSON body; the nonce must grow with every
request of a key.

Shape: docs.bitfinex.com/reference/key-permissions (``[[scope, read, write], ...]``). Errors are arrays
``["error", CODE, "text"]``: an unknown key and a bad signature both give HTTP 500 ``10100 "apikey: invalid"``
(exchanges-confirmations.md BF1); ``10114 "nonce: small"``; ``11010 "ratelimit: error"``. Bitfinex's answer to a
request from an IP outside the key's allowlist is not documented: it is answered like an invalid key. Bitfinex does
not check clocks, so clock skew has no effect here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_hex, same
from keyhygiene.sim.model import SimKey

_INVALID = (500, 10100, "apikey: invalid")
_ERRORS: dict[str, tuple[int, int, str]] = {
    "invalid_key": _INVALID,
    "expired": _INVALID,
    "bad_signature": _INVALID,
    "bad_passphrase": _INVALID,
    "ip_not_allowed": _INVALID,
    "permission_denied": (500, 10001, "api_key: permission invalid"),
    "clock_skew": (500, 10114, "nonce: small"),
    "rate_limited": (429, 11010, "ratelimit: error"),
}


class BitfinexSim(SimExchange):
    id = "bitfinex"

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.last_nonce: dict[str, int] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [("POST", "/v2/auth/r/permissions", self.permissions)]

    def error(self, kind: str) -> web.Response:
        status, code, text = _ERRORS[kind]
        return self.json(["error", code, text], status=status)

    async def authenticate(self, request: web.Request) -> SimKey:
        api_key = request.headers.get("bfx-apikey")
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        nonce = request.headers.get("bfx-nonce", "")
        body = await request.text()
        expected = hmac_hex(key.secret, f"/api{request.path}{nonce}{body}", "sha384")
        if not same(expected, request.headers.get("bfx-signature")):
            raise Reject("bad_signature")
        try:
            n = int(nonce)
        except ValueError:
            raise Reject("clock_skew") from None
        if n <= self.last_nonce.get(key.api_key, 0):
            raise Reject("clock_skew")  # 10114 "nonce: small"
        self.last_nonce[key.api_key] = n
        return self.check_key(key)

    async def permissions(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        return self.json(render(key))


def render(key: SimKey) -> list[list[Any]]:
    p = key.permissions
    r = 1 if "read" in p else 0
    rows = {
        "account": [r, 0], "history": [r, 0],
        "orders": [r, int(bool(p & {"spot_trade", "margin_trade", "futures_trade"}))],
        "positions": [r, int(bool(p & {"margin_trade", "futures_trade"}))],
        "funding": [r, 0], "settings": [r, 0],
        "wallets": [r, int("transfer" in p)],
        "withdraw": [r, int("withdraw" in p)],
        "ui_withdraw": [0, 0], "bfxpay": [0, 0],
    }
    rows.update({k: v for k, v in key.raw.items() if isinstance(v, list)})
    return [[scope, *flags] for scope, flags in rows.items()]


SIM = BitfinexSim
