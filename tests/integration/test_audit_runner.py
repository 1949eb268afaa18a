"""inspect_many against the simulator with its rate limits enforced: pacing, isolation, cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from keyhygiene.core.models import Status
from keyhygiene.exchanges.audit_runner import Pacer, critical_path_seconds, inspect_many
from keyhygiene.exchanges.limits import RateLimit
from keyhygiene.sim import Simulator, run_simulator_in_thread
from tests.helpers.simkeys import creds_of, make_key


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_pacer_never_exceeds_the_window() -> None:
    async def go() -> list[float]:
        p = Pacer(RateLimit(3, 0.2))
        starts = []
        for _ in range(9):
            await p.acquire()
            starts.append(time.monotonic())
        return starts

    starts = run(go())
    for i in range(3, len(starts)):
        assert starts[i] - starts[i - 3] >= 0.2
    # Bursts are allowed: the first three go out together.
    assert starts[2] - starts[0] < 0.05


def test_paced_audit_gets_no_429_and_finishes_every_key() -> None:
    limits = {"binance": RateLimit(4, 1.0), "bybit": RateLimit(2, 1.0)}
    # The simulator on its own thread and loop, as a real exchange would be: its clock is not our event loop's.
    with run_simulator_in_thread(latency=0.02, exchanges=("binance", "bybit"), rate_limits=limits) as sim:
        keys = [sim.add_key(make_key(ex)) for ex in ["binance"] * 10 + ["bybit"] * 5]
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]
        res = run(inspect_many(items, endpoints=sim.endpoints, rate_limits=limits))
        counts = (sim.request_count("binance"), sim.request_count("bybit"))
    assert len(res) == 15
    assert all(p.status is Status.OK for p in res.values()), {k: p.message for k, p in res.items()}
    # Each key made exactly one request: the pacer kept every exchange inside its window.
    assert counts == (10, 5)


def test_a_hanging_exchange_does_not_hold_up_the_others() -> None:
    async def go() -> tuple[dict, dict]:
        sim = Simulator(exchanges=("binance", "bybit"), enforce_rate_limits=False)
        await sim.start()
        done_at: dict[str, float] = {}
        t0 = time.monotonic()
        try:
            b = sim.add_key(make_key("binance"))
            y = sim.add_key(make_key("bybit"))
            sim.inject_fault("bybit", "hang")
            from keyhygiene.exchanges import client as insp

            orig = insp.KEY_DEADLINE_S
            insp.KEY_DEADLINE_S = 2.0
            try:
                res = await inspect_many(
                    [("b", "binance", creds_of(b)), ("y", "bybit", creds_of(y))], endpoints=sim.endpoints,
                    on_result=lambda k, p: done_at.__setitem__(k, time.monotonic() - t0),
                )
            finally:
                insp.KEY_DEADLINE_S = orig
        finally:
            await sim.stop()
        return res, done_at

    res, done_at = run(go())
    assert res["b"].status is Status.OK
    assert res["y"].status is Status.UNREACHABLE
    assert done_at["b"] < done_at["y"]


def test_cancel_stops_remaining_keys() -> None:
    async def go() -> dict:
        limits = {"binance": RateLimit(1, 0.3)}
        sim = Simulator(exchanges=("binance",), rate_limits=limits)
        await sim.start()
        cancel = asyncio.Event()
        try:
            keys = [sim.add_key(make_key("binance")) for _ in range(6)]

            def on_result(key_id: str, _p: object) -> None:
                cancel.set()

            res = await inspect_many([(f"k{i}", "binance", creds_of(k)) for i, k in enumerate(keys)],
                                     endpoints=sim.endpoints, rate_limits=limits, cancel=cancel,
                                     on_result=on_result)
        finally:
            await sim.stop()
        return res

    res = run(go())
    assert 1 <= len(res) < 6


def test_critical_path_formula() -> None:
    limits = {"a": RateLimit(10, 1.0), "b": RateLimit(1, 1.0)}
    assert critical_path_seconds({"a": 10, "b": 3}, 0.2, limits) == 2.2
    assert critical_path_seconds({"a": 21}, 0.2, limits) == 2.2
    assert critical_path_seconds({}, 0.2, limits) == 0.0
    # Two requests per key (HTX looks up the uid first): twice the requests; the first requests of every key go out
    # in the first window, the second ones in the next, so the last request still needs only one round trip …
    assert critical_path_seconds({"a": 10}, 0.2, limits, {"a": 2}) == 1.2
    # … but a key never finishes before its own m round trips.
    assert critical_path_seconds({"a": 2}, 0.2, limits, {"a": 3}) == pytest.approx(0.6)


def test_per_endpoint_budgets_count_each_endpoint_separately() -> None:
    from keyhygiene.exchanges.limits import budget_for

    assert budget_for("bingx").per_endpoint and not budget_for("binance").per_endpoint
    lim = budget_for("bingx").per_ip
    # 16 BingX keys, 3 requests each: the first endpoint's window bounds when the last key can start (not 48
    # requests in one window), and that key still has its three round trips ahead.
    n = 16
    assert critical_path_seconds({"bingx": n}, 0.2, requests_per_key={"bingx": 3}) == pytest.approx(
        ((n - 1) // lim.requests) * lim.per_seconds + 3 * 0.2)


def test_per_endpoint_pacing_against_the_simulator_gets_no_429() -> None:
    """BingX keys make three requests to three endpoints; each endpoint has its own window in both the pacer
    and the simulator, so twelve keys at 4 per second per endpoint finish with no request refused."""
    limits = {"bingx": RateLimit(4, 1.0)}
    with run_simulator_in_thread(latency=0.02, exchanges=("bingx",), rate_limits=limits) as sim:
        keys = [sim.add_key(make_key("bingx")) for _ in range(12)]
        res = run(inspect_many([(f"k{i}", "bingx", creds_of(k)) for i, k in enumerate(keys)],
                               endpoints=sim.endpoints, rate_limits=limits))
        per_key = sim.request_count("bingx") / len(keys)
    assert all(p.status is Status.OK for p in res.values()), {k: p.message for k, p in res.items()}
    assert per_key == 3.0  # no 429 retries


def test_the_keys_that_bound_the_audit_start_first() -> None:
    """Keys created together start by urgency (audit_runner.StartGate, start_ranks), not in the order given: the
    exchange whose keys make three requests in turn (BingX) before one-request exchanges, whatever the list says.
    Started in the given order, every first-window key's client was built in one turn of the loop and the
    critical exchange's first requests waited behind them all (tests/benchmarks, audit_critical_path)."""
    import keyhygiene.exchanges.inspect as inspect_mod

    started: list[str] = []
    real = inspect_mod.inspect_key

    async def recording(exchange, creds, **kw):  # type: ignore[no-untyped-def]
        started.append(exchange)
        return await real(exchange, creds, **kw)

    with run_simulator_in_thread(latency=0.0, exchanges=("binance", "bingx"), enforce_rate_limits=False) as sim, \
            pytest.MonkeyPatch.context() as mp:
        mp.setattr(inspect_mod, "inspect_key", recording)
        keys = [sim.add_key(make_key(ex)) for _ in range(6) for ex in ("binance", "bingx")]  # interleaved
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]
        res = run(inspect_many(items, endpoints=sim.endpoints))
    assert all(p.status is Status.OK for p in res.values()), {k: p.message for k, p in res.items()}
    assert started == ["bingx"] * 6 + ["binance"] * 6


def test_a_started_key_frees_its_place_once_its_request_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A place among the keys being started is held until the key's first request is on the wire, not until its
    answer: one gate place and an exchange that never answers still let the next key through."""
    import keyhygiene.exchanges.audit_runner as runner

    monkeypatch.setattr(runner, "START_WIDTH", 1)
    with run_simulator_in_thread(latency=0.0, exchanges=("binance", "bybit"), enforce_rate_limits=False) as sim:
        sim.inject_fault("bybit", "hang")
        hung, fine = sim.add_key(make_key("bybit")), sim.add_key(make_key("binance"))

        async def go() -> dict:
            cancel = asyncio.Event()

            def on_result(key_id: str, _profile: object) -> None:
                if key_id == "fine":
                    cancel.set()  # the hung key is still waiting for its answer: stop it here

            return await inspect_many([("hung", "bybit", creds_of(hung)), ("fine", "binance", creds_of(fine))],
                                      endpoints=sim.endpoints, on_result=on_result, cancel=cancel)

        res = run(go())
    assert set(res) == {"fine"} and res["fine"].status is Status.OK, res


def test_full_collections_leave_the_long_lived_objects_alone_during_an_audit() -> None:
    """While an audit runs, what existed at its start is out of the collector's sight (gc.freeze: a full collection
    of a process with ccxt loaded walks a million objects, ~0.1 s without a request going out); afterwards it is
    handed back. A process that switched automatic collection off (the window: ui/gc_guard.py) is left alone."""
    import gc

    seen: list[int] = []
    with run_simulator_in_thread(latency=0.0, exchanges=("binance",), enforce_rate_limits=False) as sim:
        key = sim.add_key(make_key("binance"))

        def audit() -> None:
            run(inspect_many([("k", "binance", creds_of(key))], endpoints=sim.endpoints,
                             on_result=lambda _k, _p: seen.append(gc.get_freeze_count())))

        assert gc.isenabled() and gc.get_freeze_count() == 0
        audit()
        assert seen[-1] > 0 and gc.get_freeze_count() == 0
        gc.disable()
        try:
            audit()
        finally:
            gc.enable()
        assert seen[-1] == 0 and gc.get_freeze_count() == 0
