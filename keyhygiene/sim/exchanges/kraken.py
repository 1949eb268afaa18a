"""Simulated Kraken spot REST: ``API-Sign`` = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce +
postdata))), with ``API-Key`` naming the key; the nonce must be larger than the last one the key used.

Kraken answers errors with HTTP 200 and ``{"error": ["EAPI:Invalid key"]}`` (docs.kraken.com errors guide). Kraken does
not compare the nonce with its clock, so the simulator's clock-skew fault has no effect here, as on the exchange.
Shape: docs.kraken.com GetApiKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from keyhygiene.sim.base import Handler, Reject, SimExchange, same
from keyhygiene.sim.model import SimKey

_ERRORS: dict[str, tuple[int, str]] = {
    "invalid_key": (200, "EAPI:Invalid key"),
    "expired": (200, "EAPI:Invalid key"),
    "bad_signature": (200, "EAPI:Invalid signature"),
    "bad_passphrase": (200, "EAPI:Invalid signature"),
    "clock_skew": (200, "EAPI:Invalid nonce"),
    # The error for a request from outside the key's IP allowlist is not documented; Kraken's own statement is that
    # too few permissions give EGeneral:Permission denied, which the sim uses for both (unconfirmed for the IP case).
    "ip_not_allowed": (200, "EGeneral:Permission denied"),
    "permission_denied": (200, "EGeneral:Permission denied"),
    "rate_limited": (200, "EAPI:Rate limit exceeded"),
}


def make_credentials() -> tuple[str, str, dict[str, str]]:
    """A Kraken-looking key (56 base64 characters) and a base64 secret (Kraken's private keys are base64)."""
    return base64.b64encode(secrets.token_bytes(42)).decode(), base64.b64encode(secrets.token_bytes(64)).decode(), {}


def api_sign(secret_b64: str, uri_path: str, nonce: str, postdata: str) -> str:
    """Kraken's documented signature (also what ccxt's kraken.sign computes)."""
    digest = hashlib.sha256((nonce + postdata).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class KrakenSim(SimExchange):
    id = "kraken"

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.last_nonce: dict[str, int] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [("POST", "/0/private/GetApiKeyInfo", self.get_api_key_info)]

    def error(self, kind: str) -> web.Response:
        status, text = _ERRORS[kind]
        return self.json({"error": [text]}, status=status)

    async def authenticate(self, request: web.Request) -> tuple[SimKey, int]:
        key = self.find_key(request.headers.get("API-Key"))
        if key is None:
            raise Reject("invalid_key")
        postdata = await request.text()
        nonce = (parse_qs(postdata).get("nonce") or [""])[0]
        try:
            expected = api_sign(key.secret, request.path, nonce, postdata)
        except (binascii.Error, ValueError):
            raise Reject("bad_signature") from None
        if not nonce or not same(expected, request.headers.get("API-Sign")):
            raise Reject("bad_signature")
        try:
            n = int(nonce)
        except ValueError:
            raise Reject("clock_skew") from None
        if n <= self.last_nonce.get(key.api_key, 0):
            raise Reject("clock_skew")  # EAPI:Invalid nonce: not greater than the key's last accepted nonce
        self.last_nonce[key.api_key] = n
        return self.check_key(key), n

    async def get_api_key_info(self, request: web.Request) -> web.Response:
        key, nonce = await self.authenticate(request)
        return self.json({"error": [], "result": render(key, nonce, self.now_ms() // 1000)})


def render(key: SimKey, nonce: int, now_s: int) -> dict[str, Any]:
    p = key.permissions
    perms: list[str] = []
    if "read" in p:
        perms += ["query-funds", "query-open-trades", "query-closed-trades", "query-ledger"]
    if p & {"spot_trade", "margin_trade"}:
        perms += ["modify-trades", "close-trades"]
    if "withdraw" in p:
        perms.append("withdraw-funds")
    created = int(key.created_at.timestamp()) if key.created_at else 1772542900
    body: dict[str, Any] = {
        "apiKeyName": "keyhygiene-sim",
        "apiKey": key.api_key,
        "nonce": str(nonce),
        "nonceWindow": 0,
        "permissions": perms,
        "iban": "AA88 N84G WOAK NMOI",
        "validUntil": str(int(key.expires_at.timestamp())) if key.expires_at else "0",
        "queryFrom": "0",
        "queryTo": "0",
        "createdTime": str(created),
        "modifiedTime": str(created),
        "ipAllowlist": list(key.ip_whitelist or []),
        "lastUsed": str(now_s),
    }
    body.update(key.raw)
    return body


SIM = KrakenSim
