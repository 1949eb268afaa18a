from __future__ import annotations

import asyncio

import ccxt

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
