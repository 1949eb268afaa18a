"""Bybit: ``GET /v5/user/query-api`` ("Get API Key Information"; any permission may call it; 10/s).

Sources (bybit-exchange/docs as of 2026-07-24, published at bybit-exchange.github.io/docs):
- v5/user/apikey-info (https://bybit-exchange.github.io/docs/v5/user/apikey-info): the permission groups;
  ``Options``: "Permission of USDC Contract. It supports trade option and USDC perpetual. OptionsTrade"; ``uta``:
  "0: regular account; 1: unified trade account"; non-expiring keys report ``expiredAt = 1970-01-01T00:00:00Z`` and
  a negative ``deadlineDay`` (exchanges-confirmations.md BY1).
- v5/order/create-order (https://bybit-exchange.github.io/docs/v5/order/create-order): a spot order with
  ``isLeverage=1`` is "margin trading" - the same endpoint and the same Spot permission as a spot order;
  v5/spot-margin-uta/historical-interest: "the api key needs 'Spot' permission; Only supports Unified account";
  the crypto-loan endpoints (e.g. v5/new-crypto-loan/flexible/borrow): 'Permission: "Spot trade"'. So on a unified
  account SpotTrade also borrows and trades on margin.
- v5/error (https://bybit-exchange.github.io/docs/v5/error): the UTA error table (10003, 10004, 10005, 10006,
  10007 "User authentication failed.", 10008, 10009 "Service Restricted: Access is currently unavailable for your
  region", 10010, -2015/33004 expired key; 10018 struck out).
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core import redact
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

MARGIN_DOC = ("bybit docs v5/order/create-order (spot isLeverage=1: 'margin trading'), v5/spot-margin-uta "
              "('the api key needs \"Spot\" permission; Only supports Unified account'), v5/new-crypto-loan "
              "('Permission: \"Spot trade\"')")

TABLE = PermissionTable([
    # Spot trading. On a unified account (uta 1) the same permission also places spot-margin orders: see UTA_SPOT.
    Grant("Spot.SpotTrade", ("spot_trade",), DOC + ": Spot 'SpotTrade'"),
    Grant("ContractTrade.Order", ("futures_trade",), DOC),
    Grant("ContractTrade.Position", ("futures_trade",), DOC),
    Grant("Derivatives.DerivativesTrade", ("futures_trade",), DOC),
    # "Permission of USDC Contract. It supports trade option and USDC perpetual": options AND perpetual futures.
    Grant("Options.OptionsTrade", ("options_trade", "futures_trade"),
          DOC + ": Options 'It supports trade option and USDC perpetual'"),
    Grant("Wallet.Withdraw", ("withdraw",), DOC + " (master keys only)"),
    Grant("Wallet.AccountTransfer", ("transfer",), DOC),
    Grant("Wallet.SubMemberTransfer", ("transfer",), DOC),
    Grant("Wallet.SubMemberTransferList", ("transfer",), DOC),
])
# On a unified trade account, SpotTrade also trades spot on margin (borrowing): the row applied when ``uta`` is 1.
UTA_SPOT = Grant("Spot.SpotTrade@uta", ("spot_trade", "margin_trade"), DOC + ": uta 1; " + MARGIN_DOC)

# The v5/error UTA table as it stands (10018 "Exceeded the IP Rate Limit" is struck out there: no longer mapped).
CODES: dict[int, Status] = {
    10003: Status.INVALID_KEY,  # "API key is invalid. Check whether the key and domain are matched"
    33004: Status.INVALID_KEY,  # "(Derivatives) Your api key has expired"
    -2015: Status.INVALID_KEY,  # "(Spot) Your api key has expired"
    10004: Status.INVALID_SIGNATURE,  # "Error sign"
    10002: Status.CLOCK_SKEW,  # "The request time exceeds the time window range."
    10010: Status.IP_NOT_ALLOWED,  # "Unmatched IP, please check your API key's bound IP addresses."
    10005: Status.PERMISSION_DENIED,  # "Permission denied, please check your API key permissions."
    10006: Status.RATE_LIMITED,  # "Too many visits. Exceeded the API Rate Limit."
    10007: Status.REJECTED,  # "User authentication failed." (does not say which part)
    10008: Status.REJECTED,  # "Common banned, please check your account mode"
    # "Service Restricted: Access is currently unavailable for your region": Bybit refuses this computer's location,
    # the key was never judged - the exchange cannot be used from here, so the last known profile still stands.
    10009: Status.UNREACHABLE,
}
REGION_MESSAGE = ("Bybit refuses API access from this computer's region (error 10009 \"Service Restricted: Access is "
                  "currently unavailable for your region\"), so the key was not checked. Bybit serves some regions "
                  "from their own domain (for example api.bybit.eu or api.bybit.nl): point KeyHygiene at it with "
                  "--endpoint bybit=URL.")
_DETAILS = {
    33004: "The key has expired.",
    -2015: "The key has expired.",
    10007: "Bybit error 10007: user authentication failed.",
    10008: "Bybit error 10008: the account is banned or in the wrong mode.",
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
            if "Spot.SpotTrade" in tokens and as_bool(result.get("uta")) is True:
                granted = sorted({*granted, *UTA_SPOT.permissions})
            # Every Bybit key can read ("readOnly" 0 = read+write, 1 = read only).
            profile.permissions = sorted({"read", *granted})
            profile.other = other
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
        if code == 10009:
            return CODES[code], redact.scrub(REGION_MESSAGE)
        if code in CODES:
            st = CODES[code]
            return st, errors.message(st, _DETAILS.get(code, f"Bybit error {code}."))
        return None


def _iso(value: Any) -> Any:
    try:
        return parse_iso(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


ADAPTER = BybitAdapter
