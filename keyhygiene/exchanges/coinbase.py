"""Coinbase Advanced Trade (CDP keys): ``GET /api/v3/brokerage/key_permissions`` ("Get API Key Permissions").

Sources: docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/data-api/get-api-key-permissions (OpenAPI
``GetApiKeyPermissionsResponse``: can_view, can_trade, can_transfer, portfolio_uuid, portfolio_type UNDEFINED /
DEFAULT / CONSUMER / INTX); the official SDK's test body (github.com/coinbase/coinbase-advanced-py
tests/rest/test_data_api.py: can_view, can_trade, can_withdraw, portfolio_uuid);
docs.cdp.coinbase.com/coinbase-app/authentication-authorization/authorization (View / Trade / Transfer: "send and
receive funds, on and off platform"); .../advanced-trade-apis/rest-scopes ("Spot and US Derivatives": POST /orders
needs ``trade``); .../advanced-trade-apis/guides/portfolios ("Each API key is scoped to specific portfolio");
docs.cdp.coinbase.com JWT authentication (ES256 / EdDSA, 2-minute tokens, uri "METHOD host/path"); ccxt issues
#22182 / #23987 (every auth failure is a bare ``401 Unauthorized``); shared/reference/exchanges.md §5.

Coinbase reports only the three scopes and the portfolio: no IP allowlist (the CDP portal has one, this endpoint does
not report it), no creation or expiry time, no master/sub-account flag.
"""

from __future__ import annotations

import re
import time
from typing import Any

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, Endpoint, Grant, ParseError, PermissionTable, as_bool
from keyhygiene.exchanges.client import capture_of

DOC = "docs.cdp.coinbase.com Get API Key Permissions"

TABLE = PermissionTable([
    Grant("can_view", ("read",), DOC + "; authorization page: View"),
    # One Trade scope for spot and US derivatives orders (rest-scopes: "Spot and US Derivatives", POST /orders).
    Grant("can_trade", ("spot_trade", "futures_trade"), DOC + "; rest-scopes: POST /orders needs trade"),
    # Transfer: "send and receive funds, on and off platform" and move funds between portfolios.
    Grant("can_transfer", ("withdraw", "transfer"), DOC + "; authorization page: Transfer"),
    # The official SDK's test body for get_api_key_permissions reports can_withdraw (coinbase/coinbase-advanced-py
    # tests/rest/test_data_api.py): where present, it says whether the key can withdraw.
    Grant("can_withdraw", ("withdraw",), "coinbase-advanced-py tests/rest/test_data_api.py: can_withdraw"),
])
# OpenAPI GetApiKeyPermissionsResponse.portfolio_type: the kinds of portfolio a key can be scoped to.
PORTFOLIO_TYPES = ("UNDEFINED", "DEFAULT", "CONSUMER", "INTX")

# A bare 401 cannot be told apart; a clock further off than this explains it (JWTs live 120 s from nbf = now).
CLOCK_TOLERANCE_S = 30.0
UNAUTHORIZED_DETAIL = (
    "Coinbase answers a bare 401 for an unknown or deleted key, a private key that does not belong to the key name, "
    "an expired token and a request from outside the key's IP allowlist alike."
)


class CoinbaseClockSkew(Exception):
    """The 401 came with a clock difference large enough to make every token invalid."""

    def __init__(self, skew_s: float) -> None:
        super().__init__(f"clock differs from Coinbase's by {skew_s:+.0f} s")
        self.skew_s = skew_s


def _scheme_free_auth_token(original: Any) -> Any:
    """ccxt strips only ``https://`` when it builds the JWT's uri claim; Coinbase's claim is "METHOD host/path", so
    an ``http://`` override (a simulator or proxy) must lose its scheme too. The signing stays ccxt's."""

    def create_auth_token(seconds: Any, method: Any = None, url: Any = None, useEddsa: Any = False) -> Any:
        if isinstance(url, str):
            url = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", url)
        return original(seconds, method, url, useEddsa)

    return create_auth_token


class CoinbaseAdapter(Adapter):
    exchange_id = "coinbase"
    key_info = Endpoint("v3_private_get_brokerage_key_permissions", "GET", "/api/v3/brokerage/key_permissions")
    # Public server time, asked only after a 401 to tell a wrong clock from a rejected key.
    read_endpoints = (Endpoint("v3_public_get_brokerage_time", "GET", "/api/v3/brokerage/time"),)
    table = TABLE
    # ccxt builds the JWT's nbf/exp from seconds() (the local clock), not from options['timeDifference'].
    supports_time_resync = False

    def configure(self, client: Any) -> None:
        client.create_auth_token = _scheme_free_auth_token(client.create_auth_token)

    async def fetch(self, client: Any, creds: Credentials) -> Any:
        import ccxt

        try:
            return await super().fetch(client, creds)
        except ccxt.AuthenticationError:
            cap = capture_of(client)
            saved = (cap.status, dict(cap.headers), cap.body)
            skew = await _clock_skew_s(client)
            cap.status, cap.headers, cap.body = saved  # classify must see the 401, not the time answer
            if skew is not None and abs(skew) > CLOCK_TOLERANCE_S:
                raise CoinbaseClockSkew(skew) from None
            raise

    def parse(self, data: Any, profile: KeyProfile) -> None:
        if not isinstance(data, dict) or "can_view" not in data:
            raise ParseError("no can_view field")
        scopes = [k for k, v in data.items() if k.startswith("can_") and as_bool(v) is True]
        profile.permissions, profile.other = TABLE.map(scopes)
        profile.ip_restricted, profile.ip_whitelist = None, None  # the allowlist exists but is not reported
        kind = data.get("portfolio_type")
        if isinstance(kind, str) and kind:
            known = "" if kind in PORTFOLIO_TYPES else ", a type Coinbase does not document"
            profile.notes.append(f"Coinbase scopes this key to one portfolio (portfolio_type {kind}{known}; "
                                 f"Coinbase's types: {', '.join(PORTFOLIO_TYPES)}).")

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        if isinstance(exc, CoinbaseClockSkew):
            return Status.CLOCK_SKEW, errors.message(
                Status.CLOCK_SKEW, f"Coinbase's clock and this computer's differ by {abs(exc.skew_s):.0f} s, so "
                                   "every signed token is outside its 2-minute validity.")
        obj = body if isinstance(body, dict) else {}
        error = obj.get("error")
        listed = obj.get("errors")
        ids = [str(e.get("id")) for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        if error == "PERMISSION_DENIED" or "invalid_scope" in ids or (http_status == 403 and obj):
            return Status.PERMISSION_DENIED, errors.message(Status.PERMISSION_DENIED)
        if http_status == 401 or {"authentication_error", "invalid_token", "expired_token", "revoked_token",
                                  "unauthorized"} & set(ids):
            return Status.REJECTED, errors.message(Status.REJECTED, UNAUTHORIZED_DETAIL)
        if "rate_limit_exceeded" in ids or (isinstance(error, str)
                                            and error.lower() in ("rate_limit_exceeded", "resource_exhausted")):
            return Status.RATE_LIMITED, errors.message(Status.RATE_LIMITED)
        return None


async def _clock_skew_s(client: Any) -> float | None:
    """Local clock minus Coinbase's, in seconds; None when the time cannot be read."""
    try:
        before = time.time()
        answer = await client.v3_public_get_brokerage_time({})
        after = time.time()
        millis = answer.get("epochMillis")
        server = float(millis) / 1000 if millis is not None else float(answer["epochSeconds"])
    except Exception:  # noqa: BLE001 - the probe only refines a 401; its own failure changes nothing
        return None
    return (before + after) / 2 - server


ADAPTER = CoinbaseAdapter
