from __future__ import annotations

import asyncio

import ccxt
import pytest

from keyhygiene.core.models import Credentials, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.inspect import inspect_key


def test_signing_failure_says_the_exchange_was_not_asked() -> None:
    status, msg = errors.generic(ValueError("Incorrect padding"), None, None)
    assert status is Status.ERROR and "not asked" in msg and "ValueError" not in msg


def test_exchange_errors_keep_their_generic_mapping() -> None:
    assert errors.generic(ccxt.AuthenticationError("x"), 401, "{}")[0] is Status.REJECTED
    assert errors.generic(ccxt.RequestTimeout("x"), None, None)[0] is Status.UNREACHABLE
    assert errors.generic(ccxt.ExchangeError("x"), 502, "<html><body>bad gateway</body></html>")[0] is Status.ERROR


def test_malformed_kraken_secret_never_reaches_the_network() -> None:
    # Kraken secrets are base64; "%%%" cannot be decoded, so ccxt fails while signing.
    creds = Credentials(api_key="K" * 56, secret="%%%not-base64%%%")
    p = asyncio.run(inspect_key("kraken", creds, endpoints={"kraken": "http://127.0.0.1:9"}))
    assert p.status is Status.ERROR, p.message
    assert "not asked" in (p.message or "")


# ---- issue 18 item 10: a rate limit says when to retry, from Retry-After ------------------------------------
@pytest.mark.parametrize(("retry_after", "phrase"), [
    ("3600", "try again in 60 minutes"),
    ("90", "try again in 2 minutes"),
    ("5", "try again in 5 seconds"),
    ("60", "try again in a minute"),
    ("86400", "try again in 24 hours"),
])
def test_a_rate_limit_message_says_when_to_retry(retry_after: str, phrase: str) -> None:
    from keyhygiene.core.models import Status
    from keyhygiene.exchanges import errors

    status, text = errors.generic(Exception("429"), 429, "{}")
    assert status is Status.RATE_LIMITED
    out = errors.with_retry_after(status, text, {"Retry-After": retry_after})
    assert phrase in out and "in a minute" not in out.replace(phrase, "")


def test_a_rate_limit_without_retry_after_does_not_promise_a_minute() -> None:
    from keyhygiene.exchanges import errors

    status, text = errors.generic(Exception("429"), 429, "{}")
    assert "in a minute" not in errors.with_retry_after(status, text, {})


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from keyhygiene.exchanges import errors

    when = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    seconds = errors.retry_after_seconds({"retry-after": when})
    assert seconds is not None and 7000 < seconds <= 7200
