"""KuCoin: ``GET /api/v1/user/api-key`` ("Get API Key Info"; master and sub-account keys; weight 20, pool Management).

Sources: official OpenAPI spec Kucoin/kucoin-universal-sdk ``spec/rest/api/openapi-account-account.json`` (response
fields; doc page kucoin.com/docs-new/api-3470130); Kucoin/kucoin-api-docs ``source/localizable/index.html.md`` (the
meaning of each permission token, the error table); kucoin.com/docs-new/error-code; shared/reference/exchanges.md §2
and exchanges-confirmations.md §4.

The response says which product rights the key has, whether it is a master or sub-account key, when it was made, and
its IP whitelist (masked by KuCoin, e.g. ``203.**.154``). It says nothing about expiry or third-party links - yet KuCoin
keys can be made to expire: "Add sub-account API" (``POST /api/v1/sub/api-key``, kucoin.com/docs-new, echoed by the
official SDKs Kucoin/kucoin-go-sdk and kucoin-node-sdk) takes ``expire``: "Never expire(default) -1, 30Day 30,
90Day 90, 180Day 180, 360Day 360". So ``expires_at`` stays null and the profile says "expiry: the exchange does not
say" (EXPIRY_NOTE), never "never expires".
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.timeutil import from_epoch_ms
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import (
    Adapter,
    Endpoint,
    Grant,
    ParseError,
    PermissionTable,
    as_bool,
    envelope,
    split_ips,
)

SPEC = "KuCoin OpenAPI spec GET /api/v1/user/api-key"
OLD = "kucoin-api-docs 'API KEY PERMISSIONS'"

TABLE = PermissionTable([
    # "General - read-only operations … cannot be used to perform operations such as order placement or withdrawals"
    Grant("General", ("read",), OLD),
    Grant("Spot", ("spot_trade",), OLD + ": spot order placement and cancellation"),
    Grant("Margin", ("margin_trade",), OLD + ": margin order placement and cancellation"),
    Grant("Futures", ("futures_trade",), OLD + ": futures order placement and cancellation"),
    # "Transfer - withdraw assets, acquire deposit addresses, cancel withdrawals … you must enable IP Restriction"
    Grant("Transfer", ("withdraw",), OLD),
    Grant("InnerTransfer", ("transfer",), SPEC + " (sub-account spec: 'InnerTransfer (Flex Transfer)')"),
    Grant("Earn", (), SPEC + ": Earn products, reported raw"),
    # Names the newer spec gives the permissions its endpoints require; not (yet) in the key-info token list, mapped
    # so that a key reported with them is not understated.
    Grant("Withdrawal", ("withdraw",), "KuCoin spec x-api-permission of the withdraw endpoints"),
    Grant("FlexTransfers", ("transfer",), "KuCoin spec x-api-permission of POST /api/v3/accounts/universal-transfer"),
    Grant("LeadtradeFutures", ("futures_trade",), "KuCoin spec x-api-permission of copy-trading futures orders"),
])

# Gateway codes (kucoin.com/docs-new/error-code; kucoin-api-docs error table). KuCoin checks the passphrase before
# the signature, and a version-2 key's passphrase header is an HMAC made with the secret: a wrong secret therefore
# also comes back as 400004 (seen in public reports, e.g. ccxt/ccxt#9369).
EXPIRY_NOTE = ("Expiry: the exchange does not say. KuCoin keys can be created to expire after 30, 90, 180 or 360 days, "
               "and GET /api/v1/user/api-key does not report it: check the key's expiry on KuCoin's API page.")

CODES: dict[str, tuple[Status, str]] = {
    "400001": (Status.REJECTED, "KuCoin says an authentication header is missing (400001)."),
    "400002": (Status.CLOCK_SKEW, "KuCoin error 400002: the request time is more than 5 s off the server's."),
    "400003": (Status.INVALID_KEY, "KuCoin error 400003: the key does not exist."),
    "400004": (Status.INVALID_PASSPHRASE, "KuCoin error 400004. KuCoin signs the passphrase with the API secret, "
                                          "so a wrong secret is reported the same way: check both."),
    "400005": (Status.INVALID_SIGNATURE, "KuCoin error 400005."),
    "400006": (Status.IP_NOT_ALLOWED, "KuCoin error 400006."),
    "400007": (Status.PERMISSION_DENIED, "KuCoin error 400007."),
    "400008": (Status.INVALID_KEY, "KuCoin error 400008: V1/V2 keys are no longer accepted; create a new key."),
    "400010": (Status.PERMISSION_DENIED, "KuCoin error 400010."),
    "411100": (Status.REJECTED, "KuCoin error 411100: the account is frozen."),
    "429000": (Status.RATE_LIMITED, "KuCoin error 429000."),
}


class KucoinAdapter(Adapter):
    exchange_id = "kucoin"
    key_info = Endpoint("private_get_user_api_key", "GET", "/api/v1/user/api-key")
    # Server time for the clock resync (public, kucoin.fetch_time → GET /api/v1/timestamp).
    read_endpoints = (Endpoint("public_get_timestamp", "GET", "/api/v1/timestamp"),)
    table = TABLE
    supports_time_resync = True  # kucoin.nonce() = milliseconds() - options['timeDifference'] (ccxt 4.5.90)

    def parse(self, data: Any, profile: KeyProfile) -> None:
        info = envelope(data, "data")
        if not isinstance(info, dict) or "permission" not in info:
            raise ParseError("data has no permission")
        raw = info.get("permission")
        if isinstance(raw, str):
            tokens = [t.strip() for t in raw.split(",") if t.strip()]
        elif isinstance(raw, list):  # the spec says string; a list is accepted rather than misread
            tokens = [str(t).strip() for t in raw if str(t).strip()]
        else:
            raise ParseError("permission is neither a string nor a list")
        profile.permissions, profile.other = TABLE.map(tokens)

        ips = split_ips(info.get("ipWhitelist"))
        if ips:
            profile.ip_restricted, profile.ip_whitelist = True, ips
            if any("*" in ip for ip in ips):
                profile.notes.append("KuCoin masks part of each whitelisted IP address.")
        else:
            # The field is optional and empty in the docs' example of an unrestricted key; no sentence says
            # "empty means unrestricted", so say so instead of guessing silently.
            profile.ip_restricted, profile.ip_whitelist = False, []
            profile.notes.append("KuCoin reports no IP whitelist for this key (an empty whitelist is taken to mean "
                                 "the key works from any IP).")
        profile.created_at = from_epoch_ms(info.get("createdAt"))
        profile.expires_at = None  # not in the answer, though the key may have one (EXPIRY_NOTE)
        profile.notes.append(EXPIRY_NOTE)
        master = as_bool(info.get("isMaster"))
        if master is None and info.get("subName"):
            master = False  # subName is present only on sub-account keys (spec)
        profile.is_master = master
        uid = info.get("uid")  # the account the key belongs to (spec: "uid")
        profile.account_id = str(uid) if uid not in (None, "", 0) and not isinstance(uid, bool) else None
        version = info.get("apiVersion")
        if isinstance(version, int) and not isinstance(version, bool) and version < 3:
            profile.notes.append(f"This is a version {version} KuCoin key; newer KuCoin APIs reject old versions.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if not isinstance(body, dict):
            return None
        code = str(body.get("code", ""))
        if code in CODES:
            status, detail = CODES[code]
            return status, errors.message(status, detail)
        return None


ADAPTER = KucoinAdapter
