"""Gate: ``GET /api/v4/account/main_keys`` ("Query All Main Account Key Information").

Sources:
- [GT-DOC] Gate APIv4 docs (gate.io/docs/developers/apiv4/en/#query-all-main-account-key-information), as stored:
  the example is an ARRAY of every key of the main account, each with a masked ``key`` ("c5dcfbf1f3a7*****"),
  integer seconds ``created_at``/``update_at``/``last_access``; its schema table says ``key`` is an object ``{mode}``
  and names ``updated_at``. [GT-SDK] gate/gateapi-python docs/AccountKeyInfo.md (2026): one ``AccountKeyInfo``
  object, times typed string. Which form the live server returns is unconfirmed, so both are accepted.
- [GT-PERMS] Gate APIv4 "APIv4 Permissions": groups spot/margin, perpetual contract, delivery contract, ``wallet``
  (read-write: "account records & fund transfers") and a separate ``withdrawal`` group (read-write: "withdrawals").
- [GT-ENUM] AccountKeyInfoPerms.md: ``perms[].name`` is one of wallet, spot (spot/margin), futures (perpetual),
  delivery, earn, custody, options, account, loan, margin, unified, copy, pilot, otc, alpha, crossx; plus
  ``read_only``. The enum does not list ``withdrawal``: whether main_keys reports it is unconfirmed (mapped
  defensively below, so a withdrawal right is never filed under ``other``).
- [GT-AUTH] APIv4 "signed request requirements" (``Timestamp`` within 60 s of server time) and the ``label`` list.
- ccxt 4.5.90 gate.py: ``private_account_get_main_keys``; ``nonce()`` subtracts ``options['timeDifference']``.

Gate reports no key expiry and no master/sub flag here; ``last_access`` is the key's last use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.timeutil import from_epoch_ms, from_epoch_s, parse_iso
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import (
    Adapter,
    Endpoint,
    Grant,
    ParseError,
    PermissionTable,
    as_bool,
    masked_matches,
    split_ips,
)

PERMS = "Gate APIv4 'APIv4 Permissions' + AccountKeyInfoPerms enum"

# Every group a key holds can at least read that area ("Each permission group can be set to disabled, read-only or
# read-write" [GT-PERMS]); read-write groups add the rights below. Groups outside the vocabulary stay in `other`.
_GROUPS = ("wallet", "spot", "futures", "delivery", "earn", "custody", "options", "account", "loan", "margin",
           "unified", "copy", "pilot", "otc", "alpha", "crossx", "withdrawal")
_WRITES: dict[str, tuple[tuple[str, ...], str]] = {
    "spot": (("spot_trade", "margin_trade"), "enum: 'spot: spot/margin'; read-write places orders"),
    "margin": (("margin_trade",), "enum: 'margin'"),
    "futures": (("futures_trade",), "enum: 'futures: perpetual contract'"),
    "delivery": (("futures_trade",), "enum: 'delivery: delivery contract'"),
    "options": (("options_trade",), "enum: 'options'"),
    "wallet": (("transfer",), "APIv4 Permissions: wallet read-write = 'account records & fund transfers'"),
    "withdrawal": (("withdraw",), "APIv4 Permissions: withdrawal read-write = 'withdrawals' (not in the enum)"),
}

TABLE = PermissionTable([
    *(Grant(f"{g}.read", ("read",), PERMS) for g in _GROUPS),
    *(Grant(f"{g}.write", _WRITES[g][0], f"{PERMS}: {_WRITES[g][1]}") for g in _GROUPS if g in _WRITES),
    # Write rights with no vocabulary name (earn, lending, copy trading, ...) are reported raw in `other`.
    *(Grant(f"{g}.write", (), f"{PERMS}: outside the vocabulary, reported raw") for g in _GROUPS if g not in _WRITES),
])

# label -> status, from [GT-AUTH]'s "Authentication related" label list.
CODES: dict[str, Status] = {
    "INVALID_KEY": Status.INVALID_KEY,
    "INVALID_SIGNATURE": Status.INVALID_SIGNATURE,
    "INVALID_CREDENTIALS": Status.REJECTED,  # "Invalid credentials provided": does not say which part
    "MISSING_REQUIRED_HEADER": Status.REJECTED,
    "IP_FORBIDDEN": Status.IP_NOT_ALLOWED,
    "READ_ONLY": Status.PERMISSION_DENIED,
    "FORBIDDEN": Status.PERMISSION_DENIED,  # "Account has no permission to request operation"
    "REQUEST_EXPIRED": Status.CLOCK_SKEW,  # "Request Timestamp is far from the server time"
    "ACCOUNT_LOCKED": Status.REJECTED,
    "TOO_MANY_REQUESTS": Status.RATE_LIMITED,
}
_DETAILS = {
    "FORBIDDEN": "Gate needs the key's 'account' permission to describe it.",
    "ACCOUNT_LOCKED": "Gate reports the account as locked.",
}
_STATES = {2: "locked", 3: "frozen"}  # 1 = normal [GT-DOC]


def select_own(data: Any, api_key: str) -> dict[str, Any]:
    """The calling key's entry: the object form is the key itself; the array form lists every key of the main
    account with a masked ``key`` (visible prefix + ``*``), matched against the prefix of ``api_key``."""
    if isinstance(data, dict):
        return data
    if not isinstance(data, list):
        raise ParseError("main_keys is neither an object nor a list")
    entries = [e for e in data if isinstance(e, dict)]
    matches = [e for e in entries if masked_matches(e.get("key"), api_key)]
    if matches:
        return matches[0]
    if len(entries) == 1 and not isinstance(entries[0].get("key"), str):
        return entries[0]
    raise ParseError("the key list does not contain this key")


def _time(value: Any) -> datetime | None:
    """Seconds per the doc example; milliseconds are recognised by size; ISO strings are accepted too."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and value and not value.replace(".", "", 1).isdigit():
        try:
            return parse_iso(value)
        except ValueError:
            return None
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    return from_epoch_ms(n) if n > 1e11 else from_epoch_s(n)


def _tokens(perms: Iterable[Any]) -> list[str]:
    tokens: list[str] = []
    for p in perms:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"]:
            continue
        tokens.append(f"{p['name']}.read")
        if as_bool(p.get("read_only")) is False:
            tokens.append(f"{p['name']}.write")
    return tokens


class GateAdapter(Adapter):
    exchange_id = "gate"
    key_info = Endpoint("private_account_get_main_keys", "GET", "/api/v4/account/main_keys")
    read_endpoints = (Endpoint("public_spot_get_time", "GET", "/api/v4/spot/time"),)
    table = TABLE
    supports_time_resync = True  # gate.nonce() subtracts options['timeDifference']; fetch_time = GET /spot/time

    async def fetch(self, client: Any, creds: Credentials) -> Any:
        data = await client.private_account_get_main_keys(self.params(creds))
        return select_own(data, creds.api_key)

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or "perms" not in data:
            raise ParseError("key info has no perms")
        perms = data.get("perms")
        if perms is not None and not isinstance(perms, list):
            raise ParseError("perms is not a list")
        profile.permissions, profile.other = TABLE.map(_tokens(perms or []))
        ips = split_ips(data.get("ip_whitelist"))
        profile.ip_whitelist = ips
        profile.ip_restricted = None if ips is None else bool(ips)
        profile.created_at = _time(data.get("created_at"))
        profile.last_used_at = _time(data.get("last_access"))
        state = data.get("state")
        if isinstance(state, int) and state in _STATES:
            profile.notes.append(f"Gate reports this key as {_STATES[state]}.")
        pairs = data.get("currency_pairs")
        if isinstance(pairs, list) and pairs:
            profile.notes.append("Gate limits this key to the trading pairs: "
                                 + ", ".join(str(p) for p in pairs[:30]) + ".")
        if "withdrawal.write" not in _tokens(perms or []):
            profile.notes.append("Withdrawal: the exchange does not say. Gate listed no withdrawal permission, but its "
                                 "docs do not confirm this endpoint reports one: check the key's withdrawal setting "
                                 "on Gate's API page.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        label = body.get("label") if isinstance(body, dict) else None
        if not isinstance(label, str) or label not in CODES:
            return None
        st = CODES[label]
        return st, errors.message(st, _DETAILS.get(label, f"Gate error {label}."))


ADAPTER = GateAdapter
