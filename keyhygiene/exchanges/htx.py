"""HTX (Huobi): ``GET /v2/user/api-key?uid=&accessKey=`` ("API key query"), after ``GET /v2/user/uid``.

Sources:
- [HTX-KEY] htx.com/en-us/opend/newApiPages/?id=7ec52c92-7773-11ed-9966-0242ac110003 (API key query), as stored:
  parameters ``uid`` ("parent user uid, sub user uid") and ``accessKey``; "used by the parent user to query their own
  API key information, and the parent user to query their sub user's"; interface permission Read; fields accessKey,
  note, permission (string), ipAddresses (string), validDays ("If it is -1, it means permanently valid"), status
  ("normal, expired"), createTime/updateTime (long ms). Its example has ``"permission": "readOnly,trade,withdraw"``
  and ``"ipAddresses": ""`` with ``validDays: 7`` for an unbound key.
- [HTX-UID] id=7ec52d6c-... (Get UID): ``{"code":200,"data":63628520}``, interface permission Read. ccxt does not
  fill ``uid`` itself, so the adapter reads it first (ccxt ``v2private_get_user_uid``) unless the user gave one.
- [HTX-DOC] huobiapi spot v1 docs (Slate source, 2021): "The API key is shared for all instruments in Huobi including
  spot, futures, swap, options"; trade permission = "create order, cancel order and transfer"; withdraw permission =
  "create withdraw order, cancel withdraw order"; "The API Key can bind maximum 20 IP addresses ... The API Key
  without IP binding will be expired after 90 days"; signature text names the host ("The host in signature text
  should be the same as the host in your API request"); Timestamp "valid within 5 minutes" (FAQ: "less than 1
  minute"); FAQ Q7 body for a deleted key; "Each API Key is limited to 10 times per second".
- exchanges-confirmations.md H11-H15: IP, timestamp and permission errors all come as ``api-signature-not-valid``
  and differ only in ``err-msg`` (official-repo issues and ccxt comments, not the doc text).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.permissions import ALL_TRADE_KINDS
from keyhygiene.core.plural import plural
from keyhygiene.core.timeutil import from_epoch_ms, utcnow
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, split_ips

DOC = "HTX API key query (permission field)"

TABLE = PermissionTable([
    Grant("readOnly", ("read",), DOC + "; 'readOnly is required permission for any API key'"),
    # One trade right for every market the key reaches ("shared for all instruments ... spot, futures, swap,
    # options") and it also moves funds between accounts ("create order, cancel order and transfer").
    Grant("trade", (*ALL_TRADE_KINDS, "transfer"), "HTX spot docs, Quick Start > Preparation"),
    Grant("withdraw", ("withdraw",), DOC + " example 'readOnly,trade,withdraw'; FAQ: withdraw, cancel withdraw"),
])

# err-msg fragments of ``api-signature-not-valid`` (English and the Chinese text HTX appends).
_SIGNATURE_MESSAGES: tuple[tuple[tuple[str, ...], Status, str], ...] = (
    (("incorrect access key", "access key错误"), Status.INVALID_KEY, "HTX does not know this access key."),
    (("incorrect ip", "ip地址错误"), Status.IP_NOT_ALLOWED, "HTX rejected this computer's IP address."),
    (("无效的提交时间", "submission time", "timestamp"), Status.CLOCK_SKEW, "HTX rejected the request time."),
    (("has no permission", "没有权限"), Status.PERMISSION_DENIED, "HTX says the key lacks the Read permission."),
    (("verification failure", "校验失败"), Status.INVALID_SIGNATURE, "HTX could not verify the signature."),
)
_RATE_CODES = {"base-request-exceed-frequency-limit", "rate-too-many-requests", "api-request-limit"}
# v2 ``code`` values (spot docs, sub-user management error codes; ccxt htx exceptions).
_V2_CODES: dict[int, tuple[Status, str]] = {
    1003: (Status.INVALID_SIGNATURE, "HTX: invalid signature."),
    1002: (Status.PERMISSION_DENIED, "HTX: operation forbidden for this key."),
    # Sub users may only call the endpoints listed in the docs; anything else answers 403.
    403: (Status.PERMISSION_DENIED, "HTX answers 403 to sub-user keys here: only parent-user keys can query key "
                                    "information."),
    429: (Status.RATE_LIMITED, "HTX: too many requests."),
}


def _ok_data(resp: Any, what: str) -> Any:
    """``data`` of a v2 answer whose ``code`` is 200; anything else is an HTX error, not a parse problem."""
    if not isinstance(resp, dict) or "data" not in resp and "code" not in resp:
        raise ParseError(f"{what} answer has neither code nor data")
    code = resp.get("code", 200)
    if str(code) != "200":
        import ccxt

        raise ccxt.ExchangeError(f"htx {what} answered code {code}")
    if "data" not in resp:
        raise ParseError(f"{what} answer has no data")
    return resp["data"]


def select_own(data: Any, api_key: str) -> dict[str, Any]:
    """Our entry of the key list. Asked with ``accessKey``, HTX lists only that key; the doc's own examples mask
    access keys ("160bb889-b7XXXXbe-..."), so a single entry is accepted even if its key is not spelled out."""
    if not isinstance(data, list):
        raise ParseError("key list is not a list")
    entries = [e for e in data if isinstance(e, dict)]
    exact = [e for e in entries if e.get("accessKey") == api_key]
    if exact:
        return exact[0]
    if len(entries) == 1:
        return entries[0]
    raise ParseError("the key list does not contain this key")


class HtxAdapter(Adapter):
    exchange_id = "htx"
    key_info = Endpoint("v2private_get_user_api_key", "GET", "/v2/user/api-key")
    read_endpoints = (
        Endpoint("v2private_get_user_uid", "GET", "/v2/user/uid"),
        Endpoint("spot_public_get_v1_common_timestamp", "GET", "/v1/common/timestamp"),
    )
    table = TABLE
    supports_time_resync = True  # htx.nonce() subtracts options['timeDifference']; fetch_time = /v1/common/timestamp
    requests_in_turn = 2  # the uid (unless the key was stored with it), then that uid's key list (fetch below)

    async def fetch(self, client: Any, creds: Credentials) -> Any:
        uid = (creds.extra or {}).get("uid")
        if not uid:
            uid = _ok_data(await client.v2private_get_user_uid(), "uid")
            if isinstance(uid, bool) or not isinstance(uid, int | str) or not str(uid).isdigit():
                raise ParseError("uid is not a number")
        data = _ok_data(await client.v2private_get_user_api_key({"uid": uid, "accessKey": creds.api_key}),
                        "api-key")
        return select_own(data, creds.api_key)

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or "permission" not in data:
            raise ParseError("key entry has no permission")
        raw = data.get("permission")
        tokens = [t.strip() for t in raw.split(",") if t.strip()] if isinstance(raw, str) else []
        if raw is not None and not isinstance(raw, str):
            raise ParseError("permission is not a string")
        profile.permissions, profile.other = TABLE.map(tokens)
        # A key with no bound IP may come without the field at all (exchanges-confirmations.md H2: the official
        # C++ client checks for it; treat it like ""): unrestricted, not "HTX does not say".
        ips = split_ips(data.get("ipAddresses")) or []
        profile.ip_restricted, profile.ip_whitelist = bool(ips), ips
        profile.created_at = from_epoch_ms(data.get("createTime"))
        days = data.get("validDays")
        if isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 36500:
            # HTX gives whole days left, not a date: the expiry is accurate to a day, so it is dated from the start
            # of today (UTC). Counted from the moment of the check, it moved with every audit: a key with 0 days
            # left showed "today" right after a check and "expired" a while later (issue 20).
            today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
            profile.expires_at = today + timedelta(days=days)
            profile.notes.append(f"HTX reports {plural(days, 'day')} of validity left for this key.")
        if data.get("status") == "expired":
            profile.notes.append("HTX reports this key's status as expired.")
        # The endpoint answers parent users only [HTX-KEY]: an answer about our own key means a parent-user key.
        profile.is_master = True
        if profile.ip_restricted is False:
            profile.notes.append("HTX keys without a bound IP expire 90 days after creation.")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if not isinstance(body, dict):
            return None
        if body.get("status") == "error":
            code = str(body.get("err-code", body.get("err_code", "")))
            msg = str(body.get("err-msg", body.get("err_msg", ""))).lower()
            if code in _RATE_CODES:
                return Status.RATE_LIMITED, errors.message(Status.RATE_LIMITED)
            if code == "api-signature-check-failed":
                return Status.INVALID_SIGNATURE, errors.message(Status.INVALID_SIGNATURE)
            if code in ("api-signature-not-valid", "403"):
                for fragments, st, detail in _SIGNATURE_MESSAGES:
                    if any(f in msg for f in fragments):
                        return st, errors.message(st, detail)
                if code == "403":
                    return _v2(403)
                return Status.REJECTED, errors.message(Status.REJECTED, "HTX: signature not valid.")
            return None
        v2_code = body.get("code")
        try:
            return _v2(int(v2_code)) if v2_code is not None and int(v2_code) != 200 else None
        except (TypeError, ValueError):
            return None


def _v2(code: int) -> tuple[Status, str] | None:
    if code not in _V2_CODES:
        return None
    st, detail = _V2_CODES[code]
    return st, errors.message(st, detail)


ADAPTER = HtxAdapter
