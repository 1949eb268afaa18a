"""BingX: ``GET /openApi/v1/account/apiPermissions``, then best effort ``GET /openApi/account/v1/uid`` and
``GET /openApi/account/v1/apiKey/query?uid=&apiKey=`` for the creation time.

Sources:
- [BX-DOC] BingX API docs (BingX-API/docs-v3 bundle, 2025-10-29; exchanges-confirmations.md B1-B7) and a copy of
  bingx-api.github.io/docs/#/en-us/common/sub-account (rosssaunders/coincise docs/bingx/account_wallet/sub_account):
  apiPermissions answers ``apiKey``, ``permissions`` (array of ints: "1-spot trading, 2-reading, 3-professional
  contract trading, 4-universal transfer, 5-coin withdrawal, 7-allow transfer within sub-account"),
  ``ipAddresses`` (array, "ip whitelist"), ``note``; "can be used by both main and sub account"; the envelope is
  not shown (other endpoints wrap ``data`` in ``{"code":0,...}``): both are accepted.
  uid: ``{"uid": long}``, main and sub accounts. apiKey/query: ``apiInfos[]`` with masked ``apiKey``
  ("zF*******zQ"), ``permissions``, ``ipAddresses`` (``[""]`` when none), ``createTime``/``updateTime`` (ms);
  "The user who verifies the signature of this API must be main account".
- Error codes [BX-DOC]: 100001 signature verification failed, 100004 permission denied, 100413 incorrect apiKey,
  100419 IP not in whitelist, 100412 null signature, 100421 "Null timestamp or timestamp mismatch" (ccxt: BadSymbol!),
  100410 rate limited (ccxt: OperationFailed!); requests must be within 5 s of server time.
- Web page rules (bingx.com/en-gb/account/api/, B8): keys without IP binding that can trade, transfer or manage
  sub-accounts are deleted after 14 days of inactivity; IP-bound or read-only keys do not expire.
- ccxt 4.5.90 bingx: ``nonce()`` is plain milliseconds (no time-difference resync).
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.permissions import TRADE_PERMISSIONS
from keyhygiene.core.timeutil import from_epoch_ms
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import (
    Adapter,
    Endpoint,
    Grant,
    ParseError,
    PermissionTable,
    int_code,
    masked_matches,
    split_ips,
)

DOC = "BingX apiPermissions 'permissions'"

TABLE = PermissionTable([
    Grant("1", ("spot_trade",), DOC + ": 1 spot trading"),
    Grant("2", ("read",), DOC + ": 2 reading"),
    Grant("3", ("futures_trade",), DOC + ": 3 professional contract (perpetual futures) trading"),
    Grant("4", ("transfer",), DOC + ": 4 universal transfer"),
    Grant("5", ("withdraw",), DOC + ": 5 coin withdrawal"),
    Grant("7", ("transfer",), DOC + ": 7 allow transfer within sub-account"),
])

CODES: dict[int, Status] = {
    100413: Status.INVALID_KEY,  # "Incorrect apiKey"
    100001: Status.INVALID_SIGNATURE,  # "Signature verification failed"
    100412: Status.INVALID_SIGNATURE,  # "Null signature"
    100419: Status.IP_NOT_ALLOWED,  # "IP does not match IP whitelist"
    100004: Status.PERMISSION_DENIED,  # "Permission denied as the API key was created without the permission"
    100421: Status.CLOCK_SKEW,  # "Null timestamp or timestamp mismatch" - ccxt raises BadSymbol for it
    80014: Status.CLOCK_SKEW,  # "timestamp is invalid"
    100410: Status.RATE_LIMITED,  # "rate limited" - ccxt raises OperationFailed for it
}


def _data(resp: Any) -> Any:
    """Unwrap ``{"code":0,"data":...}``; a bare object is returned as it is (the doc shows no envelope)."""
    if isinstance(resp, dict) and "data" in resp:
        return resp["data"]
    return resp


def select_own(resp: Any, api_key: str) -> dict[str, Any] | None:
    """Our entry of apiKey/query's ``apiInfos`` (asked with ``apiKey``, so normally just ours); None if absent."""
    data = _data(resp)
    infos = data.get("apiInfos") if isinstance(data, dict) else None
    if not isinstance(infos, list):
        return None
    entries = [e for e in infos if isinstance(e, dict)]
    for e in entries:
        if masked_matches(e.get("apiKey"), api_key):
            return e
    return entries[0] if len(entries) == 1 else None


class BingxAdapter(Adapter):
    exchange_id = "bingx"
    key_info = Endpoint("account_v1_private_get_account_apipermissions", "GET", "/openApi/v1/account/apiPermissions")
    read_endpoints = (
        Endpoint("account_v1_private_get_uid", "GET", "/openApi/account/v1/uid"),
        Endpoint("account_v1_private_get_apikey_query", "GET", "/openApi/account/v1/apiKey/query"),
    )
    table = TABLE
    supports_time_resync = False  # bingx.nonce() is plain milliseconds
    requests_in_turn = 3  # permissions, then the uid, then that uid's key list (fetch below)

    async def fetch(self, client: Any, creds: Credentials) -> Any:
        import ccxt

        perms = await client.account_v1_private_get_account_apipermissions()
        key_info: dict[str, Any] | None = None
        try:  # creation time: main-account keys only, so a refusal here is not a failure of the key
            uid = _data(await client.account_v1_private_get_uid())
            uid = uid.get("uid") if isinstance(uid, dict) else None
            if uid is not None:
                key_info = select_own(
                    await client.account_v1_private_get_apikey_query({"uid": uid, "apiKey": creds.api_key}),
                    creds.api_key)
        except ccxt.BaseError:
            key_info = None
        return {"apiPermissions": perms, "apiKeyQuery": key_info}

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or "apiPermissions" not in data:
            raise ParseError("no apiPermissions answer")
        info = _data(data["apiPermissions"])
        if not isinstance(info, dict) or "permissions" not in info:
            raise ParseError("apiPermissions has no permissions")
        raw = info.get("permissions")
        if raw is not None and not isinstance(raw, list):
            raise ParseError("permissions is not a list")
        tokens = [str(p) for p in raw or [] if isinstance(p, int | str) and not isinstance(p, bool)]
        profile.permissions, profile.other = TABLE.map(tokens)
        if "ipAddresses" in info:
            ips = split_ips(info.get("ipAddresses")) or []  # [""] means none (apiKey/query example)
            profile.ip_restricted, profile.ip_whitelist = bool(ips), ips
        key = data.get("apiKeyQuery")
        if isinstance(key, dict):
            profile.created_at = from_epoch_ms(key.get("createTime"))
            # apiKey/query answers main-account keys only [BX-DOC].
            profile.is_master = True
        else:
            profile.notes.append("BingX gives a key's creation time only to main-account keys; this one did not "
                                 "get it.")
        risky = TRADE_PERMISSIONS | {"transfer"}
        if profile.ip_restricted is False and set(profile.permissions) & risky:
            profile.notes.append("BingX deletes keys without IP binding that can trade or transfer after 14 days "
                                 "without use.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        code = int_code(body, "code")
        if code not in CODES:
            return None
        st = CODES[code]
        return st, errors.message(st, f"BingX error {code}.")


ADAPTER = BingxAdapter
