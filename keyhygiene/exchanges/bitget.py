"""Bitget: ``GET /api/v2/spot/account/info`` ("Get Account Information"; 1 request / s per user ID).

Sources: bitget.com/api-doc/spot/account/Get-Account-Info (fields, rate limit) and its copies bitget.fit / bitget.live
(which also list the ``authorities`` codes, "Read only" and "Read and Write"); ccxt bitget.py exceptions['exact']
(error codes with Bitget's messages); shared/reference/exchanges.md §7.

Bitget reports the key's authorities and its IP whitelist (a string). ``regisTime`` is the ACCOUNT's registration
time, not the key's: Bitget does not report when a key was made, nor when it expires.
"""

from __future__ import annotations

from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, envelope, split_ips

DOC = "bitget api-doc spot/account/Get-Account-Info authorities"
RO = DOC + " (Read only)"
RW = DOC + " (Read and Write)"

TABLE = PermissionTable([
    Grant("coor", ("read",), RO + ": futures orders"),
    Grant("cpor", ("read",), RO + ": futures holdings"),
    Grant("stor", ("read",), RO + ": spot"),
    Grant("smor", ("read",), RO + ": margin"),
    Grant("ttor", ("read",), RO + ": copy trading"),
    Grant("wtor", ("read",), RO + ": wallet transfer"),
    Grant("taxr", ("read",), RO + ": taxation"),
    Grant("chor", ("read",), RO + ": sub-account"),
    Grant("p2pr", ("read",), RO + ": P2P"),
    Grant("pllr", ("read",), RO + ": pledge loan"),
    Grant("readonly", ("read",), DOC + " (legacy value in the docs' example)"),
    # Read-and-write codes include reading the same product.
    Grant("coow", ("read", "futures_trade"), RW + ": futures orders"),
    Grant("cpow", ("read", "futures_trade"), RW + ": futures holdings"),
    Grant("stow", ("read", "spot_trade"), RW + ": spot trade"),
    Grant("smow", ("read", "margin_trade"), RW + ": margin trade"),
    Grant("wtow", ("read", "transfer"), RW + ": wallet transfer"),
    Grant("wwow", ("withdraw",), RW + ": wallet withdrawal"),
    # Outside the vocabulary, reported raw: copy trading, sub-account management, P2P, pledge loans, tax.
    Grant("ttow", (), RW + ": copy trading"),
    Grant("chow", (), RW + ": sub-account management"),
    Grant("p2pw", (), RW + ": P2P"),
    Grant("p2p", (), RW + ": P2P (spelling on the English page)"),
    Grant("pllw", (), RW + ": pledge loan"),
    Grant("taxw", (), RW + ": tax"),
    # The docs' example shows a bare "trade" whose scope is not documented; it is read as every market Bitget
    # trades (spot, margin, futures) so that a trade right is never understated, and a note says so.
    Grant("trade", ("spot_trade", "margin_trade", "futures_trade"), DOC + " (legacy value; scope undocumented)"),
])

# Codes: ccxt bitget.py exceptions['exact'] (comments carry Bitget's messages); Bitget error-code page.
CODES: dict[str, tuple[Status, str]] = {
    "40006": (Status.INVALID_KEY, "Bitget error 40006: invalid ACCESS_KEY."),
    "40037": (Status.INVALID_KEY, "Bitget error 40037: the API key does not exist."),
    "40009": (Status.INVALID_SIGNATURE, "Bitget error 40009."),
    "40010": (Status.INVALID_SIGNATURE, "Bitget error 40010."),
    "40012": (Status.INVALID_PASSPHRASE, "Bitget error 40012 ('apikey/password is incorrect')."),
    "40011": (Status.INVALID_PASSPHRASE, "Bitget error 40011: no passphrase was sent."),
    "40001": (Status.REJECTED, "Bitget error 40001: an authentication header is missing."),
    "40002": (Status.REJECTED, "Bitget error 40002: an authentication header is missing."),
    "40003": (Status.REJECTED, "Bitget error 40003: the signature header is missing."),
    "40004": (Status.CLOCK_SKEW, "Bitget error 40004: the request timestamp expired."),
    "40005": (Status.CLOCK_SKEW, "Bitget error 40005: invalid ACCESS_TIMESTAMP."),
    "40008": (Status.CLOCK_SKEW, "Bitget error 40008: the request timestamp expired."),
    "40018": (Status.IP_NOT_ALLOWED, "Bitget error 40018."),
    "40014": (Status.PERMISSION_DENIED, "Bitget error 40014."),
    "40013": (Status.REJECTED, "Bitget error 40013: the account's status is abnormal."),
    "429": (Status.RATE_LIMITED, "Bitget error 429."),
}


class BitgetAdapter(Adapter):
    exchange_id = "bitget"
    key_info = Endpoint("private_spot_get_v2_spot_account_info", "GET", "/api/v2/spot/account/info")
    read_endpoints = (Endpoint("public_common_get_v2_public_time", "GET", "/api/v2/public/time"),)  # fetch_time
    table = TABLE
    supports_time_resync = True  # bitget.nonce() = milliseconds() - options['timeDifference'] (ccxt 4.5.90)

    def parse(self, data: Any, profile: KeyProfile) -> None:
        info = envelope(data, "data")
        if not isinstance(info, dict) or not isinstance(info.get("authorities"), list):
            raise ParseError("data.authorities is not a list")
        tokens = [str(t).strip() for t in info["authorities"] if str(t).strip()]
        profile.permissions, profile.other = TABLE.map(tokens)
        if "trade" in tokens:
            profile.notes.append("Bitget reported a legacy 'trade' authority whose scope it does not document; it "
                                 "is shown as spot, margin and futures trading.")

        ips = split_ips(info.get("ips"))  # a string in the docs; several IPs' separator is not shown
        if ips is None:
            profile.ip_restricted, profile.ip_whitelist = None, None
        else:
            profile.ip_restricted, profile.ip_whitelist = bool(ips), ips

        # regisTime is the account's registration time (docs: "Register time"): deliberately NOT created_at.
        profile.created_at = None
        profile.is_master = _is_master(info.get("userId"), info.get("parentId"))
        user = str(info.get("userId") or "").strip()
        profile.account_id = user if user and "*" not in user else None  # the docs' example masks it

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if not isinstance(body, dict):
            return None
        code = str(body.get("code", body.get("err_code", "")))
        if code in CODES:
            status, detail = CODES[code]
            return status, errors.message(status, detail)
        return None


def _is_master(user_id: Any, parent_id: Any) -> bool | None:
    """``parentId`` is the main account's user ID (docs). Equal IDs: the main account's own key; different IDs: a
    sub-account's. Anything masked, missing or zero: Bitget does not say (the main account's own value is not
    documented)."""
    u, p = str(user_id or "").strip(), str(parent_id or "").strip()
    if not u or not p or "*" in u or "*" in p or p == "0":
        return None
    return u == p


ADAPTER = BitgetAdapter
