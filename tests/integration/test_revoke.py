"""The one write path: Bybit's delete-api through real ccxt; guided deletion elsewhere; its own allowlist."""

from __future__ import annotations

import asyncio

from keyhygiene.core.models import Status
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.exchanges.revoke import revoke_key, supports_api_revoke
from keyhygiene.sim import Simulator
from tests.helpers.simkeys import creds_of, make_key


async def _with_sim(fn):  # type: ignore[no-untyped-def]
    sim = Simulator(exchanges=("bybit", "binance"), enforce_rate_limits=False)
    await sim.start()
    try:
        return await fn(sim)
    finally:
        await sim.stop()


def test_bybit_master_key_with_transfer_deletes_itself() -> None:
    async def go(sim: Simulator):  # type: ignore[no-untyped-def]
        key = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "transfer"}))
        res = await revoke_key("bybit", creds_of(key), endpoints=sim.endpoints)
        after = await inspect_key("bybit", creds_of(key), endpoints=sim.endpoints)
        return res, after, key

    res, after, key = asyncio.run(_with_sim(go))
    assert res.supported and res.ok, res.message
    assert key.revoked and after.status is Status.INVALID_KEY


def test_bybit_refuses_to_delete_a_key_without_transfer_rights() -> None:
    async def go(sim: Simulator):  # type: ignore[no-untyped-def]
        key = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}))
        return await revoke_key("bybit", creds_of(key), endpoints=sim.endpoints), key

    res, key = asyncio.run(_with_sim(go))
    assert res.supported and not res.ok and res.status is Status.PERMISSION_DENIED
    assert "API page" in res.message and not key.revoked


def test_exchanges_without_delete_api_are_guided() -> None:
    assert supports_api_revoke("bybit") and not supports_api_revoke("binance")
    res = asyncio.run(revoke_key("binance", creds_of(make_key("binance"))))
    assert not res.supported and "binance.com" in res.message
