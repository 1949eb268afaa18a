"""Kraken (spot): ``POST /0/private/GetApiKeyInfo`` ("Get API Key Info"; "API Key Permissions Required: None").

Sources: docs.kraken.com/api-reference/account-data/get-api-key-info (OpenAPI spot-rest.yaml; the full response schema,
including the enum of ``permissions`` values, as copied from docs.kraken.com/api/docs/rest-api/get-api-key-info on
2026-05-27); docs.kraken.com/exchange/guides/rest/api-keys (what each permission enables); docs.kraken.com errors guide;
docs.kraken.com spot REST rate limits; shared/reference/exchanges.md §6 and exchanges-confirmations.md §5.

Kraken reports the key's permissions, its IP allowlist (``[]`` = not restricted), creation, expiry (``validUntil``,
``"0"`` = none) and last use. Nothing about master/sub-account (sub-accounts are institutional only) or third parties.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.timeutil import from_epoch_s
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, envelope

DOC = "docs.kraken.com GetApiKeyInfo permissions enum"
GUIDE = "docs.kraken.com guides/rest/api-keys"

TABLE = PermissionTable([
    Grant("query-funds", ("read",), DOC + ": Funds - Query (" + GUIDE + ": Balance, BalanceEx, TradeBalance)"),
    Grant("query-open-trades", ("read",), DOC + ": Orders and trades - Query open orders & trades"),
    Grant("query-closed-trades", ("read",), DOC + ": Orders and trades - Query closed orders & trades"),
    Grant("query-ledger", ("read",), DOC + ": Data - Query ledger entries"),
    Grant("export-data", ("read",), DOC + ": Data - Export data"),
    Grant("withdraw-funds", ("withdraw",), DOC + ": Funds - Withdraw"),
    # Create & modify orders = AddOrder/EditOrder/AmendOrder (guide); AddOrder's `leverage` places margin orders.
    # Kraken spot keys have no futures or options rights (Kraken Futures uses separate keys).
    Grant("modify-trades", ("spot_trade", "margin_trade"), DOC + ": Create & modify orders; " + GUIDE),
    # Outside the vocabulary, reported raw.
    Grant("close-trades", (), DOC + ": Cancel & close orders"),
    Grant("add-funds", (), DOC + ": Funds - Deposit"),
    Grant("earn-funds", (), DOC + ": Funds - Earn"),
    Grant("create-ws-token", (), DOC + ": WebSocket interface"),
    Grant("add-withdraw-address", (), DOC + ": Add withdrawal addresses"),
    Grant("update-withdraw-address", (), DOC + ": Update withdrawal addresses"),
])

# Error strings: docs.kraken.com errors guide; rate limits guide ("EAPI:Rate limit exceeded", "EService: Throttled").
NONCE_MESSAGE = (
    "Kraken rejected the request's nonce as not larger than the last one it accepted for this key. Another program "
    "using the same key (with a larger or faster-growing nonce) causes this; give each program its own key."
)
PERMISSION_DENIED_DETAIL = (
    "Kraken answered 'Permission denied' although reading a key's info needs no permission, so something else "
    "blocks this computer (an IP allowlist is the likely cause; Kraken does not say)."
)
# error string → (status, detail added to the status's plain message; None: the full message is NONCE_MESSAGE)
CODES: dict[str, tuple[Status, str | None]] = {
    "EAPI:Invalid key": (Status.INVALID_KEY, "Kraken error EAPI:Invalid key."),
    "EAPI:Invalid signature": (Status.INVALID_SIGNATURE, "Kraken error EAPI:Invalid signature."),
    "EAPI:Invalid nonce": (Status.CLOCK_SKEW, None),
    "EGeneral:Permission denied": (Status.REJECTED, PERMISSION_DENIED_DETAIL),
    "EAPI:Rate limit exceeded": (Status.RATE_LIMITED, "Kraken error EAPI:Rate limit exceeded."),
    "EGeneral:Too many requests": (Status.RATE_LIMITED, "Kraken error EGeneral:Too many requests."),
    "EGeneral:Temporary lockout": (Status.RATE_LIMITED, "Kraken locked this key out for a while after repeated "
                                                        "failures."),
    "EService:Throttled": (Status.RATE_LIMITED, "Kraken is throttling concurrent requests."),
    "EService: Throttled": (Status.RATE_LIMITED, "Kraken is throttling concurrent requests."),
    "ETrade:User Locked": (Status.REJECTED, "Kraken says the account is locked."),
}


class KrakenAdapter(Adapter):
    exchange_id = "kraken"
    key_info = Endpoint("private_post_getapikeyinfo", "POST", "/0/private/GetApiKeyInfo")
    table = TABLE
    # kraken.nonce() does subtract options['timeDifference'], but Kraken never compares the nonce with its clock
    # (only with the key's previous nonce), so a clock resync cannot fix an "Invalid nonce".
    supports_time_resync = False

    def parse(self, data: Any, profile: KeyProfile) -> None:
        err = data.get("error") if isinstance(data, dict) else None
        if err:
            raise ParseError("the answer carries an error list")
        result = envelope(data, "result")
        if not isinstance(result, dict) or not isinstance(result.get("permissions"), list):
            raise ParseError("result.permissions is not a list")
        profile.permissions, profile.other = TABLE.map(str(t) for t in result["permissions"])

        allow = result.get("ipAllowlist")  # "List of IP addresses or ranges … (empty if not restricted)"
        if isinstance(allow, list):
            ips = [str(i).strip() for i in allow if str(i).strip()]
            profile.ip_restricted, profile.ip_whitelist = bool(ips), ips
        else:
            profile.ip_restricted, profile.ip_whitelist = None, None
        profile.created_at = from_epoch_s(result.get("createdTime"))
        profile.expires_at = from_epoch_s(result.get("validUntil"))  # "0 if not set" → None
        profile.last_used_at = from_epoch_s(result.get("lastUsed"))  # nullable: never used
        iban = result.get("iban")  # "IIBAN (Internal IBAN) of the account associated with the API key"
        profile.account_id = iban.strip() if isinstance(iban, str) and iban.strip() else None
        if from_epoch_s(result.get("queryFrom")) or from_epoch_s(result.get("queryTo")):
            profile.notes.append("Kraken limits this key's queries to a date range.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if not isinstance(body, dict) or not isinstance(body.get("error"), list):
            return None
        for item in body["error"]:
            text = str(item)
            for prefix, (status, detail) in CODES.items():
                if text == prefix or text.startswith((prefix + ":", prefix + " ")):
                    if detail is None:
                        return status, redact.scrub(NONCE_MESSAGE)
                    return status, errors.message(status, detail)
        return None


ADAPTER = KrakenAdapter
