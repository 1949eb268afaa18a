"""Simulated HTX (Huobi) v2 user endpoints: Signature Version 2 as the spot docs describe it.

Pre-signed text = ``METHOD\\nhost\\npath\\nparams`` where host is the lower-cased host the request was sent to (the
docs: "The host in signature text should be the same as the host in your API request"; libraries that send a port
sign it too), params are every query parameter except ``Signature``, URL-encoded with upper-case hex and sorted by
ASCII; ``Signature`` = base64 HMAC-SHA256. ``Timestamp`` is ``YYYY-MM-DDThh:mm:ss`` UTC; the docs say it is "valid
within 5 minutes" in one place and "should be less than 1 minute" in the FAQ - the stricter one is enforced.

Shapes: htx.com API key query / Get UID pages (``{"code":200,"data":...}``). Gateway errors use the v1 form
``{"status":"error","err-code":"api-signature-not-valid","err-msg":...}`` (FAQ Q7 for a deleted key; the IP,
timestamp and permission texts are from official-repo issues and ccxt comments). The body HTX returns for an
expired key is not documented: it is answered like a deleted key. Sub users may not call key query (the docs:
other APIs return "error-code 403" to sub users).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_b64, same
from keyhygiene.sim.model import SimKey

_SIG = "api-signature-not-valid"
_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_key": (200, _SIG, "Signature not valid: Incorrect Access key [Access key错误]"),
    "expired": (200, _SIG, "Signature not valid: Incorrect Access key [Access key错误]"),
    "bad_signature": (200, _SIG, "Signature not valid: Verification failure [校验失败]"),
    "bad_passphrase": (200, _SIG, "Signature not valid: Verification failure [校验失败]"),
    "ip_not_allowed": (200, _SIG, "Signature not valid: Incorrect IP address [IP地址错误]:203.0.113.10"),
    "permission_denied": (200, _SIG, "Signature not valid: API key has no permission [API Key没有权限]"),
    "clock_skew": (200, _SIG, "Signature not valid: 无效的提交时间"),
    "rate_limited": (429, "base-request-exceed-frequency-limit",
                     "Frequency of requests has exceeded the limit, please try again later"),
}
WINDOW_MS = 60_000
UNBOUND_VALID_DAYS = 90  # "The API Key without IP binding will be expired after 90 days"


class HtxSim(SimExchange):
    id = "htx"
    clock_tolerance_ms = WINDOW_MS

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/v2/user/uid", self.uid),
            ("GET", "/v2/user/api-key", self.api_key),
            ("GET", "/v1/common/timestamp", self.timestamp),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"status": "error", "err-code": code, "err-msg": msg, "data": None}, status=status)

    async def timestamp(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok", "data": self.now_ms()})

    def authenticate(self, request: web.Request) -> SimKey:
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        params = dict(pairs)
        key = self.find_key(params.get("AccessKeyId"))
        if key is None:
            raise Reject("invalid_key")
        if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
            raise Reject("bad_signature")
        signed = sorted((k, v) for k, v in pairs if k != "Signature")
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in signed)
        text = "\n".join([request.method.upper(), request.host.lower(), request.path, query])
        if not same(hmac_b64(key.secret, text), params.get("Signature")):
            raise Reject("bad_signature")
        try:
            ts = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise Reject("clock_skew") from None
        self.check_timestamp(int(ts.timestamp() * 1000))
        return self.check_key(key)

    async def uid(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        return self.json({"code": 200, "data": _uid(key)})

    async def api_key(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        if "read" not in key.permissions:
            raise Reject("permission_denied")  # "Interface permission: Read"
        if not key.is_master:
            return self.json({"code": 403, "message": "forbidden", "data": None})
        try:
            uid = int(request.query.get("uid", ""))
        except ValueError:
            return self.json({"code": 2002, "message": "invalid field value: uid", "data": None})
        wanted = request.query.get("accessKey")
        owned = [k for k in self.sim.keys.values()
                 if k.exchange == self.id and _uid(k) == uid and not k.revoked
                 and (wanted is None or k.api_key == wanted)]
        if uid != _uid(key):
            owned = []  # only one's own keys (or one's sub users'; sub users are not modelled)
        return self.json({"code": 200, "message": "success", "data": [render(k, self.now_ms()) for k in owned],
                          "ok": True})


def _uid(key: SimKey) -> int:
    return int(key.uid) if key.uid.isdigit() else 100000001


def render(key: SimKey, now_ms: int) -> dict[str, Any]:
    p = key.permissions
    tokens = ["readOnly"]  # "readOnly is required permission for any API key"
    if p & {"spot_trade", "margin_trade", "futures_trade", "options_trade", "transfer"}:
        tokens.append("trade")
    if "withdraw" in p:
        tokens.append("withdraw")
    # A key of unknown age is taken as ten days old, so an unbound one still has most of its 90 days.
    created = int(key.created_at.timestamp() * 1000) if key.created_at else now_ms - 10 * 86_400_000
    if key.expires_at is not None:
        days = max(0, int((key.expires_at.timestamp() * 1000 - now_ms) // 86_400_000))
    elif key.ip_whitelist:
        days = -1
    else:
        days = max(0, UNBOUND_VALID_DAYS - int((now_ms - created) // 86_400_000))
    body: dict[str, Any] = {
        "accessKey": key.api_key, "status": "normal", "note": "",  # expired keys are rejected before this
        "permission": ",".join(tokens),
        "ipAddresses": ",".join(key.ip_whitelist or []),
        "validDays": days, "createTime": created, "updateTime": created,
    }
    body.update(key.raw)
    return body


SIM = HtxSim
