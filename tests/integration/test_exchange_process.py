"""The exchange process (service/exchange_executor.py): the window's ccxt work in a child, over a private pipe.

Against the loopback simulator on a thread of this process; the child reaches it over loopback like any exchange.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.service import exchange_executor
from keyhygiene.service.exchange_executor import ExchangeProcess, InProcessExchanges, worker_env
from keyhygiene.service.runtime import Runtime
from keyhygiene.sim import run_simulator_in_thread
from tests.helpers.simkeys import creds_of, make_key

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def worker():  # type: ignore[no-untyped-def]
    ex = ExchangeProcess()
    yield ex
    ex.close()


def test_inspect_many_and_inspect_in_the_child_answer_like_in_process(worker) -> None:  # type: ignore[no-untyped-def]
    keys = [make_key(ex) for ex in ("binance", "okx", "kraken", "bybit")]
    with run_simulator_in_thread(keys=keys, latency=0.01) as sim:
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]
        seen: list[str] = []

        async def go() -> tuple[dict[str, KeyProfile], dict[str, KeyProfile], KeyProfile]:
            child = await worker.inspect_many(items, endpoints=sim.endpoints, on_result=lambda k, _p: seen.append(k))
            here = await InProcessExchanges().inspect_many(items, endpoints=sim.endpoints)
            one = await worker.inspect("okx", creds_of(keys[1]), endpoints=sim.endpoints)
            return child, here, one

        child, here, one = asyncio.run(go())
    assert sorted(seen) == sorted(child) == [f"k{i}" for i in range(4)]  # each key's result as it came
    def same(p: KeyProfile) -> dict[str, object]:
        return {**p.to_json(), "last_used_at": None}  # the second check moved "last used" on

    assert {k: same(p) for k, p in child.items()} == {k: same(p) for k, p in here.items()}
    assert all(p.status == Status.OK for p in child.values())
    assert same(one) == same(here["k1"])
    assert worker.starts == 1


def test_a_child_killed_mid_audit_fails_the_waiting_keys_and_the_next_check_restarts_it(worker) -> None:  # type: ignore[no-untyped-def]
    fast = [make_key("binance") for _ in range(2)]
    slow = [make_key("kraken") for _ in range(3)]
    with run_simulator_in_thread(keys=fast + slow, latency=0.01) as sim:
        sim.inject_fault("kraken", "hang")
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(fast + slow)]
        results: dict[str, KeyProfile] = {}

        def on_result(key_id: str, p: KeyProfile) -> None:
            results[key_id] = p
            if len(results) == len(fast):  # the fast keys answered; kill the child while kraken hangs
                assert worker.pid is not None
                os.kill(worker.pid, signal.SIGKILL)

        async def audit() -> dict[str, KeyProfile]:
            return await worker.inspect_many(items, endpoints=sim.endpoints, on_result=on_result)

        t0 = time.monotonic()
        got = asyncio.run(audit())
        assert time.monotonic() - t0 < 20  # not the 45 s per-key deadline: the crash ends the wait
        assert got == results
        assert all(got[f"k{i}"].status == Status.OK for i in range(2))
        for i in range(2, 5):
            assert got[f"k{i}"].status == Status.ERROR
            assert "stopped unexpectedly" in (got[f"k{i}"].message or "")
            assert got[f"k{i}"].exchange == "kraken" and "…" in got[f"k{i}"].key
        sim.clear_faults()
        again = asyncio.run(worker.inspect("kraken", creds_of(slow[0]), endpoints=sim.endpoints))
    assert again.status == Status.OK
    assert worker.starts == 2


def test_cancel_stops_the_childs_audit_promptly(worker) -> None:  # type: ignore[no-untyped-def]
    keys = [make_key("binance"), make_key("kraken"), make_key("kraken")]
    with run_simulator_in_thread(keys=keys, latency=0.01) as sim:
        sim.inject_fault("kraken", "hang")
        items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]

        async def go() -> tuple[dict[str, KeyProfile], float]:
            cancel = asyncio.Event()

            def on_result(_k: str, _p: KeyProfile) -> None:
                asyncio.get_running_loop().call_later(0.3, cancel.set)

            t0 = time.monotonic()
            res = await worker.inspect_many(items, endpoints=sim.endpoints, on_result=on_result, cancel=cancel)
            return res, time.monotonic() - t0

        res, took = asyncio.run(go())
        # The hanging keys are left out (not failed), as inspect_many does in-process; the child lives on.
        assert list(res) == ["k0"] and res["k0"].status == Status.OK
        assert took < 15
        pid = worker.pid
        assert pid is not None
        sim.clear_faults()
        assert asyncio.run(worker.inspect("kraken", creds_of(keys[1]), endpoints=sim.endpoints)).status == Status.OK
        assert worker.pid == pid and worker.starts == 1


def test_a_task_cancelled_on_the_loop_cancels_the_childs_work(worker) -> None:  # type: ignore[no-untyped-def]
    """The app closing cancels the audit's task on the runtime's loop: the child must drop the job too."""
    keys = [make_key("kraken")]
    with run_simulator_in_thread(keys=keys, latency=0.01) as sim:
        sim.inject_fault("kraken", "hang")

        async def go() -> None:
            task = asyncio.ensure_future(worker.inspect_many([("k0", "kraken", creds_of(keys[0]))],
                                                             endpoints=sim.endpoints))
            await asyncio.sleep(1.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(go())
        assert worker._jobs == {}
        worker.close()
        assert worker.pid is None


def test_a_hung_child_is_stopped_and_its_check_fails_clearly() -> None:
    # A child that never answers (its loop blocked, say): no heartbeat, so the parent gives up and kills it.
    ex = ExchangeProcess(command=[sys.executable, "-c", "import time; time.sleep(120)"], hang_timeout_s=1.0)
    try:
        key = make_key("binance")
        t0 = time.monotonic()
        p = asyncio.run(ex.inspect("binance", creds_of(key), endpoints={"binance": "http://127.0.0.1:9"}))
        assert time.monotonic() - t0 < 10
        assert p.status == Status.ERROR and "did not answer" in (p.message or "")
        assert ex.pid is None  # killed
    finally:
        ex.close()


def test_a_child_that_cannot_start_fails_the_check_with_the_reason() -> None:
    ex = ExchangeProcess(command=["/nonexistent/keyhygiene-worker"])
    p = asyncio.run(ex.inspect("binance", creds_of(make_key("binance"))))
    assert p.status == Status.ERROR and "could not be started" in (p.message or "")


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_no_secret_in_the_childs_argv_or_environment(worker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = make_key("binance")
    # What the command line reads a key from must not be inherited by the child either.
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", key.secret)
    monkeypatch.setenv("BAO_TOKEN", "hvs.not-for-the-child")
    assert "KEYHYGIENE_API_SECRET" not in worker_env() and "BAO_TOKEN" not in worker_env()
    with run_simulator_in_thread(keys=[key], latency=0.01) as sim:
        assert asyncio.run(worker.inspect("binance", creds_of(key), endpoints=sim.endpoints)).status == Status.OK
        pid = worker.pid
        assert pid is not None
        proc = Path(f"/proc/{pid}")
        cmdline = (proc / "cmdline").read_bytes()
        environ = (proc / "environ").read_bytes()
    for secret in (key.secret, key.api_key, "hvs.not-for-the-child"):
        assert secret.encode() not in cmdline
        assert secret.encode() not in environ
    assert b"--exchange-worker" in cmdline or exchange_executor.WORKER_MODULE.encode() in cmdline


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_the_child_is_hardened_like_the_parent(worker) -> None:  # type: ignore[no-untyped-def]
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        pytest.skip("this process may not dump core at all: the child would inherit that")
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # what the child inherits; it must lower it itself
    try:
        worker.warm()
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    pid = worker.pid
    assert pid is not None
    deadline = time.monotonic() + 10
    limits = ""
    while time.monotonic() < deadline:  # harden_process is the child's first act; give it that moment
        limits = Path(f"/proc/{pid}/limits").read_text()
        core = next(ln for ln in limits.splitlines() if ln.startswith("Max core file size"))
        if core.split()[4:6] == ["0", "0"]:
            break
        time.sleep(0.05)
    assert core.split()[4:6] == ["0", "0"], core


def test_the_runtime_runs_exchanges_in_process_unless_told_otherwise() -> None:
    rt = Runtime()
    try:
        assert isinstance(rt.exchanges, InProcessExchanges)  # the command line: one process, no spawn
        rt.use_exchange_process()
        assert isinstance(rt.exchanges, ExchangeProcess)  # the window
        assert rt.exchanges.pid is None  # started at the first check, not when chosen
    finally:
        rt.close()


def test_the_rotations_exchange_calls_run_in_the_child(worker) -> None:  # type: ignore[no-untyped-def]
    """The wizard's key test and revoke (service.rotation_session.exchange_ops) through the window's executor."""
    from keyhygiene.service.rotation_session import exchange_ops

    key = make_key("bybit", permissions={"read", "spot_trade", "transfer"})
    with run_simulator_in_thread(keys=[key], latency=0.01) as sim:
        ops = exchange_ops(sim.endpoints, executor=worker)

        async def go() -> tuple[KeyProfile, object, KeyProfile]:
            before = await ops.inspect("bybit", creds_of(key), None)
            revoked = await ops.revoke("bybit", creds_of(key))
            after = await ops.inspect("bybit", creds_of(key), None)
            return before, revoked, after

        before, revoked, after = asyncio.run(go())
    assert before.status == Status.OK and "transfer" in before.permissions
    assert revoked.supported and revoked.ok, revoked.message  # type: ignore[attr-defined]
    assert key.revoked and after.status == Status.INVALID_KEY
    assert worker.starts == 1 and worker.pid is not None


def test_a_revoke_whose_child_dies_is_not_confirmed() -> None:
    ex = ExchangeProcess(command=[sys.executable, "-c", "import sys; sys.stdin.read(1)"])
    try:
        res = asyncio.run(ex.revoke("bybit", creds_of(make_key("bybit"))))
    finally:
        ex.close()
    assert res.supported and not res.ok and "stopped unexpectedly" in res.message


def test_only_the_in_process_executor_takes_credential_sources() -> None:
    """The team vault's secrets stream into the checks (service/audit.py) where the checks run in this process; a
    coroutine cannot cross the pipe, so the exchange process gets credentials read up front."""
    assert getattr(InProcessExchanges().inspect_many, "accepts_credential_sources", False)
    assert not getattr(ExchangeProcess().inspect_many, "accepts_credential_sources", False)


# The child, started as ExchangeProcess starts it, that also writes down at exit which ccxt modules it imported.
_LEAN_CHILD = """
import atexit, json, sys
def report():
    ccxt = sys.modules.get("ccxt")
    names = set(getattr(ccxt, "exchanges", ()))
    loaded = sorted({m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("ccxt.")} & names)
    with open(sys.argv[1], "w") as f:
        json.dump({"shell": type(ccxt).__name__, "loaded": loaded, "all": sorted(names),
                   "detector": sorted(m for m in ("charset_normalizer", "chardet") if sys.modules.get(m))}, f)
atexit.register(report)
from keyhygiene.service.exchange_worker import main
sys.exit(main())
"""


def test_the_child_checks_every_exchange_but_imports_only_those_it_is_asked_for(tmp_path: Path) -> None:
    import json

    from keyhygiene.core.exchange_facts import SUPPORTED
    from keyhygiene.core.models import Credentials

    report = tmp_path / "child.json"
    worker = ExchangeProcess(command=[sys.executable, "-c", _LEAN_CHILD, str(report)])
    keys = [make_key(ex) for ex in sorted(SUPPORTED)]
    other = Credentials(api_key="k" * 24, secret="s" * 32)
    try:
        with run_simulator_in_thread(keys=keys, latency=0.01) as sim:
            items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]
            # Another ccxt exchange, pointed at the simulator: its class loads and it sends its one read request
            endpoints = {**sim.endpoints, "bitstamp": sim.endpoints["binance"]}

            async def go() -> tuple[dict[str, KeyProfile], dict[str, KeyProfile], list[KeyProfile], list[KeyProfile]]:
                child = await worker.inspect_many(items, endpoints=sim.endpoints)
                here = await InProcessExchanges().inspect_many(items, endpoints=sim.endpoints)
                ours = [await ex.inspect(name, other, endpoints=endpoints)
                        for ex in (worker, InProcessExchanges()) for name in ("bitstamp", "nosuchexchange")]
                return child, here, ours[:2], ours[2:]

            child, here, others_child, others_here = asyncio.run(go())
    finally:
        worker.close()

    def same(p: KeyProfile) -> dict[str, object]:
        # the second check moved "last used" on; HTX tells a key's age, which the simulator counts from now
        return {**p.to_json(), "last_used_at": None, "created_at": None}

    assert {child[k].exchange for k in child} == set(SUPPORTED)
    assert all(p.status == Status.OK for p in child.values()), {p.exchange: p.message for p in child.values()}
    for k, p in child.items():
        a, b = same(p), same(here[k])
        assert a == b, {f: (a.get(f), b.get(f)) for f in a.keys() | b.keys() if a.get(f) != b.get(f)}
    assert [same(p) for p in others_child] == [same(p) for p in others_here]
    assert others_child[0].status == Status.ERROR and "not valid JSON" in (others_child[0].message or "")
    assert others_child[1].status == Status.UNSUPPORTED
    seen = json.loads(report.read_text())
    assert seen["shell"] == "_PackageShell"
    assert set(seen["loaded"]) == set(SUPPORTED) | {"bitstamp"}
    assert "hyperliquid" in seen["all"] and len(seen["all"]) > 100
    assert seen["detector"] == []  # exchange_worker.skip_unused_imports: requests' detector never loads there


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_an_idle_child_is_stopped_and_the_next_check_starts_another() -> None:
    """The window lives in the tray for days: an exchange process with nothing to do (~70 MB) is stopped after
    ``idle_stop_s``, and the next check starts a new one."""
    key = make_key("binance")
    ex = ExchangeProcess(idle_stop_s=0.5)
    try:
        with run_simulator_in_thread(keys=[key], latency=0.01) as sim:
            first = asyncio.run(ex.inspect("binance", creds_of(key), endpoints=sim.endpoints))
            pid = ex.pid
            assert first.status == Status.OK and pid is not None
            assert _gone(pid), "the idle child still runs"
            assert ex.pid is None and ex.idle_stops == 1
            again = asyncio.run(ex.inspect("binance", creds_of(key), endpoints=sim.endpoints))
            assert again.status == Status.OK and ex.starts == 2 and ex.pid not in (None, pid)
    finally:
        ex.close()
    assert ex.idle_stops == 1  # close is not counted as idle


def test_a_check_longer_than_the_idle_time_is_not_stopped() -> None:
    """The idle clock runs only while no job does: an audit that takes longer than ``idle_stop_s`` finishes."""
    keys = [make_key("kraken") for _ in range(6)]
    ex = ExchangeProcess(idle_stop_s=0.2)
    try:
        with run_simulator_in_thread(keys=keys, latency=0.15) as sim:
            items = [(f"k{i}", k.exchange, creds_of(k)) for i, k in enumerate(keys)]
            t0 = time.monotonic()
            out = asyncio.run(ex.inspect_many(items, endpoints=sim.endpoints))
            took = time.monotonic() - t0
        assert took > 0.4, took  # else this test proves nothing: make the audit longer
        assert sorted(out) == [f"k{i}" for i in range(6)] and all(p.status == Status.OK for p in out.values())
        assert ex.idle_stops == 0 and ex.starts == 1
    finally:
        ex.close()


def test_the_runtime_stops_its_exchange_process_and_starts_another_on_demand() -> None:
    key = make_key("binance")
    rt = Runtime()
    try:
        rt.use_exchange_process()
        with run_simulator_in_thread(keys=[key], latency=0.01) as sim:
            first = rt.exchanges
            assert asyncio.run(first.inspect("binance", creds_of(key), endpoints=sim.endpoints)).status == Status.OK
            pid = first.pid
            assert pid is not None
            rt.stop_exchanges()
            assert _gone(pid) and first.pid is None
            second = rt.exchanges
            assert second is not first and isinstance(second, ExchangeProcess)
            assert asyncio.run(second.inspect("binance", creds_of(key), endpoints=sim.endpoints)).status == Status.OK
    finally:
        rt.close()
