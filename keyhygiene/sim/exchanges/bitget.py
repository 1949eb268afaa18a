"""Simulated Bitget v2: ``ACCESS-SIGN`` = base64 HMAC-SHA256(secret, timestamp + METHOD + requestPath [+ "?" + query]
+ body), ``ACCESS-TIMESTAMP`` in ms, passphrase in plain text in ``ACCESS-PASSPHRASE``.

Shape: bitget.com/api-doc/spot/account/Get-Account-Info. Codes and messages: Bitget's error-code page as carried in
ccxt bitget.py. HTTP statuses for the auth errors are not documented per code; 400 is what Bitget's API uses for
request errors (429 for the rate limit).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_b64, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, str, str]] = {
    "missing_header": (400, "40001", "ACCESS_KEY cannot be empty"),
    "clock_skew": (400, "40008", "Request timestamp expired"),
    "invalid_key": (400, "40006", "Invalid ACCESS_KEY"),
    "expired": (400, "40037", "Apikey does not exist"),
    "bad_passphrase": (400, "40012", "apikey/password is incorrect"),
    "bad_signature": (400, "40009", "sign signature error"),
    "ip_not_allowed": (400, "40018", "Invalid IP"),
    "permission_denied": (400, "40014", "Incorrect permissions"),
    "rate_limited": (429, "429", "Too Many Requests"),
}
TIMESTAMP_WINDOW_MS = 30_000  # Bitget rejects requests whose timestamp is more than 30 s off (unconfirmed figure)
REGISTERED_MS = 1246566789345  # the docs' example regisTime (2009): an account date, never the key's


class BitgetSim(SimExchange):
    id = "bitget"
    clock_tolerance_ms = TIMESTAMP_WINDOW_MS

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v2/spot/account/info", self.account_info),
            ("GET", "/api/v2/public/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg, "requestTime": self.now_ms(), "data": None}, status=status)

    async def time(self, request: web.Request) -> web.Response:
        now = self.now_ms()
        return self.json({"code": "00000", "msg": "success", "requestTime": now,
                          "data": {"serverTime": str(now)}})

    async def authenticate(self, request: web.Request) -> SimKey:
        h = request.headers
        api_key, sign, ts, passphrase = (h.get("ACCESS-KEY"), h.get("ACCESS-SIGN"), h.get("ACCESS-TIMESTAMP"),
                                         h.get("ACCESS-PASSPHRASE"))
        if not (api_key and sign and ts and passphrase):
            raise Reject("missing_header")
        self.check_timestamp(ts)
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        if not same(key.passphrase or "", passphrase):
            raise Reject("bad_passphrase")
        body = await request.text()
        # Bitget signs the raw (not percent-encoded) query string.
        query = f"?{unquote(request.query_string)}" if request.query_string else ""
        if not same(hmac_b64(key.secret, f"{ts}{request.method}{request.path}{query}{body}"), sign):
            raise Reject("bad_signature")
        return self.check_key(key)

    async def account_info(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        return self.json({"code": "00000", "msg": "success", "requestTime": self.now_ms(), "data": render(key)})


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    authorities: list[str] = []
    for perm, codes in (("read", ["stor", "coor", "cpor", "smor", "wtor"]), ("spot_trade", ["stow"]),
                        ("margin_trade", ["smow"]), ("futures_trade", ["coow", "cpow"]), ("transfer", ["wtow"]),
                        ("withdraw", ["wwow"])):
        if perm in p:
            authorities += codes
    uid = key.uid if key.uid.isdigit() else "1234567890"
    body: dict[str, Any] = {
        "userId": uid,
        "inviterId": "0",
        "ips": ",".join(key.ip_whitelist or []),
        "authorities": authorities,
        "parentId": int(uid) if key.is_master else 9876543210,
        "traderType": "not_trader",
        "channelCode": "",
        "channel": "",
        "regisTime": str(REGISTERED_MS),
    }
    body.update(key.raw)
    return body


SIM = BitgetSim
