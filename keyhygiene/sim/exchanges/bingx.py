"""Simulated BingX account endpoints: ``X-BX-APIKEY`` header, ``signature`` = hex HMAC-SHA256(secret, the query
string before ``&signature=``, parameters decoded), ``timestamp`` within 5 s of server time.

Shapes and codes: BingX API docs (apiPermissions, uid, apiKey/query; "Common Business Error Codes"; "The request
timestamp must be within 5 seconds of the API server time"). apiPermissions' envelope is not shown in the docs; the
simulator uses the ``{"code":0,"msg":"","timestamp":...,"data":{...}}`` form of BingX's other endpoints.
apiKey/query answers main-account keys only ("The user who verifies the signature of this API must be main
account") and masks keys like its example ("zF*******zQ").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_hex, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, int, str]] = {
    "invalid_key": (200, 100413, "Incorrect apiKey"),
    # Unused keys are deleted after 14 days (web page rules): an expired key is an unknown key.
    "expired": (200, 100413, "Incorrect apiKey"),
    "bad_signature": (200, 100001, "Signature verification failed"),
    "bad_passphrase": (200, 100001, "Signature verification failed"),
    "ip_not_allowed": (200, 100419, "IP does not match IP whitelist"),
    "permission_denied": (200, 100004, "Permission denied as the API key was created without the permission"),
    "clock_skew": (200, 100421, "Null timestamp or timestamp mismatch"),
    "rate_limited": (429, 100410, "rate limited"),
}
WINDOW_MS = 5000


class BingxSim(SimExchange):
    id = "bingx"
    clock_tolerance_ms = WINDOW_MS

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/openApi/v1/account/apiPermissions", self.api_permissions),
            ("GET", "/openApi/account/v1/uid", self.uid),
            ("GET", "/openApi/account/v1/apiKey/query", self.api_key_query),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"code": code, "msg": msg, "timestamp": self.now_ms()}, status=status)

    def ok(self, data: Any) -> web.Response:
        return self.json({"code": 0, "msg": "", "timestamp": self.now_ms(), "data": data})

    def authenticate(self, request: web.Request) -> SimKey:
        key = self.find_key(request.headers.get("X-BX-APIKEY"))
        if key is None:
            raise Reject("invalid_key")
        payload, sep, signature = request.query_string.rpartition("&signature=")
        if not sep or not same(hmac_hex(key.secret, unquote(payload)), signature):
            raise Reject("bad_signature")
        self.check_timestamp(dict(parse_qsl(payload)).get("timestamp"))
        return self.check_key(key)

    async def api_permissions(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        if "read" not in key.permissions:
            raise Reject("permission_denied")  # "API KEY permission: Read"
        return self.ok(render(key))

    async def uid(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        return self.ok({"uid": _uid(key)})

    async def api_key_query(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        if not key.is_master:
            raise Reject("permission_denied")
        try:
            uid = int(request.query.get("uid", ""))
        except ValueError:
            return self.json({"code": 100400, "msg": "Invalid parameter uid"})
        wanted = request.query.get("apiKey")
        infos = [render_info(k) for k in self.sim.keys.values()
                 if k.exchange == self.id and _uid(k) == uid == _uid(key) and not k.revoked
                 and (wanted is None or k.api_key == wanted)]
        return self.ok({"apiInfos": infos})


def _uid(key: SimKey) -> int:
    return int(key.uid) if key.uid.isdigit() else 100000001


def _codes(key: SimKey) -> list[int]:
    p = key.permissions
    table = {"spot_trade": 1, "read": 2, "futures_trade": 3, "transfer": 4, "withdraw": 5}
    return sorted({code for perm, code in table.items() if perm in p})


def render(key: SimKey) -> dict[str, Any]:
    body: dict[str, Any] = {"apiKey": key.api_key, "permissions": _codes(key),
                            "ipAddresses": list(key.ip_whitelist or []), "note": ""}
    body.update(key.raw)
    return body


def render_info(key: SimKey) -> dict[str, Any]:
    created = int(key.created_at.timestamp() * 1000) if key.created_at else 1702289687211
    return {
        "apiKey": f"{key.api_key[:2]}*******{key.api_key[-2:]}", "note": "",
        "permissions": [c for c in _codes(key) if c != 5],  # the query doc lists no withdraw code
        "ipAddresses": list(key.ip_whitelist or [""]), "status": 0,
        "createTime": created, "updateTime": created,
    }


SIM = BingxSim
