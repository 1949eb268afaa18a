"""Bybit through real ccxt against the simulator: what issue 15 changed (docs v5/user/apikey-info, v5/error)."""

from __future__ import annotations

from keyhygiene.core.models import Status
from keyhygiene.sim.exchanges.bybit import RESTRICTED_REGION_IPS
from tests.helpers.simkeys import make_key
from tests.integration.exchanges.conftest import inspect_sync

EX = "bybit"


def test_spot_trade_on_a_unified_account_is_margin_too(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "spot_trade", "margin_trade"}, ip_whitelist=["203.0.113.10"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["margin_trade", "read", "spot_trade"]
    assert p.to_json()["permissions"] == ["margin_trade", "read", "spot_trade"]


def test_options_trade_covers_usdc_perpetuals(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX, permissions={"read", "options_trade"}, ip_whitelist=["203.0.113.10"]))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "options_trade", "read"]


def test_a_restricted_region_is_said_plainly(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.client_ip = next(iter(RESTRICTED_REGION_IPS))  # the module's autouse fixture puts it back
    p = inspect_sync(sim, key)
    assert p.status is Status.UNREACHABLE
    assert p.message and "region" in p.message and "10009" in p.message
    assert key.api_key not in p.message
