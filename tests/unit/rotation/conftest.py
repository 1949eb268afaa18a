"""Fixtures for the rotation state machine: a vault with one shared Bybit key and a fake exchange."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.machine import RotationMachine
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.rotation_fakes import SERVICES, FakeClock, FakeExchange


@pytest.fixture
def exchange() -> FakeExchange:
    return FakeExchange()


@pytest.fixture
def old_creds(exchange: FakeExchange) -> Credentials:
    return exchange.add(permissions={"read", "spot_trade", "withdraw"}, ip_restricted=False)


@pytest.fixture
def key_id(vault: Vault, old_creds: Credentials) -> str:
    rec = vault.add_key(
        "bybit", "Grid bot", old_creds, purpose="bot",
        shared_with=[ServiceRef("3commas", date(2022, 5, 1)), ServiceRef("file:/home/u/bot/config.json")],
    )
    return rec.id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_machine(vault: Vault, key_id: str, exchange: FakeExchange, clock: FakeClock
                 ) -> Callable[..., RotationMachine]:
    def make(**kw: object) -> RotationMachine:
        m = RotationMachine(vault, key_id, exchange.ops(), services=SERVICES.get, hook=kw.pop("hook", None),
                            sleep=clock.sleep, clock=clock, **kw)  # type: ignore[arg-type]
        m.load()
        return m

    return make
