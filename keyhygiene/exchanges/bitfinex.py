"""Bitfinex: ``POST /v2/auth/r/permissions`` ("Key Permissions").

Sources:
- [BFX-REF] docs.bitfinex.com/reference/key-permissions (updated 2025-06-10): a list of ``[SCOPE, READ, WRITE]``,
  scopes 'account', 'history', 'orders', 'positions', 'funding', 'settings', 'wallets', 'withdraw', 'ui_withdraw',
  'bfxpay'; READ/WRITE are 0/1. (Legacy ``POST /v1/key_info`` answered ``{scope: {read, write}}``; accepted too.)
- [BFX-HELP] support.bitfinex.com/hc/en-us/articles/115003363429 (How to create and revoke a Bitfinex API Key):
  Orders "create and cancel orders"; Margin Trading "view margin positions ... claim your open positions";
  Margin Funding "offer, cancel and close funding"; Wallets "balances and addresses with an option of transferring
  between your wallets"; Withdrawals "enables withdrawals through the API"; IP access restrictions up to 20 IPs
  (not reported by this endpoint).
- exchanges-confirmations.md BF1: an unknown key AND a bad signature both answer HTTP 500
  ``["error",10100,"apikey: invalid"]``. ccxt bitfinex: nonce = strictly increasing milliseconds per client
  (``incrementing_nonce``), ``10114`` = nonce too small; no time-difference resync.

Bitfinex reports no IP list, creation time, expiry or master/sub flag here: all stay "the exchange does not say".
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, as_bool

REF = "docs.bitfinex.com key-permissions"
HELP = "Bitfinex help 115003363429"
_SCOPES = ("account", "history", "orders", "positions", "funding", "settings", "wallets", "withdraw", "ui_withdraw",
           "bfxpay")

TABLE = PermissionTable([
    *(Grant(f"{s}.read", ("read",), REF + ": READ=1") for s in _SCOPES),
    # Bitfinex places exchange (spot), margin and derivative orders through the same order endpoints.
    Grant("orders.write", ("spot_trade", "margin_trade", "futures_trade"), HELP + ": Orders 'create and cancel'"),
    Grant("positions.write", ("margin_trade", "futures_trade"), HELP + ": Margin Trading 'claim your positions'"),
    Grant("wallets.write", ("transfer",), HELP + ": Wallets 'transferring between your wallets'"),
    Grant("withdraw.write", ("withdraw",), HELP + ": Withdrawals 'enables withdrawals through the API'"),
    Grant("funding.write", (), HELP + ": Margin Funding (lending offers), outside the vocabulary"),
    Grant("account.write", (), HELP + ": Account Info 'edit account information'"),
    Grant("settings.write", (), REF + ": settings, reported raw"),
    Grant("history.write", (), REF + ": history, reported raw"),
    Grant("bfxpay.write", (), HELP + ": Bitfinex Pay invoices, reported raw"),
    Grant("ui_withdraw.write", (), REF + ": listed without a description; reported raw, never dropped"),
])

CODES: dict[int, Status] = {
    10100: Status.REJECTED,  # "apikey: invalid" - unknown key and bad signature alike (BF1)
    10001: Status.PERMISSION_DENIED,  # "api_key: permission invalid" (ccxt comment)
    10114: Status.CLOCK_SKEW,  # "nonce: small"
    11010: Status.RATE_LIMITED,  # "ratelimit: error"
}
_DETAILS = {
    10100: "Bitfinex answers 'apikey: invalid' for an unknown key and for a wrong secret alike.",
    10114: ("Bitfinex rejected the nonce as too small: another program using this key sends larger nonces "
            "(for example microseconds)."),
}


def _entries(data: Any) -> list[tuple[str, Any, Any]]:
    if isinstance(data, list):
        out = []
        for row in data:
            if not isinstance(row, list) or len(row) < 3 or not isinstance(row[0], str):
                raise ParseError("permission row is not [scope, read, write]")
            out.append((row[0], row[1], row[2]))
        return out
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        return [(str(k), v.get("read"), v.get("write")) for k, v in data.items()]
    raise ParseError("permissions are neither a list of [scope, read, write] nor a scope object")


class BitfinexAdapter(Adapter):
    exchange_id = "bitfinex"
    key_info = Endpoint("private_post_auth_r_permissions", "POST", "/v2/auth/r/permissions")
    table = TABLE
    supports_time_resync = False  # the nonce only has to increase; bitfinex.nonce() ignores timeDifference

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if isinstance(data, list) and data[:1] == ["error"]:
            raise ParseError("an error array where permissions were expected")
        tokens: list[str] = []
        for scope, read, write in _entries(data):
            if as_bool(read):
                tokens.append(f"{scope}.read")
            if as_bool(write):
                tokens.append(f"{scope}.write")
        profile.permissions, profile.other = TABLE.map(tokens)
        profile.notes.append("Bitfinex does not report a key's IP restriction, creation time or expiry through its "
                             "API; check the key's page for its IP access restrictions.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if isinstance(body, dict) and body.get("error") == "ERR_RATE_LIMIT":  # v1 docs' rate-limit body
            return Status.RATE_LIMITED, errors.message(Status.RATE_LIMITED)
        if not isinstance(body, list) or len(body) < 2 or body[0] != "error":
            return None
        try:
            code = int(body[1])
        except (TypeError, ValueError):
            return None
        if code not in CODES:
            return None
        st = CODES[code]
        text = str(body[2]) if len(body) > 2 else ""
        if code == 10100 and "digest" in text:  # "apikey: digest invalid" names the signature itself
            st = Status.INVALID_SIGNATURE
            return st, errors.message(st)
        return st, errors.message(st, _DETAILS.get(code, f"Bitfinex error {code}."))


ADAPTER = BitfinexAdapter
