"""MEXC: ``GET /api/v3/account`` ("Account Information"), the only documented READ that says what a key may do.

MEXC's ``/api/v3/apiKeyInfo`` is documented only as a POST that configures (overwrites) a key's IP whitelist: a
write, never called here. ccxt also lists a GET of it, which MEXC does not document.

Sources:
- [MX-GH] mexcdevelop/apidocs ``source/index.html.md`` (official spot v3 docs source): "Account Information" -
  ``GET /api/v3/account``, Permission SPOT_ACCOUNT_READ, Weight(IP) 10, "rate limit: 2 times/s"; response
  ``canTrade`` ("Can Trade"), ``canWithdraw`` ("Can Withdraw"), ``canDeposit``, ``updateTime``, ``accountType``,
  ``balances``, ``permissions`` (example ``["SPOT"]``). The docs do not say whether canTrade/canWithdraw describe
  the key or the account: the profile says so in a note. SIGNED: HMAC-SHA256 hex (lowercase) of the query string,
  ``timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`` (default 5000, max 60000). Error codes:
  10072 invalid access key, 700001 API-key format invalid, 700002 signature not valid, 700003 timestamp outside
  recvWindow, 700006 "IP non white list", 700007 "No permission to access the endpoint", 429 Too Many Requests.
  FAQ: "The validity of an API Key without a linked IP address is 90 days". API key page
  https://www.mexc.com/user/openapi.
- ccxt 4.5.90 mexc: ``spot_private_get_account``; ``nonce()`` subtracts ``options['timeDifference']``; it maps
  700006 to BadRequest (not an auth error) and says 700001/700002 are also returned for expired keys.

Not reported for the calling key: IP whitelist, creation time, expiry, master/sub flag - "the exchange does not say".
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, as_bool, int_code

DOC = "MEXC spot v3 Account Information (GET /api/v3/account)"

TABLE = PermissionTable([
    # Answering at all proves the key holds SPOT_ACCOUNT_READ, the endpoint's documented permission.
    Grant("SPOT_ACCOUNT_READ", ("read",), DOC + ": Permission SPOT_ACCOUNT_READ"),
    Grant("canTrade", ("spot_trade",), DOC + ": canTrade 'Can Trade' (spot API)"),
    Grant("canWithdraw", ("withdraw",), DOC + ": canWithdraw 'Can Withdraw'"),
    Grant("canDeposit", (), DOC + ": canDeposit, outside the vocabulary"),
    Grant("SPOT", (), DOC + ": account permissions list, reported raw"),
])

CODES: dict[int, Status] = {
    10072: Status.INVALID_KEY,  # "invalid access key" - ccxt: BadRequest
    700001: Status.INVALID_KEY,  # "API-key format invalid"
    # "Signature for this request is not valid" - also what MEXC answers for an expired key (ccxt comment), and
    # keys without a linked IP expire after 90 days, so it cannot say which.
    700002: Status.REJECTED,
    602: Status.INVALID_SIGNATURE,  # "Signature verification failed"
    700003: Status.CLOCK_SKEW,  # "Timestamp for this request is outside of the recvWindow"
    700006: Status.IP_NOT_ALLOWED,  # "IP non white list" - ccxt: BadRequest
    700007: Status.PERMISSION_DENIED,  # "No permission to access the endpoint"
    401: Status.REJECTED,  # "No authority"
    429: Status.RATE_LIMITED,
    510: Status.RATE_LIMITED,  # ccxt: "Requests are too frequent"
}
_DETAILS = {
    700002: ("MEXC answers 700002 both for a wrong secret and for an expired key (keys without a linked IP "
             "expire after 90 days)."),
    700007: "MEXC needs the key's SPOT_ACCOUNT_READ permission to describe it.",
}
NOTE = ("MEXC documents canTrade/canWithdraw without saying whether they describe this key or the whole account, and "
        "does not report the key's IP binding, creation time or expiry. MEXC keys without a linked IP expire 90 "
        "days after creation.")


class MexcAdapter(Adapter):
    exchange_id = "mexc"
    key_info = Endpoint("spot_private_get_account", "GET", "/api/v3/account")
    read_endpoints = (Endpoint("spot_public_get_time", "GET", "/api/v3/time"),)
    table = TABLE
    supports_time_resync = True  # mexc.nonce() subtracts options['timeDifference']; fetch_time = /api/v3/time

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or not ({"canTrade", "canWithdraw", "permissions"} & set(data)):
            raise ParseError("account information has neither canTrade, canWithdraw nor permissions")
        tokens = ["SPOT_ACCOUNT_READ"]
        tokens += [k for k in ("canTrade", "canWithdraw", "canDeposit") if as_bool(data.get(k)) is True]
        perms = data.get("permissions")
        if isinstance(perms, list):
            tokens += [str(p) for p in perms if isinstance(p, str) and p]
        profile.permissions, profile.other = TABLE.map(tokens)
        profile.notes.append(NOTE)

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        code = int_code(body, "code")
        if code not in CODES:
            return None
        st = CODES[code]
        return st, errors.message(st, _DETAILS.get(code, f"MEXC error {code}."))


ADAPTER = MexcAdapter
