"""service.runtime: the one asyncio loop thread and the worker pool, without Qt."""

from __future__ import annotations

import asyncio
import threading

import pytest

from keyhygiene.service.runtime import LoopStopped, Runtime


@pytest.fixture
def runtime() -> Runtime:
    rt = Runtime(max_workers=2)
    yield rt
    rt.close()


def test_coroutines_run_on_one_background_loop(runtime: Runtime) -> None:
    async def where() -> tuple[int, int]:
        return threading.get_ident(), id(asyncio.get_running_loop())

    first, second = runtime.run(where()), runtime.submit(where()).result(5)
    assert first == second  # the same thread and the same loop, every time
    assert first[0] != threading.get_ident()
    assert runtime.running and runtime.pending() == 0


def test_errors_come_back_through_the_future(runtime: Runtime) -> None:
    async def boom() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        runtime.run(boom())


def test_call_soon_reaches_the_loop(runtime: Runtime) -> None:
    async def wait_for_it() -> str:
        gate = asyncio.Event()
        runtime.call_soon(gate.set)
        await asyncio.wait_for(gate.wait(), 5)
        return "set"

    assert runtime.run(wait_for_it()) == "set"


def test_stopping_cancels_what_runs_and_refuses_new_work(runtime: Runtime) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    fut = runtime.submit(forever())
    assert started.wait(5)
    runtime.stop_loop()
    assert cancelled.wait(5) and fut.cancelled()
    coro = forever()
    with pytest.raises(LoopStopped):
        runtime.submit(coro)
    assert coro.cr_frame is None  # closed, not left to warn "never awaited"


def test_blocking_calls_run_on_the_pool(runtime: Runtime) -> None:
    assert runtime.run_blocking(threading.get_ident).result(5) != threading.get_ident()
    runtime.shutdown_pool()
    with pytest.raises(LoopStopped):
        runtime.run_blocking(threading.get_ident)


def test_nothing_starts_until_used() -> None:
    rt = Runtime()
    assert not rt.running and rt._loop_ is None and rt._pool_ is None
    rt.close()


def test_submit_never_waits_for_the_loop_to_start() -> None:
    """The window's GUI thread submits the first coroutine: making the loop (importing asyncio, ~30 ms) happens on
    the loop's own thread, and the submitted coroutine runs once it is there."""
    gate = threading.Event()

    class SlowStart(Runtime):
        def _run(self) -> None:
            gate.wait(10)  # a loop thread that takes its time to get going
            super()._run()

    async def answer() -> int:
        return 42

    rt = SlowStart()
    try:
        import time

        t0 = time.monotonic()
        fut = rt.submit(answer())
        assert time.monotonic() - t0 < 1.0 and not fut.done()
        early_cancelled = rt.submit(answer())
        early_cancelled.cancel()
        gate.set()
        assert fut.result(5) == 42
        assert early_cancelled.cancelled()
        assert rt.run(answer(), timeout=5) == 42  # and straight to the running loop from then on
    finally:
        gate.set()
        rt.close()
