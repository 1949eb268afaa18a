"""Gate through real ccxt against the simulator: every field, every status, and the signature check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from tests.helpers.signed_requests import capture, send
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_in_setup, inspect_sync

EX = "gate"
CREATED = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_every_field_is_mapped(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "margin_trade", "futures_trade",
                                                "options_trade", "transfer", "withdraw"},
                               ip_whitelist=["203.0.113.10", "198.51.100.7"], created_at=CREATED))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "margin_trade", "options_trade", "read", "spot_trade", "transfer",
                             "withdraw"]
    assert p.other == []
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10", "198.51.100.7"]
    assert p.created_at == CREATED
    assert p.last_used_at is not None and abs(p.last_used_at - utcnow()) < timedelta(minutes=5)
    # Gate reports no expiry, trade expiry, master flag or third-party link here.
    assert (p.expires_at, p.trade_expires_at, p.is_master, p.third_party_link) == (None, None, None, None)


def test_read_only_unrestricted_key(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read"}, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read"] and p.ip_restricted is False and p.ip_whitelist == []
    assert any("withdrawal" in n for n in p.notes)


def test_the_calling_key_is_picked_from_the_accounts_key_list(sim) -> None:  # type: ignore[no-untyped-def]
    uid = "555000111"
    trader = sim.add_key(make_key(EX, uid=uid, permissions={"read", "futures_trade"}))
    reader = sim.add_key(make_key(EX, uid=uid, permissions={"read"}))
    assert inspect_sync(sim, trader).permissions == ["futures_trade", "read"]
    assert inspect_sync(sim, reader).permissions == ["read"]


def test_key_state_and_pair_whitelist_become_notes(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, raw={"state": 2, "currency_pairs": ["BTC_USDT"]}))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert any("locked" in n for n in p.notes) and any("BTC_USDT" in n for n in p.notes)


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        ("unknown", Status.INVALID_KEY),
        ("wrong_secret", Status.INVALID_SIGNATURE),
        ("ip", Status.IP_NOT_ALLOWED),
        ("no_account_permission", Status.PERMISSION_DENIED),
        ("expired", Status.INVALID_KEY),
        ("rate_limited", Status.RATE_LIMITED),
    ],
)
def test_each_status_with_gates_own_label(sim, setup: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    kw = {
        "ip": {"ip_whitelist": ["198.51.100.99"]},
        "no_account_permission": {"permissions": {"spot_trade"}},
        "expired": {"expires_at": utcnow() - timedelta(days=1)},
    }.get(setup, {})
    _key, p = inspect_in_setup(sim, EX, setup, **kw)
    assert p.status is status, p.message


def test_clock_skew_is_resynced_from_spot_time(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.inject_fault(EX, "clock_skew")
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert sim.request_count(EX, "/api/v4/spot/time") >= 1


def test_tampered_request_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    req = capture(EX, creds_of(key), sim.endpoints[EX], lambda c: c.private_account_get_main_keys())
    status, body = send(req)
    assert status == 200 and isinstance(body, list)  # the untouched request is accepted
    for tampered in (req.with_(url=req.url + "?limit=1"),
                     req.with_(headers={**req.headers, "Timestamp": str(int(req.headers["Timestamp"]) + 1)}),
                     req.with_(method="GET", body='{"x":1}')):
        status, body = send(tampered)
        assert status == 401 and body["label"] == "INVALID_SIGNATURE", body
