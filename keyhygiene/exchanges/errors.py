"""Turning whatever went wrong into one DESIGN.md status and a plain message free of key material."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.models import Status
from keyhygiene.exchanges.readonly import ReadOnlyViolation

if TYPE_CHECKING:
    from keyhygiene.exchanges.adapter import Adapter

log = logging.getLogger(__name__)

# HTTP answers that mean "too many requests" / "this IP is banned for a while" whatever their body says: the generic
# mapping reads Retry-After and names the ban, the same for every exchange.
RATE_LIMIT_HTTP = (418, 429)

MESSAGES: dict[Status, str] = {
    Status.INVALID_KEY: "The exchange does not recognise this API key: it was deleted, has expired, or was mistyped.",
    Status.INVALID_SIGNATURE: "The exchange rejected the signature: the API secret does not belong to this key.",
    Status.INVALID_PASSPHRASE: "The exchange rejected the passphrase for this key.",
    Status.IP_NOT_ALLOWED: "The key is restricted to other IP addresses than this computer's.",
    Status.PERMISSION_DENIED: "The key is valid but lacks the permission to read its own settings.",
    Status.REJECTED: (
        "The exchange rejected the key without saying why (deleted key, wrong IP or missing permission look "
        "the same here)."
    ),
    Status.RATE_LIMITED: "The exchange is rate-limiting requests; try again later.",
    Status.CLOCK_SKEW: "This computer's clock differs too much from the exchange's; sync the system clock.",
    Status.UNREACHABLE: "The exchange could not be reached (network down, DNS, refused connection or timeout).",
    Status.UNSUPPORTED: "This exchange has no way to describe a key through its API.",
    Status.ERROR: "The exchange answered with something unexpected.",
}


def message(status: Status, detail: str | None = None) -> str:
    base = MESSAGES[status]
    return redact.scrub(f"{base} {detail}".strip() if detail else base)


def decode_body(body: str | None) -> Any:
    if body is None:
        return None
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return None


def looks_like_html(body: str | None) -> bool:
    if not body:
        return False
    head = body.lstrip()[:200].lower()
    return head.startswith("<!doctype") or head.startswith("<html") or "<body" in head


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110 allows both)."""
    for k, v in headers.items():
        if k.lower() != "retry-after":
            continue
        value = str(v).strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            from datetime import UTC, datetime
            from email.utils import parsedate_to_datetime

            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError, IndexError):
            return None
    return None


def retry_phrase(seconds: float) -> str:
    """ "in 45 seconds", "in a minute", "in 60 minutes", "in 3 hours" (rounded up: never sooner than asked)."""
    import math

    if seconds <= 60:
        n = max(1, math.ceil(seconds))
        return "in a minute" if n == 60 else f"in {n} second{'s' if n != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes <= 120:
        return f"in {minutes} minutes"
    hours = math.ceil(seconds / 3600)
    return f"in {hours} hours"


def with_retry_after(status: Status, text: str, headers: Mapping[str, str] | None) -> str:
    """A rate limit's message says when to retry, from the answer's Retry-After when there is one."""
    if status is not Status.RATE_LIMITED or not headers:
        return text
    seconds = retry_after_seconds(headers)
    if seconds is None:
        return text
    phrase = f"try again {retry_phrase(seconds)}"
    if "try again later" in text:
        return text.replace("try again later", phrase)
    return f"{text.rstrip('.')}; {phrase}."


def guard_failure(exc: BaseException) -> tuple[Status, str] | None:
    """What the HTTP guard stopped (http_guard.py): whatever the exchange's own codes would say, this is it."""
    from keyhygiene.exchanges.http_guard import RedirectRefused, ResponseTooLarge, UnreadableAnswer

    if isinstance(exc, RedirectRefused):
        return Status.ERROR, message(Status.ERROR, f"It answered with a redirect to {exc.location} (HTTP "
                                     f"{exc.status}); KeyHygiene never follows a redirect with a signed request.")
    if isinstance(exc, ResponseTooLarge):
        return Status.ERROR, message(Status.ERROR, f"Its answer was larger than {exc.limit // 1024} KiB, far more "
                                     "than a key description; KeyHygiene stopped reading it.")
    if isinstance(exc, UnreadableAnswer):
        return Status.ERROR, message(Status.ERROR, f"{str(exc).capitalize()}.")
    return None


def generic(exc: BaseException, http_status: int | None, body: str | None) -> tuple[Status, str]:
    """The mapping used when the adapter did not recognise an exchange-specific code."""
    import ccxt

    guarded = guard_failure(exc)
    if guarded is not None:
        return guarded
    if isinstance(exc, ReadOnlyViolation):
        return Status.ERROR, message(Status.ERROR, "KeyHygiene blocked a non-read request (this is a bug).")
    if isinstance(exc, asyncio.TimeoutError | ccxt.RequestTimeout):
        return Status.UNREACHABLE, message(Status.UNREACHABLE, "It did not answer in time.")
    if http_status in (429, 418) or isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        detail = "HTTP 418: this IP is temporarily banned." if http_status == 418 else None
        return Status.RATE_LIMITED, message(Status.RATE_LIMITED, detail)
    if isinstance(exc, ccxt.InvalidNonce):
        return Status.CLOCK_SKEW, message(Status.CLOCK_SKEW)
    if isinstance(exc, ccxt.NotSupported):
        return Status.UNSUPPORTED, message(Status.UNSUPPORTED)
    if http_status is None and isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.NetworkError):
        return Status.UNREACHABLE, message(Status.UNREACHABLE)
    if looks_like_html(body):
        return Status.ERROR, message(Status.ERROR, f"It returned a web page instead of data (HTTP {http_status}).")
    if http_status is not None and http_status >= 500:
        return Status.ERROR, message(Status.ERROR, f"It reported a server error (HTTP {http_status}).")
    if isinstance(exc, ccxt.PermissionDenied):
        return Status.PERMISSION_DENIED, message(Status.PERMISSION_DENIED)
    if isinstance(exc, ccxt.AuthenticationError) or http_status in (401, 403):
        return Status.REJECTED, message(Status.REJECTED)
    if body is not None and decode_body(body) is None and body.strip():
        return Status.ERROR, message(Status.ERROR, "Its answer was not valid JSON.")
    if http_status is None and body is None and not isinstance(exc, ccxt.BaseError):
        # Raised while signing (bad base64, a truncated PEM): nothing was sent, the exchange was never asked.
        return Status.ERROR, redact.scrub(
            "KeyHygiene could not sign a request with this secret, so the exchange was not asked: the secret is "
            "incomplete or not in the format this exchange issues (check for a cut-off paste)."
        )
    return Status.ERROR, message(Status.ERROR, type(exc).__name__)


def classify(adapter: Adapter | None, exc: BaseException, http_status: int | None, body: str | None
             ) -> tuple[Status, str]:
    """A failed request's status and plain message: the exchange's own codes (``adapter.classify``) first, except
    for a rate limit or IP ban (``RATE_LIMIT_HTTP``); the generic mapping otherwise."""
    guarded = guard_failure(exc)
    if guarded is not None:
        return guarded
    if adapter is not None and http_status not in RATE_LIMIT_HTTP:
        try:
            mapped = adapter.classify(http_status, decode_body(body), exc)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a parser bug must not hide the failure it was asked about
            log.exception("classify failed for %s", adapter.exchange_id)
            mapped = None
        if mapped:
            return mapped
    return generic(exc, http_status, body)
