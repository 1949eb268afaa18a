"""Simulated Bybit v5: ``X-BAPI-SIGN`` = hex HMAC-SHA256(secret, timestamp + apiKey + recvWindow + payload), or for
a key made from a registered RSA public key, base64 RSA-SHA256 over the same string.

Shape and codes: bybit-exchange/docs v5/user/apikey-info.mdx, rm-master-apikey.mdx, v5/error.mdx (10009 for a
restricted region, answered before the key is checked), v5/guide.mdx (restricted regions get 403).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from keyhygiene.core.timeutil import iso
from keyhygiene.sim.base import Handler, Reject, SimExchange
from keyhygiene.sim.model import SimKey
from keyhygiene.sim.signatures import request_query, verify

_ERRORS: dict[str, tuple[int, int, str]] = {
    "invalid_key": (401, 10003, "API key is invalid."),
    "expired": (401, 33004, "Your api key has expired."),
    "bad_signature": (401, 10004, "Error sign, please check your signature generation algorithm."),
    "bad_passphrase": (401, 10004, "Error sign, please check your signature generation algorithm."),
    "ip_not_allowed": (401, 10010, "Unmatched IP, please check your API key's bound IP addresses."),
    "permission_denied": (403, 10005, "Permission denied, please check your API key permissions."),
    "clock_skew": (200, 10002, "The request time exceeds the time window range."),
    "rate_limited": (403, 10006, "Too many visits. Exceeded the API Rate Limit."),
    # v5/error: 10009 "Service Restricted"; guide: IPs in restricted regions get 403 Forbidden.
    "region_restricted": (403, 10009, "Service Restricted: Access is currently unavailable for your region. Please "
                                      "contact our support team for further assistance"),
}
# Client addresses the simulated Bybit treats as being in a restricted region (TEST-NET-2, never a real client).
RESTRICTED_REGION_IPS = frozenset({"198.51.100.250"})


class BybitSim(SimExchange):
    id = "bybit"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/v5/user/query-api", self.query_api),
            ("POST", "/v5/user/delete-api", self.delete_api),
            ("GET", "/v5/market/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        status, code, msg = _ERRORS[kind]
        return self.json({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": self.now_ms()},
                         status=status)

    async def time(self, request: web.Request) -> web.Response:
        now = self.now_ms()
        return self.json({"retCode": 0, "retMsg": "OK",
                          "result": {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)},
                          "retExtInfo": {}, "time": now})

    async def authenticate(self, request: web.Request) -> SimKey:
        api_key = request.headers.get("X-BAPI-API-KEY")
        key = self.find_key(api_key)
        if key is None:
            raise Reject("invalid_key")
        ts = request.headers.get("X-BAPI-TIMESTAMP", "")
        recv = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
        payload = request_query(request) if request.method == "GET" else await request.text()
        # HMAC: hex; a registered RSA public key: base64 of RSA-SHA256 over the same string (sim/signatures.py).
        if not verify(key, f"{ts}{api_key}{recv}{payload}", request.headers.get("X-BAPI-SIGN")):
            raise Reject("bad_signature")
        try:
            t, window = int(ts), int(recv)
        except ValueError:
            raise Reject("clock_skew") from None
        now = self.now_ms()
        # Bybit: server_time - recv_window <= timestamp < server_time + 1000
        if not (now - window <= t < now + 1000):
            raise Reject("clock_skew")
        return self.check_key(key)

    async def query_api(self, request: web.Request) -> web.Response:
        if self.sim.client_ip in RESTRICTED_REGION_IPS:  # refused by location, before the key is looked at
            return self.error("region_restricted")
        key = await self.authenticate(request)
        return self.json({"retCode": 0, "retMsg": "", "result": render(key), "retExtInfo": {},
                          "time": self.now_ms()})

    async def delete_api(self, request: web.Request) -> web.Response:
        key = await self.authenticate(request)
        try:
            json.loads(await request.text() or "{}")
        except ValueError:
            return self.json({"retCode": 10001, "retMsg": "params error", "result": {}}, status=200)
        # "Delete Master API Key": master keys only, and only keys holding a transfer or withdrawal permission.
        if not key.is_master or not ({"transfer", "withdraw"} & key.permissions):
            raise Reject("permission_denied")
        key.revoked = True
        return self.json({"retCode": 0, "retMsg": "", "result": {}, "retExtInfo": {}, "time": self.now_ms()})


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    wallet = []
    if "transfer" in p:
        wallet += ["AccountTransfer", "SubMemberTransfer"]
    if "withdraw" in p:
        wallet.append("Withdraw")
    perms = {
        "ContractTrade": ["Order", "Position"] if "futures_trade" in p else [],
        "Spot": ["SpotTrade"] if ("spot_trade" in p or "margin_trade" in p) else [],
        "Wallet": wallet,
        "Options": ["OptionsTrade"] if "options_trade" in p else [],
        "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
        "Earn": [],
    }
    writes = any(perms[g] for g in ("ContractTrade", "Spot", "Wallet", "Options"))
    expired_at = iso(key.expires_at) if key.expires_at else "1970-01-01T00:00:00Z"
    body: dict[str, Any] = {
        "id": "13770661", "note": "", "apiKey": key.api_key, "readOnly": 0 if writes else 1, "secret": "",
        "permissions": perms,
        "ips": list(key.ip_whitelist) if key.ip_whitelist else ["*"],
        "type": 2 if key.third_party_link else 1,
        "deadlineDay": -2 if not key.expires_at else 30,
        "expiredAt": expired_at,
        "createdAt": iso(key.created_at) if key.created_at else "2022-10-16T02:24:40Z",
        # A unified trade account (uta 1) is where SpotTrade also trades on margin: the sim's margin keys live there.
        "unified": 0, "uta": 1 if "margin_trade" in p else 0,
        "userID": int(key.uid) if key.uid.isdigit() else 24617703, "inviterID": 0,
        "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "",
        "isMaster": key.is_master, "parentUid": "0", "kycLevel": "LEVEL_DEFAULT", "kycRegion": "",
    }
    body.update(key.raw)
    return body


SIM = BybitSim
