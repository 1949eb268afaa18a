"""Binance: ``GET /sapi/v1/account/apiRestrictions`` ("Get API Key Permission", USER_DATA, weight 1).

Sources: developers.binance.com/docs/wallet/account/api-key-permission; binance-spot-api-docs errors.md;
developers.binance.com/docs/binance-spot-api-docs/fix-api (what enableFixApiTrade allows); shared/reference/exchanges.md
§1. Binance reports IP restriction as a boolean only; no key expiry, no master flag.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.timeutil import from_epoch_ms
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, as_bool, int_code

DOC = "developers.binance.com wallet/account/api-key-permission"

TABLE = PermissionTable([
    Grant("enableReading", ("read",), DOC),
    # "Enable Spot & Margin Trading" places spot and margin orders.
    Grant("enableSpotAndMarginTrading", ("spot_trade", "margin_trade"), DOC),
    Grant("enableMargin", ("margin_trade",), DOC + " (cross-margin loan/transfer)"),
    Grant("enableFutures", ("futures_trade",), DOC + " (USD-M / COIN-M futures)"),
    Grant("enablePortfolioMarginTrading", ("futures_trade", "margin_trade"), DOC + " (portfolio margin)"),
    Grant("enableVanillaOptions", ("options_trade",), DOC),
    Grant("enableWithdrawals", ("withdraw",), DOC),
    Grant("enableInternalTransfer", ("transfer",), DOC + " (master <-> sub-account transfer)"),
    Grant("permitsUniversalTransfer", ("transfer",), DOC + " (universal transfer)"),
    # FIX API Order Entry "Supports placing orders, canceling orders"; "Only API keys with FIX_API are allowed";
    # "This API can only be used with the SPOT Exchange" (developers.binance.com binance-spot-api-docs/fix-api).
    Grant("enableFixApiTrade", ("spot_trade",),
          DOC + "; developers.binance.com binance-spot-api-docs/fix-api (FIX order entry: place and cancel spot "
          "orders)"),
    # FIX Drop Copy: "Only API keys with FIX_API or FIX_API_READ_ONLY" receive execution reports: a read of the
    # FIX kind, outside the vocabulary's rights (reading is enableReading's): reported raw.
    Grant("enableFixReadOnly", (),
          DOC + "; developers.binance.com binance-spot-api-docs/fix-api (Drop Copy sessions), reported raw"),
])
_NOT_PERMISSIONS = {"ipRestrict", "createTime", "tradingAuthorityExpirationTime"}

# Error codes: binance-spot-api-docs errors.md. -2015 covers a deleted key, a wrong IP AND a missing
# permission, so it can only be "rejected" (DESIGN.md); ccxt may even raise it as DDoSProtection.
CODES: dict[int, Status] = {
    -2015: Status.REJECTED,
    -2014: Status.INVALID_KEY,  # "API-key format invalid."
    -2008: Status.INVALID_KEY,  # "Invalid Api-Key ID"
    -1022: Status.INVALID_SIGNATURE,
    -1021: Status.CLOCK_SKEW,
    -1002: Status.PERMISSION_DENIED,
    -1003: Status.RATE_LIMITED,
}


class BinanceAdapter(Adapter):
    exchange_id = "binance"
    key_info = Endpoint("sapi_get_account_apirestrictions", "GET", "/sapi/v1/account/apiRestrictions")
    read_endpoints = (Endpoint("public_get_time", "GET", "/api/v3/time"),)
    table = TABLE
    supports_time_resync = True  # binance.nonce() subtracts options['timeDifference']

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or "enableReading" not in data:
            raise ParseError("no enableReading field")
        granted = [k for k, v in data.items() if k not in _NOT_PERMISSIONS and as_bool(v) is True]
        profile.permissions, profile.other = TABLE.map(granted)
        profile.ip_restricted = as_bool(data.get("ipRestrict"))
        # Binance does not list a restricted key's own IPs (endpoint retired 2021-11-17): null then. An unrestricted
        # key has none, which Binance does say: [] (one meaning of "unrestricted" for every adapter).
        profile.ip_whitelist = [] if profile.ip_restricted is False else None
        profile.created_at = from_epoch_ms(data.get("createTime"))
        profile.trade_expires_at = from_epoch_ms(data.get("tradingAuthorityExpirationTime"))

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        code = int_code(body, "code")
        if code in CODES:
            st = CODES[code]
            detail = f"Binance error {code}."
            if code == -2015:
                detail = "Binance answers -2015 for a deleted key, a wrong IP or a missing permission alike."
            return st, errors.message(st, detail)
        msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
        if msg == "API key does not exist":
            return Status.INVALID_KEY, errors.message(Status.INVALID_KEY)
        return None


ADAPTER = BinanceAdapter
