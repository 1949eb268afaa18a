"""Qt side of the service layer's worker pool (``service.runtime.Runtime``, Picard's ``run_task`` shape): blocking
work off the GUI thread - keychain calls, which may wait on an unlock prompt, and anything else that can take longer
than a frame (loading the registry, writing many rows).

Results come back on the GUI thread through a queued signal, never by touching widgets from the worker.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from keyhygiene.service.runtime import Runtime
from keyhygiene.ui.callbacks import deliver

if TYPE_CHECKING:
    import concurrent.futures

log = logging.getLogger(__name__)


class _QtJob(QRunnable):
    """A job that paints with Qt (the PDF report): it runs on one of Qt's own threads, which have the event
    dispatcher Qt's painting machinery expects; a plain Python worker thread has none. Holds only a ticket."""

    def __init__(self, pool: TaskPool, ticket: int) -> None:
        super().__init__()
        self._pool, self._ticket = pool, ticket

    def run(self) -> None:
        self._pool._run(self._ticket)
        self._pool._job_ended(self._ticket, None)


class TaskPool(QObject):
    # A job's ticket: emitted on a worker, delivered on the GUI thread, which then picks up the result.
    _finished = Signal(int)
    _idle_now = Signal()
    idle = Signal()

    def __init__(self, max_threads: int = 4, parent: QObject | None = None, *, runtime: Runtime | None = None) -> None:
        super().__init__(parent)
        # The runtime's pool when the app shares one; our own otherwise (tests), so shutting down waits for our jobs.
        self._own_runtime = runtime is None
        self.runtime = runtime if runtime is not None else Runtime(max_threads)
        self._lock = threading.Lock()
        self._running = 0
        self._closed = False
        self._tickets = itertools.count(1)
        # Callbacks (which often hold a dialog) live here, on the GUI thread, so the last reference to a widget
        # is never dropped on a worker thread: Qt objects must be destroyed on the thread that owns them.
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, Callable[[BaseException], None] | None,
                                         QObject | None]] = {}
        # What a job runs and what it returned, kept here so that the last reference to either (often a dialog,
        # through a bound method or a traceback) is dropped on the GUI thread, where Qt objects must die.
        self._work: dict[int, Callable[[], Any]] = {}
        self._results: dict[int, tuple[bool, Any]] = {}
        self._futures: dict[int, concurrent.futures.Future[None]] = {}
        # Writes the user asked for (``keep=True``): shutting down waits for them even when they have not started.
        self._keep: set[int] = set()
        self._qt_pool: QThreadPool | None = None  # made for the first job that needs Qt on its thread
        # Queued always: results reach callbacks on a later turn of the GUI event loop, never inside ``submit``.
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._idle_now.connect(self.idle)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
        paints: bool = False,
        keep: bool = False,
    ) -> None:
        """Run ``fn(*args)`` on a worker; ``on_done(result)`` / ``on_error(exc)`` on the GUI thread. ``paints``:
        the work draws with Qt (QPainter on a QPdfWriter), so it runs on a Qt thread instead of the service's pool.
        ``keep``: a write the user asked for; ``shutdown`` runs it even if it has not started yet (no lost save)."""
        if self._closed:
            raise RuntimeError("the task pool is shut down")
        ticket = next(self._tickets)
        self._callbacks[ticket] = (on_done, on_error, context)
        self._work[ticket] = functools.partial(fn, *args)
        with self._lock:
            self._running += 1
            if keep:
                self._keep.add(ticket)
        # The worker gets only the ticket (see _run).
        if paints:
            if self._qt_pool is None:
                self._qt_pool = QThreadPool(self)
                self._qt_pool.setMaxThreadCount(1)
            self._qt_pool.start(_QtJob(self, ticket))
            return
        fut = self.runtime.run_blocking(self._run, ticket)
        with self._lock:
            if not fut.done():
                self._futures[ticket] = fut
        fut.add_done_callback(functools.partial(self._job_ended, ticket))

    def _run(self, ticket: int) -> None:
        fn = self._work.get(ticket)
        try:
            result: tuple[bool, Any] = (True, fn() if fn is not None else None)
        except BaseException as exc:  # a worker must never take the process down
            result = (False, exc)
        # Hand everything over before signalling: the worker must not hold the last reference to anything
        # (the work may be a dialog's bound method, an exception's traceback may hold the dialog).
        del fn
        self._results[ticket] = result
        del result
        self._finished.emit(ticket)

    def active(self) -> int:
        with self._lock:
            return self._running

    def _job_ended(self, ticket: int, _f: concurrent.futures.Future[None] | None) -> None:
        with self._lock:
            self._futures.pop(ticket, None)
            self._keep.discard(ticket)
            self._running -= 1
            now_idle = self._running == 0
        if now_idle:
            self._idle_now.emit()

    @Slot(int)
    def _on_finished(self, ticket: int) -> None:
        self._work.pop(ticket, None)
        ok, value = self._results.pop(ticket, (False, RuntimeError("lost result")))
        on_done, on_error, context = self._callbacks.pop(ticket, (None, None, None))
        if ok:
            if on_done is not None:
                self._call(context, on_done, value)
        elif on_error is not None:
            self._call(context, on_error, value)
        else:
            log.error("background job failed", exc_info=value)

    @staticmethod
    def _call(context: QObject | None, fn: Callable[[Any], None], value: Any) -> None:
        try:
            deliver(context, fn, value)
        except Exception:
            # Logged for the user's log file, re-raised so Qt (and pytest-qt in tests) report it too.
            log.exception("GUI callback of a background job failed")
            raise

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Wait for running jobs and for kept writes; other queued ones that have not started are dropped."""
        self._closed = True
        with self._lock:
            futures = list(self._futures.values())
            dropped = [f for t, f in self._futures.items() if t not in self._keep]
        for f in dropped:
            f.cancel()  # only those not started yet
        import concurrent.futures

        _done, not_done = concurrent.futures.wait(futures, timeout=timeout_ms / 1000)
        if self._qt_pool is not None:
            self._qt_pool.clear()
            if not self._qt_pool.waitForDone(timeout_ms):
                not_done.add(None)  # type: ignore[arg-type]
        self._callbacks.clear()
        self._work.clear()
        self._results.clear()
        if self._own_runtime:
            self.runtime.shutdown_pool(wait=False)  # nothing of ours runs any more
        return not not_done
