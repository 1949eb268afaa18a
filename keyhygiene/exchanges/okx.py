"""OKX: ``GET /api/v5/account/config`` ("Get account configuration"; Read permission; 5 requests / 2 s per user ID).

Sources: okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration (response table, as copied in
shared/reference/exchanges.md §3 and in ccxt okx.py ``fetch_accounts``); OKX API error table (codes 50100-50114 are
HTTP 401, quoted e.g. in pyted/okx#1); OKX API FAQ (okx.com/help/api-faq: up to 20 IPs per key, permissions
Read / Trade / Withdraw) per exchanges-confirmations.md §7; docs-v5 "API key permissions"
(https://www.okx.com/docs-v5/en/#overview-api-key-creation-api-key-permissions): "Trade: Can place and cancel
orders, funding transfer, make settings which need write permission"; docs-v5 "Funds transfer"
(https://www.okx.com/docs-v5/en/#funding-account-rest-api-funds-transfer): "Only API keys with Trade privilege can
call this endpoint"; docs-v5 "API key security"
(https://www.okx.com/docs-v5/en/#overview-api-key-creation-api-key-security): keys not linked to an IP address
with trade or withdraw permissions expire after 14 days of inactivity (core/rules/exchange_lifetimes.py).

OKX reports the key's permissions (``perm``), its bound IPs (``ip``), and whether the calling account is the main
account (``uid == mainUid``). It does not report when the key was made or when it expires.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.permissions import ALL_TRADE_KINDS
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, envelope, split_ips

DOC = "okx docs-v5 Get account configuration: perm"

TABLE = PermissionTable([
    Grant("read_only", ("read",), DOC),
    # One "Trade" right covers spot, margin, futures/swaps and options orders and funding transfers (docs-v5 "API key
    # permissions": "Can place and cancel orders, funding transfer"; "Funds transfer": Trade privilege only).
    Grant("trade", (*ALL_TRADE_KINDS, "transfer"),
          DOC + "; docs-v5 #overview-api-key-creation-api-key-permissions ('Trade: Can place and cancel orders, "
          "funding transfer'); docs-v5 #funding-account-rest-api-funds-transfer ('Only API keys with Trade "
          "privilege')"),
    Grant("withdraw", ("withdraw",), DOC),
])

# Codes: OKX v5 error table (ccxt okx.py exceptions['exact'] carries the same codes and texts).
CODES: dict[str, tuple[Status, str]] = {
    "50111": (Status.INVALID_KEY, "OKX error 50111: invalid OK-ACCESS-KEY."),
    "50101": (Status.INVALID_KEY, "OKX error 50101: the key belongs to another environment (demo vs. live)."),
    "50113": (Status.INVALID_SIGNATURE, "OKX error 50113."),
    "50105": (Status.INVALID_PASSPHRASE, "OKX error 50105."),
    "50104": (Status.INVALID_PASSPHRASE, "OKX error 50104: no passphrase was sent."),
    "50103": (Status.REJECTED, "OKX error 50103: an authentication header is missing."),
    "50106": (Status.REJECTED, "OKX error 50106: an authentication header is missing."),
    "50107": (Status.REJECTED, "OKX error 50107: an authentication header is missing."),
    "50110": (Status.IP_NOT_ALLOWED, "OKX error 50110."),
    "50102": (Status.CLOCK_SKEW, "OKX error 50102: the request timestamp expired."),
    "50112": (Status.REJECTED, "OKX error 50112: invalid OK-ACCESS-TIMESTAMP."),
    "50114": (Status.REJECTED, "OKX error 50114: invalid authorization."),
    "50120": (Status.PERMISSION_DENIED, "OKX error 50120."),
    "50100": (Status.REJECTED, "OKX error 50100: the key is frozen."),
    "50007": (Status.REJECTED, "OKX error 50007: the account is blocked."),
    "50009": (Status.REJECTED, "OKX error 50009: the account is blocked."),
    "50011": (Status.RATE_LIMITED, "OKX error 50011."),
}


class OkxAdapter(Adapter):
    exchange_id = "okx"
    key_info = Endpoint("private_get_account_config", "GET", "/api/v5/account/config")
    read_endpoints = (Endpoint("public_get_public_time", "GET", "/api/v5/public/time"),)  # okx.fetch_time
    table = TABLE
    supports_time_resync = True  # okx.nonce() = milliseconds() - options['timeDifference'] (ccxt 4.5.90)

    def parse(self, data: Any, profile: KeyProfile) -> None:
        rows = envelope(data, "data")
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            raise ParseError("data is not a non-empty list of objects")
        cfg = rows[0]
        perm = cfg.get("perm")
        if not isinstance(perm, str):
            raise ParseError("perm is not a string")
        profile.permissions, profile.other = TABLE.map(t.strip() for t in perm.split(",") if t.strip())

        ips = split_ips(cfg.get("ip"))  # comma-separated; "" when no IP is bound
        if ips is None:
            profile.ip_restricted, profile.ip_whitelist = None, None
        else:
            profile.ip_restricted, profile.ip_whitelist = bool(ips), ips

        uid, main_uid = cfg.get("uid"), cfg.get("mainUid")
        if uid not in (None, "") and main_uid not in (None, ""):
            # docs: "The current request account is main account if uid = mainUid … sub-account if uid != mainUid"
            profile.is_master = str(uid) == str(main_uid)
        profile.account_id = str(uid) if uid not in (None, "") else None  # "Account ID of current request"
        if profile.ip_restricted is False and {"withdraw", "spot_trade"} & set(profile.permissions):
            profile.notes.append("OKX's docs: API keys not linked to an IP address with trade or withdraw permissions "
                                 "expire after 14 days of inactivity (only authenticated calls count as use).")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if not isinstance(body, dict):
            return None
        codes = [str(body.get("code", ""))]
        data = body.get("data")
        if isinstance(data, list):  # ccxt looks at data[i].sCode first; so do we
            codes = [str(d.get("sCode", "")) for d in data if isinstance(d, dict)] + codes
        for code in codes:
            if code in CODES:
                status, detail = CODES[code]
                return status, errors.message(status, detail)
        return None


ADAPTER = OkxAdapter
