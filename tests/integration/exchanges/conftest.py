"""An in-process simulator per test module, and helpers to inspect through real ccxt against it."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator

import pytest

from keyhygiene.core.models import KeyProfile
from keyhygiene.exchanges.catalog import SUPPORTED
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.sim import Simulator, SimulatorThread
from tests.helpers.simkeys import creds_of


def simulated_exchanges() -> list[str]:
    """Exchanges that have both an adapter and a simulator module (all twelve once the layer is complete)."""
    return [
        ex for ex in SUPPORTED
        if importlib.util.find_spec(f"keyhygiene.sim.exchanges.{ex}") is not None
        and importlib.util.find_spec(f"keyhygiene.exchanges.{ex}") is not None
    ]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False))
    s = runner.start()
    try:
        yield s
    finally:
        runner.stop()


@pytest.fixture(autouse=True)
def _clean_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        s = request.getfixturevalue("sim")
        s.clear_faults()
        s.client_ip = "203.0.113.10"


def inspect_sync(sim: Simulator, key, **kw) -> KeyProfile:  # type: ignore[no-untyped-def]
    creds = kw.pop("creds", None) or creds_of(key)
    return asyncio.run(inspect_key(key.exchange, creds, endpoints=sim.endpoints, **kw))


def inspect_in_setup(sim: Simulator, exchange: str, setup: str, **key_kw):  # type: ignore[no-untyped-def]
    """Inspect a fresh key in a named failure scenario and return ``(key, profile)``.

    Scenarios: ``unknown`` (never given to the exchange), ``wrong_secret`` (signed with another key's secret),
    ``rate_limited`` (every request answered 429), ``clock_skew``; any other name just uses ``key_kw`` (an IP
    whitelist, an expiry, missing permissions). Whatever the outcome, the message must hold no key material.
    """
    import dataclasses

    from tests.helpers.simkeys import make_key

    key = make_key(exchange, **key_kw)
    creds = creds_of(key)
    if setup != "unknown":
        sim.add_key(key)
    if setup == "wrong_secret":
        creds = dataclasses.replace(creds, secret=make_key(exchange).secret)
    if setup == "rate_limited":
        sim.inject_fault(exchange, "http_429", count=None)
    if setup == "clock_skew":
        sim.inject_fault(exchange, "clock_skew")
    profile = inspect_sync(sim, key, creds=creds)
    assert profile.message and key.secret not in profile.message and key.api_key not in profile.message
    return key, profile


def inspect_forced(sim: Simulator, monkeypatch, exchange: str, kind: str):  # type: ignore[no-untyped-def]
    """Inspect a valid key while the simulator answers with the exchange's documented error ``kind``; the message
    must hold no key material (every line of a PEM secret, the passphrase)."""
    from tests.helpers.sim_force import force_reject
    from tests.helpers.simkeys import make_key

    key = sim.add_key(make_key(exchange))
    force_reject(monkeypatch, sim, exchange, kind)
    profile = inspect_sync(sim, key)
    material = [line for line in key.secret.splitlines() if len(line) > 8 and not line.startswith("-----")]
    material += [key.api_key, *([key.passphrase] if key.passphrase else [])]
    assert profile.message and not any(m in profile.message for m in material)
    return key, profile
