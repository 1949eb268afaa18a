"""Make a simulated exchange answer with one of its documented errors, and send hand-tampered signed requests.

``force_reject`` swaps the exchange's ``authenticate`` for one that raises ``Reject(kind)``, so the request still goes
through real ccxt and the exchange's real error rendering; only the reason for the error is chosen by the test.
``raw_request`` sends a request the test built itself (e.g. from ccxt's ``sign()`` output, then tampered with).
"""

from __future__ import annotations

import inspect
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from keyhygiene.sim import Simulator
from keyhygiene.sim.base import Reject


def force_reject(monkeypatch: pytest.MonkeyPatch, sim: Simulator, exchange: str, kind: str) -> None:
    handler = sim.handlers[exchange]
    original = handler.authenticate  # type: ignore[attr-defined]

    if inspect.iscoroutinefunction(original):
        async def reject_async(request: Any) -> Any:
            raise Reject(kind)

        monkeypatch.setattr(handler, "authenticate", reject_async)
    else:
        def reject(request: Any) -> Any:
            raise Reject(kind)

        monkeypatch.setattr(handler, "authenticate", reject)


def raw_request(url: str, method: str = "GET", headers: dict[str, str] | None = None,
                body: str | None = None) -> tuple[int, str]:
    """(HTTP status, body text) of one request to the simulator, errors included."""
    req = urllib.request.Request(url, method=method, headers=dict(headers or {}),
                                 data=body.encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback simulator only
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()


def sync_client(exchange: str, creds: Any, endpoint: str, configure: Any = None) -> Any:
    """A synchronous ccxt client pointed at ``endpoint``, only used for its ``sign()`` (no network)."""
    import ccxt

    from keyhygiene.exchanges.client import apply_endpoint

    client = getattr(ccxt, exchange)(creds.to_ccxt())
    apply_endpoint(client, endpoint)
    if configure is not None:
        configure(client)
    return client


def json_of(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def generic_for_rate_limit(adapter: Any, http_status: int, body: str | None) -> bool:
    """An HTTP 418/429 answer is classified by the shared generic mapping, whatever the exchange put in its body."""
    from keyhygiene.exchanges import errors

    exc = RuntimeError()
    return errors.classify(adapter, exc, http_status, body) == errors.generic(exc, http_status, body)
