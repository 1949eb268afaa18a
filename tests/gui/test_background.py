"""The two places background work runs: one asyncio loop thread, one thread pool; results on the GUI thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from PySide6.QtCore import QObject

from keyhygiene.ui.async_runner import AsyncRunner
from keyhygiene.ui.task_pool import TaskPool
from tests.helpers.gui import WAIT_MS


@pytest.fixture
def runner(qapp):  # type: ignore[no-untyped-def]
    r = AsyncRunner()
    yield r
    r.stop()


@pytest.fixture
def pool(qapp):  # type: ignore[no-untyped-def]
    p = TaskPool()
    yield p
    p.shutdown()


def test_coroutines_run_on_one_loop_thread_and_report_on_the_gui_thread(runner, qtbot) -> None:  # type: ignore[no-untyped-def]
    gui = threading.get_ident()
    seen: list[tuple[str, int]] = []

    async def where() -> int:
        await asyncio.sleep(0)
        return threading.get_ident()

    results: list[int] = []
    for _ in range(3):
        runner.submit(where(), on_done=lambda t: (results.append(t), seen.append(("done", threading.get_ident()))))
    qtbot.waitUntil(lambda: len(results) == 3, timeout=WAIT_MS)
    assert len(set(results)) == 1 and results[0] != gui
    assert all(t == gui for _, t in seen)


def test_errors_come_back_and_deleted_receivers_are_skipped(runner, qtbot) -> None:  # type: ignore[no-untyped-def]
    async def boom() -> None:
        raise ValueError("nope")

    errors: list[BaseException] = []
    runner.submit(boom(), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert isinstance(errors[0], ValueError)

    ctx = QObject()
    called: list[int] = []
    gate = asyncio.Event()

    async def later() -> int:
        await gate.wait()
        return 1

    runner.submit(later(), on_done=called.append, context=ctx)
    ctx.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(ctx), timeout=WAIT_MS)
    runner.call_soon(gate.set)
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=WAIT_MS)
    qtbot.wait(50)
    assert called == []


def test_stop_cancels_what_still_runs(qapp) -> None:  # type: ignore[no-untyped-def]
    r = AsyncRunner()
    cancelled = threading.Event()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    r.submit(forever())
    assert started.wait(10)
    r.stop()
    assert cancelled.is_set() and not r.running
    with pytest.raises(RuntimeError):
        coro = forever()
        r.submit(coro)


def test_pool_runs_blocking_calls_off_the_gui_thread(pool, qtbot) -> None:  # type: ignore[no-untyped-def]
    gui = threading.get_ident()
    got: list[int] = []
    errs: list[BaseException] = []
    pool.submit(threading.get_ident, on_done=got.append)
    pool.submit(lambda: 1 / 0, on_error=errs.append)
    qtbot.waitUntil(lambda: bool(got) and bool(errs), timeout=WAIT_MS)
    assert got[0] != gui
    assert isinstance(errs[0], ZeroDivisionError)
    with qtbot.waitSignal(pool.idle, timeout=WAIT_MS):
        pool.submit(lambda: None)
    assert pool.active() == 0


def test_an_already_finished_coroutine_reports_after_submit_returns(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    """A coroutine can be done before ``submit`` registers for its outcome (a fast fake exchange): the callback
    still comes on a later turn of the event loop, never inside ``submit``. It used to run inside it, re-entering
    the caller (the rotation wizard then tested one new key twice)."""
    import concurrent.futures

    from keyhygiene.service.runtime import Runtime

    class Finished(Runtime):
        def submit(self, coro):  # type: ignore[no-untyped-def, override]
            coro.close()
            f: concurrent.futures.Future[int] = concurrent.futures.Future()
            f.set_result(42)
            return f

    async def nothing() -> int:
        return 42

    r = AsyncRunner(runtime=Finished())
    got: list[int] = []
    r.submit(nothing(), on_done=got.append)
    assert got == []  # not yet: the caller finishes first
    qtbot.waitUntil(lambda: got == [42], timeout=WAIT_MS)
