"""Simulated Gate APIv4: headers ``KEY``, ``Timestamp`` (seconds), ``SIGN`` = hex HMAC-SHA512(secret,
METHOD + "\\n" + path + "\\n" + query (not URL-encoded) + "\\n" + hex SHA512(body) + "\\n" + Timestamp).

Shape and codes: Gate APIv4 docs "Query All Main Account Key Information" (array of every key of the main account,
masked ``key``, seconds), "APIv4 signed request requirements" (Timestamp within 60 s) and the ``label`` list. The
HTTP status of each label is not in the docs copy (401/403/429 are assumed). ``main_keys`` needs the key's
``account`` permission (third-party fixtures: ``FORBIDDEN`` "Request API key does not have account permission").
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, hmac_hex, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_key": (401, "INVALID_KEY", "Invalid key provided"),
    # Gate documents no key expiry; an expired (deleted) key is simply unknown.
    "expired": (401, "INVALID_KEY", "Invalid key provided"),
    "bad_signature": (401, "INVALID_SIGNATURE", "Signature mismatch"),
    "bad_passphrase": (401, "INVALID_SIGNATURE", "Signature mismatch"),
    "ip_not_allowed": (403, "IP_FORBIDDEN", "Request IP not in whitelist"),
    "permission_denied": (403, "FORBIDDEN", "Request API key does not have account permission"),
    "clock_skew": (401, "REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60"),
    "rate_limited": (429, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded"),
}
WINDOW_S = 60  # "the gap between its value and current time cannot exceed 60 seconds"


class GateSim(SimExchange):
    id = "gate"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v4/account/main_keys", self.main_keys),
            ("GET", "/api/v4/spot/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, label, message = _ERRORS[kind]
        return self.json({"label": label, "message": message}, status=status)

    async def time(self, request: web.Request) -> web.Response:
        return self.json({"server_time": self.now_ms()})

    async def authenticate(self, request: web.Request) -> SimKey:
        key = self.find_key(request.headers.get("KEY"))
        if key is None:
            raise Reject("invalid_key")
        ts = request.headers.get("Timestamp", "")
        body = await request.read()
        payload = "\n".join([
            request.method.upper(), request.path, unquote(request.query_string),
            hashlib.sha512(body).hexdigest(), ts,
        ])
        if not same(hmac_hex(key.secret, payload, "sha512"), request.headers.get("SIGN")):
            raise Reject("bad_signature")
        try:
            t = float(ts)
        except ValueError:
            raise Reject("clock_skew") from None
        if abs(self.now_ms() / 1000 - t) > WINDOW_S:
            raise Reject("clock_skew")
        return self.check_key(key)

    async def main_keys(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        if "read" not in key.permissions:
            raise Reject("permission_denied")
        # Every key of the main account, as the doc example shows; keys are masked, so the client must match.
        siblings = [k for k in self.sim.keys.values()
                    if k.exchange == self.id and k.uid == key.uid and not k.revoked and k.is_master]
        if key not in siblings:
            siblings.append(key)
        now_s = self.now_ms() // 1000
        return self.json([render(k, last_access=now_s if k is key else None) for k in siblings])


def render(key: SimKey, last_access: int | None = None) -> dict[str, Any]:
    p = key.permissions
    groups: list[tuple[str, bool]] = []  # (name, read_only)
    if "read" in p:
        groups.append(("account", True))
    if p & {"spot_trade", "margin_trade"} or "read" in p:
        groups.append(("spot", not (p & {"spot_trade", "margin_trade"})))
    if "margin_trade" in p:
        groups.append(("margin", False))
    if "futures_trade" in p:
        groups += [("futures", False), ("delivery", False)]
    if "options_trade" in p:
        groups.append(("options", False))
    if "transfer" in p or "read" in p:
        groups.append(("wallet", "transfer" not in p))
    if "withdraw" in p:
        # The separate "withdrawal" permission group of Gate's "APIv4 Permissions" table.
        groups.append(("withdrawal", False))
    created = int(key.created_at.timestamp()) if key.created_at else 1753030929
    body: dict[str, Any] = {
        "state": 1, "mode": 1, "name": "", "user_id": int(key.uid) if key.uid.isdigit() else 1,
        "perms": [{"name": n, "read_only": ro} for n, ro in groups],
        "ip_whitelist": list(key.ip_whitelist or []),
        "currency_pairs": [],
        "key": key.api_key[:12] + "*****",
        "created_at": created, "update_at": created,
        "last_access": last_access if last_access is not None else created,
    }
    body.update(key.raw)
    return body


SIM = GateSim
