"""BingX through real ccxt against the simulator: permissions, IPs, creation time via apiKey/query, statuses
(including the codes ccxt maps to the wrong exception) and the signature check."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from keyhygiene.core.models import Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.sim import run_simulator_in_thread
from tests.helpers.signed_requests import capture, send
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_in_setup, inspect_sync

EX = "bingx"
CREATED = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_every_field_is_mapped(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "futures_trade", "transfer", "withdraw"},
                               ip_whitelist=["203.0.113.10"], created_at=CREATED))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "read", "spot_trade", "transfer", "withdraw"]
    assert p.ip_restricted is True and p.ip_whitelist == ["203.0.113.10"]
    assert p.created_at == CREATED  # from apiKey/query
    assert p.is_master is True
    assert (p.expires_at, p.trade_expires_at, p.third_party_link) == (None, None, None)
    assert sim.request_count(EX, "/openApi/account/v1/apiKey/query") >= 1


def test_sub_account_key_gets_permissions_but_no_creation_time(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade"}, ip_whitelist=None, is_master=False))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["read", "spot_trade"]
    assert p.ip_restricted is False and p.ip_whitelist == []
    assert p.created_at is None and p.is_master is None
    assert any("creation time" in n for n in p.notes)
    assert any("14 days" in n for n in p.notes)  # unbound trading key


def test_raw_codes_map_and_unknown_codes_are_kept(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, raw={"permissions": [2, 7, 6], "ipAddresses": [""]}))
    p = inspect_sync(sim, key)
    assert p.permissions == ["read", "transfer"] and p.other == ["6"]
    assert p.ip_restricted is False


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        ("unknown", Status.INVALID_KEY),
        ("wrong_secret", Status.INVALID_SIGNATURE),
        ("ip", Status.IP_NOT_ALLOWED),
        ("no_read", Status.PERMISSION_DENIED),
        ("expired", Status.INVALID_KEY),
        ("clock_skew", Status.CLOCK_SKEW),  # 100421: ccxt raises BadSymbol
        ("rate_limited", Status.RATE_LIMITED),
    ],
)
def test_each_status_with_bingx_own_code(sim, setup: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    kw = {
        "ip": {"ip_whitelist": ["198.51.100.99"]},
        "no_read": {"permissions": {"spot_trade"}},
        "expired": {"expires_at": utcnow() - timedelta(days=1)},
    }.get(setup, {})
    _key, p = inspect_in_setup(sim, EX, setup, **kw)
    assert p.status is status, p.message


def test_tampered_request_fails_the_signature_check(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    req = capture(EX, creds_of(key), sim.endpoints[EX], lambda c: c.account_v1_private_get_account_apipermissions())
    status, body = send(req)
    assert status == 200 and body["code"] == 0 and body["data"]["apiKey"] == key.api_key
    ts = req.url.split("timestamp=", 1)[1].split("&", 1)[0]
    for tampered in (req.with_(url=req.url.replace(f"timestamp={ts}", f"timestamp={int(ts) + 1}")),
                     req.with_(url=req.url.replace("?timestamp=", "?recvWindow=5000&timestamp="))):
        status, body = send(tampered)
        assert body["code"] == 100001, body


def test_a_single_inspection_fits_bingx_per_endpoint_limits() -> None:
    """Three requests to three endpoints: BingX limits each endpoint separately, so none is refused."""
    key = make_key(EX, created_at=CREATED)
    with run_simulator_in_thread(keys=[key], exchanges=(EX,)) as live:  # rate limits enforced
        p = asyncio.run(inspect_key(EX, creds_of(key), endpoints=live.endpoints))
        assert p.status is Status.OK, p.message
        assert p.created_at == CREATED
        assert live.request_count(EX) == 3
