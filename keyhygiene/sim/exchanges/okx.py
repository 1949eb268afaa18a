"""Simulated OKX v5: ``OK-ACCESS-SIGN`` = base64 HMAC-SHA256(secret, timestamp + METHOD + requestPath + body).

``OK-ACCESS-TIMESTAMP`` is ISO-8601 UTC with milliseconds; the passphrase travels in plain text in
``OK-ACCESS-PASSPHRASE``. Shape and codes: okx.com/docs-v5 "Get account configuration", the v5 error table (auth
errors 501xx are HTTP 401, rate limit 50011 is HTTP 429).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_b64, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, str, str]] = {
    "missing_header": (401, "50103", 'Request header "OK-ACCESS-KEY" can not be empty.'),
    "bad_timestamp": (401, "50112", "Invalid OK-ACCESS-TIMESTAMP"),
    "clock_skew": (401, "50102", "Timestamp request expired"),
    "invalid_key": (401, "50111", "Invalid OK-ACCESS-KEY"),
    "expired": (401, "50111", "Invalid OK-ACCESS-KEY"),
    "bad_passphrase": (401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
    "bad_signature": (401, "50113", "Invalid Sign"),
    "ip_not_allowed": (401, "50110", "Your IP 203.0.113.10 is not included in your API key's IP whitelist."),
    # 50120's text is from ccxt/secondary sources (OKX's table was not readable here); the sim needs some answer.
    "permission_denied": (401, "50120", "API key doesn't have permission to use this endpoint."),
    "rate_limited": (429, "50011", "Too Many Requests"),
}
TIMESTAMP_WINDOW_MS = 30_000  # OKX: a request expires 30 s after its OK-ACCESS-TIMESTAMP


class OkxSim(SimExchange):
    id = "okx"
    clock_tolerance_ms = TIMESTAMP_WINDOW_MS

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v5/account/config", self.account_config),
            ("GET", "/api/v5/public/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg, "data": []}, status=status)

    async def time(self, request: web.Request) -> web.Response:
        return self.json({"code": "0", "msg": "", "data": [{"ts": str(self.now_ms())}]})

    async def authenticate(self, request: web.Request) -> SimKey:
        h = request.headers
        api_key, sign, ts, passphrase = (h.get("OK-ACCESS-KEY"), h.get("OK-ACCESS-SIGN"), h.get("OK-ACCESS-TIMESTAMP"),
                                         h.get("OK-ACCESS-PASSPHRASE"))
        if not (api_key and sign and ts and passphrase):
            raise Reject("missing_header")
        try:
            ts_ms = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            raise Reject("bad_timestamp") from None
        self.check_timestamp(ts_ms)
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        if not same(key.passphrase or "", passphrase):
            raise Reject("bad_passphrase")
        body = await request.text()
        if not same(hmac_b64(key.secret, f"{ts}{request.method}{request.raw_path}{body}"), sign):
            raise Reject("bad_signature")
        return self.check_key(key)

    async def account_config(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        return self.json({"code": "0", "msg": "", "data": [render(key)]})


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    perm = ["read_only"]
    if p & {"spot_trade", "margin_trade", "futures_trade", "options_trade"}:
        perm.append("trade")
    if "withdraw" in p:
        perm.append("withdraw")
    uid = key.uid if key.uid.isdigit() else "44705892343619584"
    body: dict[str, Any] = {
        "uid": uid, "mainUid": uid if key.is_master else "44705892343619000",
        "type": "0" if key.is_master else "1", "label": "keyhygiene-sim",
        "ip": ",".join(key.ip_whitelist or []), "perm": ",".join(perm),
        "acctLv": "2", "posMode": "long_short_mode", "autoLoan": False, "kycLv": "3", "level": "Lv1",
        "levelTmp": "", "ctIsoMode": "automatic", "mgnIsoMode": "automatic", "greeksType": "PA", "feeType": "0",
        "opAuth": "1", "roleType": "0", "spotRoleType": "0", "traderInsts": [], "spotTraderInsts": [],
        "enableSpotBorrow": False, "spotBorrowAutoRepay": False, "liquidationGear": "-1",
        "acctStpMode": "cancel_maker", "settleCcy": "USDT",
    }
    body.update(key.raw)
    return body


SIM = OkxSim
