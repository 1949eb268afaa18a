"""The process's background machinery, without Qt (Electrum's ``util.py`` pattern, DESIGN.md "one async boundary").

- One asyncio loop on one background thread. Every ccxt client is created, used and closed on it. ``submit`` hands
  it a coroutine from any thread and returns a ``concurrent.futures.Future``; ``run`` waits for the result (the
  command line).
- One thread pool for blocking calls: keychain calls (they may wait on an unlock prompt) and SQLite work that can
  take longer than a frame.
- One exchange executor (``exchanges``, ``service/exchange_executor.py``): where ccxt runs. On the loop itself by
  default (the command line); in one child process once ``use_exchange_process`` was called (the window: ccxt on a
  thread of the GUI's process would hold the GIL its paints need).

The window turns these futures into Qt signals (``ui/async_runner.py``, ``ui/task_pool.py``); the command line
simply waits on them. Nothing here imports asyncio before it is needed: the window's first frame needs no loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # both load on first use: the window's first frame needs neither
    import asyncio
    import concurrent.futures

    from keyhygiene.service.exchange_executor import ExchangeExecutor

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 4  # keychain and SQLite calls: a slow unlock prompt must not starve the others


class LoopStopped(RuntimeError):
    """Work was submitted after the background loop was stopped (the app is closing)."""


class Runtime:
    """One asyncio loop thread and one worker pool for a whole process. Created once (``service.App``)."""

    def __init__(self, max_workers: int = DEFAULT_WORKERS) -> None:
        # Made on first use, on the loop's own thread: importing asyncio costs ~30 ms of the GIL, and neither the
        # window's first frame nor the GUI thread that submits the first coroutine should pay it.
        self._loop_: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="keyhygiene-asyncio", daemon=True)
        self._thread_started = False
        self._started = threading.Event()
        self._start_lock = threading.Lock()
        # Coroutines submitted before the loop exists; None once the loop thread took them over.
        self._early: list[tuple[Coroutine[Any, Any, Any], concurrent.futures.Future[Any]]] | None = []
        self._stopped = False
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._max_workers = max_workers
        self._pool_: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._pool_closed = False
        self._exchanges: ExchangeExecutor | None = None
        self._exchange_process = False

    # ---- the loop --------------------------------------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop_ is None:
                import asyncio

                self._loop_ = asyncio.new_event_loop()
            return self._loop_

    def _start_thread(self) -> bool:
        """Start the loop's thread if it is not running yet, without waiting for it. False once stopped."""
        with self._start_lock:
            if self._stopped:
                return False
            if not self._thread_started:
                self._thread_started = True
                self._thread.start()
            return True

    def start(self) -> None:
        """Start the loop and wait until it runs."""
        if self._start_thread():
            self._started.wait(5)

    def _run(self) -> None:
        import asyncio

        loop = self.loop
        asyncio.set_event_loop(loop)
        with self._start_lock:
            early, self._early = self._early or [], None
        for coro, fut in early:
            self._adopt(loop, coro, fut)
        loop.call_soon(self._started.set)
        try:
            loop.run_forever()
        finally:
            self._finish_loop(loop)

    @staticmethod
    def _adopt(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any],
               fut: concurrent.futures.Future[Any]) -> None:
        """Run a coroutine submitted before the loop existed; its caller holds ``fut``, settled like the task."""
        import asyncio
        import concurrent.futures

        if fut.cancelled():
            coro.close()
            return
        real = asyncio.run_coroutine_threadsafe(coro, loop)

        def settle(r: concurrent.futures.Future[Any]) -> None:
            try:
                if r.cancelled():
                    fut.cancel()
                elif r.exception() is not None:
                    fut.set_exception(r.exception())
                else:
                    fut.set_result(r.result())
            except concurrent.futures.InvalidStateError:  # the caller cancelled it meanwhile
                pass

        real.add_done_callback(settle)
        fut.add_done_callback(lambda f: real.cancel() if f.cancelled() else None)

    @staticmethod
    def _finish_loop(loop: asyncio.AbstractEventLoop) -> None:
        import asyncio

        try:
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in tasks:
                t.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        except Exception:  # never let shutdown noise hide the real exit status
            log.exception("error while stopping the asyncio loop")
        finally:
            loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    @property
    def stopped(self) -> bool:
        return self._stopped

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop, from any thread but the loop's own. Never waits for the loop to start:
        a coroutine submitted before it runs starts as soon as it does."""
        if self._stopped or not self._start_thread():
            coro.close()
            raise LoopStopped("the background loop has stopped")
        with self._start_lock:
            early = self._early
            if early is not None:
                import concurrent.futures

                fut: concurrent.futures.Future[T] = concurrent.futures.Future()
                early.append((coro, fut))
        if early is None:
            import asyncio

            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)
        return fut

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """``submit`` and wait: for synchronous callers (the command line, worker threads)."""
        return self.submit(coro).result(timeout)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread (e.g. ``event.set`` of an ``asyncio.Event``)."""
        loop = self._loop_
        if not self._stopped and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def pending(self) -> int:
        return len(self._pending)

    def stop_loop(self, timeout: float = 10.0) -> None:
        """Cancel whatever still runs on the loop (ccxt clients close in their ``finally``), then end the thread."""
        with self._start_lock:
            if self._stopped:
                return
            self._stopped = True
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("asyncio thread did not stop within %.0f s", timeout)
        elif self._loop_ is not None and not self._loop_.is_closed():
            self._loop_.close()

    # ---- the worker pool ---------------------------------------------------------------------------------------
    @property
    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool_closed:
                raise LoopStopped("the worker pool is shut down")
            if self._pool_ is None:
                import concurrent.futures

                self._pool_ = concurrent.futures.ThreadPoolExecutor(self._max_workers,
                                                                    thread_name_prefix="keyhygiene-worker")
            return self._pool_

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` on a worker thread."""
        return self.pool.submit(fn, *args)

    def shutdown_pool(self, wait: bool = True) -> None:
        """Drop queued calls that have not started; with ``wait``, wait for the running ones."""
        with self._pool_lock:
            self._pool_closed = True
            pool, self._pool_ = self._pool_, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    # ---- the exchange executor -----------------------------------------------------------------------------------
    def use_exchange_process(self) -> None:
        """Run the exchange work in a child process from now on (started at the first check, not here)."""
        with self._pool_lock:
            self._exchange_process = True
            if self._exchanges is not None and not self._exchanges.in_child:
                self._exchanges = None

    @property
    def exchanges(self) -> ExchangeExecutor:
        with self._pool_lock:
            if self._exchanges is None:
                from keyhygiene.service import exchange_executor

                self._exchanges = (exchange_executor.ExchangeProcess() if self._exchange_process
                                   else exchange_executor.InProcessExchanges())
            return self._exchanges

    def close(self, timeout: float = 10.0) -> None:
        self.stop_loop(timeout)  # first: a running check asks the child to stop it, on the loop
        self.shutdown_pool()
        self.stop_exchanges()

    def stop_exchanges(self) -> None:
        """Stop the exchange process if one runs (a later check starts a new one)."""
        with self._pool_lock:
            exchanges, self._exchanges = self._exchanges, None
        if exchanges is not None:
            exchanges.close()
