"""Simulated MEXC spot v3: ``X-MEXC-APIKEY`` header, ``signature`` = lowercase hex HMAC-SHA256(secret, totalParams)
where totalParams is the query string before ``&signature=`` (GET: no body).

Source: mexcdevelop/apidocs spot v3 (SIGNED, Timing security: ``timestamp < serverTime + 1000 && serverTime -
timestamp <= recvWindow``, recvWindow default 5000, max 60000; "Account Information" ``GET /api/v3/account`` with
Permission SPOT_ACCOUNT_READ; error codes 10072, 700002, 700003, 700005, 700006, 700007, 429). HTTP statuses of
these errors are not in the docs copy (400 assumed, 429 for the rate limit). The account balances are left empty:
KeyHygiene never needs them. ``/api/v3/apiKeyInfo`` is deliberately absent - MEXC documents it only as a write.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_hex, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, int, str]] = {
    "invalid_key": (400, 10072, "Api key info invalid"),
    # ccxt: MEXC answers "Signature for this request is not valid" for expired keys as well.
    "expired": (400, 700002, "Signature for this request is not valid."),
    "bad_signature": (400, 700002, "Signature for this request is not valid."),
    "bad_passphrase": (400, 700002, "Signature for this request is not valid."),
    "ip_not_allowed": (400, 700006, "IP [203.0.113.10] not in the ip white list"),
    "permission_denied": (400, 700007, "No permission to access the endpoint."),
    "clock_skew": (400, 700003, "Timestamp for this request is outside of the recvWindow."),
    "rate_limited": (429, 429, "Too Many Requests"),
}
MAX_RECV_WINDOW = 60_000


class MexcSim(SimExchange):
    id = "mexc"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v3/account", self.account),
            ("GET", "/api/v3/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg}, status=status)

    async def time(self, request: web.Request) -> web.Response:
        return self.json({"serverTime": self.now_ms()})

    def authenticate(self, request: web.Request) -> SimKey:
        key = self.find_key(request.headers.get("X-MEXC-APIKEY"))
        if key is None:
            raise Reject("invalid_key")
        payload, sep, signature = request.query_string.rpartition("&signature=")
        if not sep or not same(hmac_hex(key.secret, payload), signature):
            raise Reject("bad_signature")
        params = dict(parse_qsl(payload))
        try:
            ts, recv = int(params.get("timestamp", "")), int(params.get("recvWindow", "5000"))
        except ValueError:
            raise Reject("clock_skew") from None
        now = self.now_ms()
        if not (ts < now + 1000 and now - ts <= recv):
            raise Reject("clock_skew")
        return self.check_key(key)

    async def account(self, request: web.Request) -> web.Response:
        recv = request.query.get("recvWindow", "5000")
        if recv.isdigit() and int(recv) > MAX_RECV_WINDOW:
            return self.json({"code": 700005, "msg": "recvWindow must less than 60000"}, status=400)
        key = self.authenticate(request)
        if "read" not in key.permissions:
            raise Reject("permission_denied")  # Permission: SPOT_ACCOUNT_READ
        return self.json(render(key))


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    body: dict[str, Any] = {
        "canTrade": "spot_trade" in p, "canWithdraw": "withdraw" in p, "canDeposit": True,
        "updateTime": None, "accountType": "SPOT", "balances": [], "permissions": ["SPOT"],
    }
    body.update(key.raw)
    return body


SIM = MexcSim
