"""Simulated KuCoin: ``KC-API-SIGN`` = base64 HMAC-SHA256(secret, timestamp + METHOD + path[?query] + body).

For key version 2 (what ccxt sends) ``KC-API-PASSPHRASE`` is base64 HMAC-SHA256(secret, passphrase); version 1 sends
it plain. Checks run in KuCoin's order as far as it shows: headers, timestamp (±5 s), key, passphrase, signature.
Shape and codes: KuCoin OpenAPI spec (Get API Key Info), kucoin.com/docs-new/error-code.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_b64, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, str, str]] = {
    # kind: (HTTP status, code, msg). HTTP statuses: KuCoin answers auth failures with 401 (public reports show
    # 401 + 400004); 403 for a missing permission and 429 for rate limits are KuCoin's documented HTTP codes.
    "missing_header": (401, "400001", "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
                                      "KC-API-TIMESTAMP, KC-API-PASSPHRASE"),
    "clock_skew": (401, "400002", "Invalid KC-API-TIMESTAMP"),
    "invalid_key": (401, "400003", "KC-API-KEY not exists"),
    "expired": (401, "400003", "KC-API-KEY not exists"),
    "bad_passphrase": (401, "400004", "Invalid KC-API-PASSPHRASE"),
    "bad_signature": (401, "400005", "Invalid KC-API-SIGN"),
    "ip_not_allowed": (401, "400006", "Invalid request IP, the current client IP is: 203.0.113.10"),
    "permission_denied": (403, "400007", "Access denied, requires more permission."),
    "rate_limited": (429, "429000", "Too many requests in a short period of time, please retry later."),
}
TIMESTAMP_WINDOW_MS = 5_000  # "KC-API-TIMESTAMP … more than 5 seconds from the server time" (error table)


class KucoinSim(SimExchange):
    id = "kucoin"
    clock_tolerance_ms = TIMESTAMP_WINDOW_MS

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v1/user/api-key", self.api_key_info),
            ("GET", "/api/v1/timestamp", self.timestamp),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg}, status=status)

    async def timestamp(self, request: web.Request) -> web.Response:
        return self.json({"code": "200000", "msg": "success", "data": self.now_ms()})

    async def authenticate(self, request: web.Request) -> SimKey:
        h = request.headers
        api_key, sign, ts, passphrase = (h.get("KC-API-KEY"), h.get("KC-API-SIGN"), h.get("KC-API-TIMESTAMP"),
                                         h.get("KC-API-PASSPHRASE"))
        if not (api_key and sign and ts and passphrase):
            raise Reject("missing_header")
        self.check_timestamp(ts)
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        if h.get("KC-API-KEY-VERSION", "1") == "1":
            expected_pass = key.passphrase or ""
        else:
            expected_pass = hmac_b64(key.secret, key.passphrase or "")
        if not same(expected_pass, passphrase):
            raise Reject("bad_passphrase")
        body = await request.text()
        # request.raw_path is the path plus the raw query string, exactly what the client signed.
        if not same(hmac_b64(key.secret, f"{ts}{request.method}{request.raw_path}{body}"), sign):
            raise Reject("bad_signature")
        return self.check_key(key)

    async def api_key_info(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        return self.json({"code": "200000", "data": render(key)})


def mask_ip(ip: str) -> str:
    """KuCoin shows whitelisted IPs masked (docs example ``203.**.154``): keep the first and last part."""
    parts = ip.split(".")
    return f"{parts[0]}.**.{parts[-1]}" if len(parts) == 4 else ip


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    tokens = ["General"]  # every KuCoin key has General (spec: "required permission General")
    for perm, token in (("spot_trade", "Spot"), ("margin_trade", "Margin"), ("futures_trade", "Futures"),
                        ("transfer", "InnerTransfer"), ("withdraw", "Transfer")):
        if perm in p:
            tokens.append(token)
    body: dict[str, Any] = {
        "remark": "keyhygiene-sim",
        "apiKey": key.api_key,
        "apiVersion": 3,
        "permission": ",".join(tokens),
        "createdAt": int(key.created_at.timestamp() * 1000) if key.created_at else 1728443843000,
        "uid": int(key.uid) if key.uid.isdigit() else 165111215,
        "isMaster": key.is_master,
    }
    if key.ip_whitelist:  # optional in the spec; absent for an unrestricted key
        body["ipWhitelist"] = ",".join(mask_ip(ip) for ip in key.ip_whitelist)
    if not key.is_master:
        body["subName"] = "sim-sub-account"
    body.update(key.raw)
    return body


SIM = KucoinSim
