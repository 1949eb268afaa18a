"""Bybit: ``GET /v5/user/query-api`` ("Get API Key Information"; any permission may call it; 10/s).

Sources: bybit-exchange/docs docs/v5/user/apikey-info.mdx and docs/v5/error.mdx; exchanges-confirmations.md §Bybit
(non-expiring keys report ``expiredAt = 1970-01-01T00:00:00Z`` and a negative ``deadlineDay``).
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.timeutil import parse_iso
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import (
    Adapter,
    Endpoint,
    Grant,
    ParseError,
    PermissionTable,
    as_bool,
    envelope,
    int_code,
    split_ips,
)

DOC = "bybit docs v5/user/apikey-info"

TABLE = PermissionTable([
    # Spot trading. On unified accounts it may also place spot-margin orders (unconfirmed: noted on the profile).
    Grant("Spot.SpotTrade", ("spot_trade",), DOC),
    Grant("ContractTrade.Order", ("futures_trade",), DOC),
    Grant("ContractTrade.Position", ("futures_trade",), DOC),
    Grant("Derivatives.DerivativesTrade", ("futures_trade",), DOC),
    Grant("Options.OptionsTrade", ("options_trade",), DOC),
    Grant("Wallet.Withdraw", ("withdraw",), DOC + " (master keys only)"),
    Grant("Wallet.AccountTransfer", ("transfer",), DOC),
    Grant("Wallet.SubMemberTransfer", ("transfer",), DOC),
    Grant("Wallet.SubMemberTransferList", ("transfer",), DOC),
])

CODES: dict[int, Status] = {
    10003: Status.INVALID_KEY,  # "API key is invalid."
    33004: Status.INVALID_KEY,  # "apikey already expired"
    -2015: Status.INVALID_KEY,  # current docs: "Your api key has expired"
    10004: Status.INVALID_SIGNATURE,
    10002: Status.CLOCK_SKEW,  # request time outside recv_window
    10010: Status.IP_NOT_ALLOWED,  # "Unmatched IP"
    10005: Status.PERMISSION_DENIED,
    10006: Status.RATE_LIMITED,
    10018: Status.RATE_LIMITED,
    10009: Status.RATE_LIMITED,  # "IP has been banned": a ban of the caller's address, not a whitelist mismatch
    10008: Status.REJECTED,  # user banned
}

_NEVER = "1970-01-01T00:00:00Z"


class BybitAdapter(Adapter):
    exchange_id = "bybit"
    key_info = Endpoint("private_get_v5_user_query_api", "GET", "/v5/user/query-api")
    read_endpoints = (Endpoint("public_get_v5_market_time", "GET", "/v5/market/time"),)
    table = TABLE
    supports_time_resync = True  # bybit.nonce() subtracts options['timeDifference']

    def parse(self, data: Any, profile: KeyProfile) -> None:
        result = envelope(data, "result")
        if not isinstance(result, dict) or "permissions" not in result:
            raise ParseError("result has no permissions")
        perms = result.get("permissions") or {}
        if not isinstance(perms, dict):
            raise ParseError("permissions is not an object")
        tokens = [f"{group}.{tok}" for group, toks in perms.items() if isinstance(toks, list) for tok in toks]
        if as_bool(result.get("readOnly")) is True:
            # "readOnly": 1 is a read-only key. Its groups still list products (a key is created with at least one,
            # and unified accounts get Derivatives added by Bybit): for such a key they are what it may read.
            profile.permissions, profile.other = ["read"], []
            if tokens:
                profile.notes.append("Bybit reports this key as read-only; its permission groups ("
                                     + ", ".join(sorted({t.split(".", 1)[0] for t in tokens}))
                                     + ") are what it may read.")
        else:
            granted, other = TABLE.map(tokens)
            # Every Bybit key can read ("readOnly" 0 = read+write, 1 = read only).
            profile.permissions = sorted({"read", *granted})
            profile.other = other
        if "spot_trade" in profile.permissions and as_bool(result.get("uta")):
            profile.notes.append("On a unified account Bybit's SpotTrade may also allow spot margin (unconfirmed).")
        ips = split_ips(result.get("ips"))
        if ips is None:
            profile.ip_restricted, profile.ip_whitelist = None, None
        elif ips == ["*"] or not ips:
            profile.ip_restricted, profile.ip_whitelist = False, []
        else:
            profile.ip_restricted, profile.ip_whitelist = True, ips
        profile.created_at = _iso(result.get("createdAt"))
        expired = result.get("expiredAt")
        profile.expires_at = None if expired in (None, "", _NEVER) else _iso(expired)
        profile.is_master = as_bool(result.get("isMaster"))
        uid = result.get("userID")
        profile.account_id = str(uid) if uid not in (None, "", 0) else None
        if str(result.get("type")) == "2":
            profile.third_party_link = "Bybit reports this key as connected to a third-party application (type 2)."

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        code = int_code(body, "retCode", "ret_code")
        if code in CODES:
            st = CODES[code]
            detail = "The key has expired." if code in (33004, -2015) else f"Bybit error {code}."
            return st, errors.message(st, detail)
        return None


def _iso(value: Any) -> Any:
    try:
        return parse_iso(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


ADAPTER = BybitAdapter
