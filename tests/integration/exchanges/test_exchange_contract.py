"""Every simulated exchange, through real ccxt: the same contract for all twelve adapters.

Per-exchange specifics (each documented field, odd shapes, hypothesis on the parser) live in test_<exchange>.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import AUTH_REJECTIONS, Status
from keyhygiene.core.permissions import TRADE_PERMISSIONS
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.client import create_client
from keyhygiene.exchanges.readonly import Allowlist, ReadOnlyViolation
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_sync, simulated_exchanges

EXCHANGES = simulated_exchanges()
pytestmark = pytest.mark.parametrize("exchange", EXCHANGES)

WHITELISTED = ["203.0.113.10", "198.51.100.7"]
# Exchanges whose 429 body carries no code of their own: the generic HTTP mapping classifies it.
def test_happy_path_reports_what_the_exchange_holds(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange, permissions={"read", "spot_trade"}, ip_whitelist=WHITELISTED,
                               created_at=datetime(2023, 10, 30, 5, 53, 39, tzinfo=UTC)))
    # The declaration matters only where the exchange does not describe the key (MEXC); the others ignore it.
    p = inspect_sync(sim, key, declared_permissions=["read", "spot_trade"])
    assert p.status is Status.OK, p.message
    reports = get_adapter(exchange).reports_permissions
    assert "read" in p.permissions
    assert p.permissions_source == ("exchange" if reports else "declared")
    assert "spot_trade" in p.permissions
    assert "withdraw" not in p.permissions
    assert p.ip_restricted in (True, None)
    assert p.key == mask_key(key.api_key) and key.api_key not in p.key
    js = p.to_json()
    assert js["permissions"] == sorted(js["permissions"])


def test_a_check_makes_the_requests_its_adapter_declares(sim, exchange):  # type: ignore[no-untyped-def]
    """``requests_in_turn`` orders the audit's starts (audit_runner.start_ranks): it must be what a check sends."""
    key = sim.add_key(make_key(exchange, permissions={"read"}))
    before = sim.request_count(exchange)
    p = inspect_sync(sim, key, declared_permissions=["read"])
    assert p.status is Status.OK, p.message
    assert sim.request_count(exchange) - before == get_adapter(exchange).requests_in_turn


def test_withdraw_and_no_ip_restriction_are_visible(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange, permissions={"read", "spot_trade", "withdraw"}, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    if get_adapter(exchange).reports_permissions:
        assert "withdraw" in p.permissions
    else:  # MEXC: account flags say withdraw; the key's own right is not said and nothing was declared
        assert "withdraw" not in p.permissions and p.permissions_source == "unknown"
    # One meaning of "unrestricted" (issue 15 item 7): false and [] where the exchange says so, null where it does not.
    assert (p.ip_restricted, p.ip_whitelist) in ((False, []), (None, None))


def test_read_only_key_has_no_trade_rights(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange, permissions={"read"}, ip_whitelist=WHITELISTED))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert not (set(p.permissions) & (TRADE_PERMISSIONS | {"withdraw", "transfer"}))


def test_wrong_secret_is_rejected_like_the_exchange_does(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    wrong = make_key(exchange)  # valid-looking secret of another key
    creds = dataclasses.replace(creds_of(key), secret=wrong.secret)
    p = inspect_sync(sim, key, creds=creds)
    assert p.status in AUTH_REJECTIONS, (p.status, p.message)
    assert p.message and key.secret not in p.message and wrong.secret not in p.message


def test_unknown_key_is_rejected(sim, exchange):  # type: ignore[no-untyped-def]
    key = make_key(exchange)  # never added to the simulator
    p = inspect_sync(sim, key)
    assert p.status in (Status.INVALID_KEY, Status.REJECTED), (p.status, p.message)


def test_revoked_key_is_rejected(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    assert inspect_sync(sim, key).status is Status.OK
    sim.revoke(key.api_key)
    p = inspect_sync(sim, key)
    assert p.status in (Status.INVALID_KEY, Status.REJECTED), (p.status, p.message)


def test_ip_not_in_whitelist(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange, ip_whitelist=["198.51.100.99"]))
    p = inspect_sync(sim, key)
    assert p.status in (Status.IP_NOT_ALLOWED, Status.REJECTED, Status.INVALID_KEY), (p.status, p.message)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("html", {Status.ERROR}),
        ("malformed_json", {Status.ERROR}),
        ("http_500", {Status.ERROR}),
        ("http_418", {Status.RATE_LIMITED}),
    ],
)
def test_faults_give_a_clear_status(sim, exchange, fault, expected):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    sim.inject_fault(exchange, fault, count=5)
    p = inspect_sync(sim, key)
    assert p.status in expected, (p.status, p.message)
    assert p.message


def test_rate_limit_is_retried_after_retry_after(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    sim.inject_fault(exchange, "http_429", count=1)
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert sim.request_count(exchange) >= 2


def test_persistent_rate_limit_gives_up_with_a_status(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    sim.inject_fault(exchange, "http_429", count=None)
    p = inspect_sync(sim, key)
    assert p.status is Status.RATE_LIMITED, p.message


def test_clock_skew_is_resynced_or_reported(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    sim.inject_fault(exchange, "clock_skew")
    p = inspect_sync(sim, key)
    if get_adapter(exchange).supports_time_resync:
        assert p.status is Status.OK, p.message
    else:
        assert p.status in (Status.CLOCK_SKEW, Status.OK), (p.status, p.message)


def test_hanging_exchange_times_out(sim, exchange):  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(exchange))
    sim.inject_fault(exchange, "hang", count=1)
    p = inspect_sync(sim, key, deadline_s=1.5)
    assert p.status is Status.UNREACHABLE, p.message


def test_unreachable_exchange(exchange):  # type: ignore[no-untyped-def]
    from keyhygiene.exchanges.inspect import inspect_key

    key = make_key(exchange)
    p = asyncio.run(inspect_key(exchange, creds_of(key), endpoints={exchange: "http://127.0.0.1:9"}))
    assert p.status is Status.UNREACHABLE, p.message


def test_non_read_methods_raise_before_any_io(sim, exchange):  # type: ignore[no-untyped-def]
    """The read-only proof: the audit client cannot reach anything but its allowlisted endpoints."""
    adapter = get_adapter(exchange)
    key = sim.add_key(make_key(exchange, permissions={"read", "spot_trade", "withdraw"}))
    before = sim.request_count(exchange)

    async def attempt() -> list[str]:
        client = create_client(exchange, creds_of(key), endpoint=sim.endpoints[exchange],
                               allowlist=Allowlist(adapter.allowed()), options=adapter.ccxt_options)
        blocked = []
        try:
            for name, call in (
                ("create_order", lambda: client.create_order("BTC/USDT", "limit", "buy", 1, 1)),
                ("withdraw", lambda: client.withdraw("USDT", 1, "addr")),
                ("fetch_balance", lambda: client.fetch_balance()),
                ("raw_post", lambda: client.fetch(sim.endpoints[exchange] + "/api/v3/order", "POST", {}, "")),
            ):
                try:
                    await call()
                except ReadOnlyViolation:
                    blocked.append(name)
                except Exception as exc:  # noqa: BLE001 - ccxt may refuse earlier (no markets); not I/O
                    blocked.append(f"{name}:{type(exc).__name__}")
        finally:
            await client.close()
        return blocked

    blocked = asyncio.run(attempt())
    assert len(blocked) == 4, blocked
    assert sim.request_count(exchange) == before, "a non-allowlisted request reached the exchange"


def test_every_error_kind_is_classified(sim, exchange):  # type: ignore[no-untyped-def]
    """Each documented error the simulator can answer maps to a status by the adapter's own codes; an HTTP 418/429
    is a rate limit for every exchange, whatever its body (errors.classify)."""
    from keyhygiene.exchanges import errors
    from keyhygiene.sim.base import ERROR_KINDS
    from tests.helpers.sim_force import json_of

    adapter, handler = get_adapter(exchange), sim.handlers[exchange]
    for kind in ERROR_KINDS:
        resp = handler.error(kind)
        if resp.status in errors.RATE_LIMIT_HTTP:
            assert errors.classify(adapter, RuntimeError(), resp.status, resp.text)[0] is Status.RATE_LIMITED, kind
        else:
            assert adapter.classify(resp.status, json_of(resp.text), RuntimeError()) is not None, kind
