"""MEXC: ``GET /api/v3/account`` ("Account Information"): a documented read that proves the key can read, no more.

MEXC's ``/api/v3/apiKeyInfo`` is documented only as a POST that configures (overwrites) a key's IP whitelist: a
write, never called here. ccxt also lists a GET of it, which MEXC does not document.

Sources:
- [MX-DOC] MEXC spot v3 docs, "Account Information" (https://www.mexc.com/api-docs/spot-v3/spot-account-trade/account-information,
  also mexcdevelop.github.io/apidocs/spot_v3_en/#account-information; source repo mexcdevelop/apidocs):
  ``GET /api/v3/account``, Permission SPOT_ACCOUNT_READ, Weight(IP) 10, "rate limit: 2 times/s"; response
  ``canTrade`` ("Can Trade"), ``canWithdraw`` ("Can Withdraw"), ``canDeposit``, ``updateTime``, ``accountType``,
  ``balances``, ``permissions`` (example ``["SPOT"]``). The docs describe these as the ACCOUNT's, never as the
  calling key's: MEXC gates a key by its own permission tokens (SPOT_ACCOUNT_READ, SPOT_DEAL_WRITE,
  SPOT_WITHDRAW_WRITE, ...), and the withdraw endpoint ``POST /api/v3/capital/withdraw`` needs SPOT_WITHDRAW_WRITE
  (https://www.mexc.com/api-docs/spot-v3/wallet-endpoints), which no documented read reports for the calling key.
  So: ``read`` is proven (the call needs SPOT_ACCOUNT_READ); everything beyond it is "the exchange does not say",
  taken from the user's declaration and marked as declared (``Adapter.apply_declared``); the flags are kept as
  account facts. SIGNED: HMAC-SHA256 hex (lowercase) of the query string,
  ``timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`` (default 5000, max 60000). Error codes:
  10072 invalid access key, 700001 API-key format invalid, 700002 signature not valid, 700003 timestamp outside
  recvWindow, 700006 "IP non white list", 700007 "No permission to access the endpoint", 429 Too Many Requests.
  FAQ: "The validity of an API Key without a linked IP address is 90 days". API key page
  https://www.mexc.com/user/openapi.
- ccxt 4.5.90 mexc: ``spot_private_get_account``; ``nonce()`` subtracts ``options['timeDifference']``; it maps
  700006 to BadRequest (not an auth error) and says 700001/700002 are also returned for expired keys.

Not reported for the calling key: permissions beyond read, IP whitelist, creation time, expiry, master/sub flag -
"the exchange does not say".
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, as_bool, int_code

DOC = "MEXC spot v3 Account Information (GET /api/v3/account)"

TABLE = PermissionTable([
    # Answering at all proves the key holds SPOT_ACCOUNT_READ, the endpoint's documented permission. Nothing else
    # in the answer describes the key (see the module docstring): no other row on purpose.
    Grant("SPOT_ACCOUNT_READ", ("read",), DOC + ": Permission SPOT_ACCOUNT_READ"),
])

# Fields of the answer kept as facts about the account (not the key), each with what the docs say of it.
ACCOUNT_FACTS: dict[str, str] = {
    "canTrade": DOC + ": canTrade 'Can Trade' (the account's, not documented as the key's)",
    "canWithdraw": DOC + ": canWithdraw 'Can Withdraw' (the account's; a key withdraws only with "
                         "SPOT_WITHDRAW_WRITE, which no read reports)",
    "canDeposit": DOC + ": canDeposit 'Can Deposit'",
    "accountType": DOC + ": accountType 'Account type'",
    "permissions": DOC + ": permissions 'Permission' of the account (example [\"SPOT\"])",
}

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
NOTE = ("MEXC does not say what this key may do beyond reading: canTrade/canWithdraw/canDeposit describe the "
        "account (shown as account facts), and a key withdraws only with its own SPOT_WITHDRAW_WRITE permission, "
        "which MEXC does not report. MEXC does not report the key's IP binding, creation time or expiry either. "
        "MEXC keys without a linked IP expire 90 days after creation.")


class MexcAdapter(Adapter):
    exchange_id = "mexc"
    key_info = Endpoint("spot_private_get_account", "GET", "/api/v3/account")
    read_endpoints = (Endpoint("spot_public_get_time", "GET", "/api/v3/time"),)
    table = TABLE
    reports_permissions = False  # beyond read: the user's declaration (core.permissions.DECLARED_BEYOND_READ)
    supports_time_resync = True  # mexc.nonce() subtracts options['timeDifference']; fetch_time = /api/v3/time

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or not ({"canTrade", "canWithdraw", "permissions"} & set(data)):
            raise ParseError("account information has neither canTrade, canWithdraw nor permissions")
        profile.permissions, profile.other = TABLE.map(["SPOT_ACCOUNT_READ"])
        facts: dict[str, Any] = {}
        for flag in ("canTrade", "canWithdraw", "canDeposit"):
            value = as_bool(data.get(flag))
            if value is not None:
                facts[flag] = value
        kind = data.get("accountType")
        if isinstance(kind, str) and kind:
            facts["accountType"] = kind
        perms = data.get("permissions")
        if isinstance(perms, list):
            names = sorted({p for p in perms if isinstance(p, str) and p})
            if names:
                facts["permissions"] = names
        profile.account_facts = facts
        profile.notes.append(NOTE)

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        code = int_code(body, "code")
        if code not in CODES:
            return None
        st = CODES[code]
        return st, errors.message(st, _DETAILS.get(code, f"MEXC error {code}."))


ADAPTER = MexcAdapter
