"""Simulated Binance: HMAC-SHA256 over the query string (``signature`` last), ``X-MBX-APIKEY`` header; keys made
from a registered Ed25519 or RSA public key sign the same string (base64, percent-encoded).

Shape and codes: developers.binance.com api-key-permission; binance-spot-api-docs errors.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.signatures import request_query, verify

_ERRORS: dict[str, tuple[int, int, str]] = {
    # kind: (HTTP status, code, msg). A deleted key, a wrong IP and a missing permission all get -2015.
    "invalid_key": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "expired": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "ip_not_allowed": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "permission_denied": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "bad_signature": (400, -1022, "Signature for this request is not valid."),
    "bad_passphrase": (400, -1022, "Signature for this request is not valid."),
    "clock_skew": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "rate_limited": (429, -1003, "Too many requests; current limit is 6000 request weight per 1 MINUTE."),
}


class BinanceSim(SimExchange):
    id = "binance"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/sapi/v1/account/apiRestrictions", self.api_restrictions),
            ("GET", "/api/v3/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg}, status=status)

    async def time(self, request: web.Request) -> web.Response:
        return self.json({"serverTime": self.now_ms()})

    def authenticate(self, request: web.Request) -> SimKey:
        api_key = request.headers.get("X-MBX-APIKEY")
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        payload, sep, signature = request_query(request).rpartition("&signature=")
        # HMAC: hex; Ed25519/RSA keys: base64, percent-encoded (sim/signatures.py).
        if not sep or not verify(key, payload, unquote(signature)):
            raise Reject("bad_signature")
        ts = request.query.get("timestamp")
        recv = int(request.query.get("recvWindow", "5000"))
        try:
            t = int(ts or "")
        except ValueError:
            raise Reject("clock_skew") from None
        now = self.now_ms()
        # Binance: reject if timestamp is older than recvWindow or more than 1000 ms ahead of server time.
        if t < now - recv or t > now + 1000:
            raise Reject("clock_skew")
        return self.check_key(key)

    async def api_restrictions(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        return self.json(render(key))


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    body: dict[str, Any] = {
        "ipRestrict": bool(key.ip_whitelist),
        "createTime": int(key.created_at.timestamp() * 1000) if key.created_at else 1698645219000,
        "enableInternalTransfer": "transfer" in p,
        "enableFutures": "futures_trade" in p,
        "enablePortfolioMarginTrading": False,
        "enableVanillaOptions": "options_trade" in p,
        "permitsUniversalTransfer": "transfer" in p,
        "enableReading": "read" in p,
        "enableSpotAndMarginTrading": "spot_trade" in p,
        "enableWithdrawals": "withdraw" in p,
        "enableMargin": "margin_trade" in p,
        # In the current docs example; FIX order entry is a spot trade right (the sim grants it only via ``raw``).
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
    }
    if key.trade_expires_at:
        body["tradingAuthorityExpirationTime"] = int(key.trade_expires_at.timestamp() * 1000)
    body.update(key.raw)
    return body


SIM = BinanceSim
