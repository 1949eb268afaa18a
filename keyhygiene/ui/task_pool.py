"""Blocking work off the GUI thread (Picard's pattern): keychain calls, which may wait on an unlock prompt,
and anything else that can take longer than a frame (loading ccxt's exchange list, writing many rows).

Results come back on the GUI thread through a queued signal, never by touching widgets from the worker.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from keyhygiene.ui.callbacks import deliver

log = logging.getLogger(__name__)


class _Job(QRunnable):
    """Holds only a ticket. The work, its callbacks and its result are owned by the GUI-side ``TaskPool``."""

    def __init__(self, pool: TaskPool, ticket: int) -> None:
        super().__init__()
        self._pool, self._ticket = pool, ticket

    def run(self) -> None:
        pool, ticket = self._pool, self._ticket
        fn = pool._work.get(ticket)
        try:
            result: tuple[bool, Any] = (True, fn() if fn is not None else None)
        except BaseException as exc:  # a worker must never take the process down
            result = (False, exc)
        # Hand everything over before signalling: the worker must not hold the last reference to anything
        # (the work may be a dialog's bound method, an exception's traceback may hold the dialog).
        del fn
        pool._results[ticket] = result
        del result
        pool._finished.emit(ticket)
        pool._job_ended()


class TaskPool(QObject):
    # A job's ticket: emitted on a worker, delivered on the GUI thread, which then picks up the result.
    _finished = Signal(int)
    _idle_now = Signal()
    idle = Signal()

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Our own pool, so shutting down waits for our jobs only and a slow keychain never starves Qt's.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
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
        self._finished.connect(self._on_finished)
        self._idle_now.connect(self.idle)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
    ) -> None:
        """Run ``fn(*args)`` on a worker; ``on_done(result)`` / ``on_error(exc)`` on the GUI thread."""
        if self._closed:
            raise RuntimeError("the task pool is shut down")
        ticket = next(self._tickets)
        self._callbacks[ticket] = (on_done, on_error, context)
        self._work[ticket] = functools.partial(fn, *args)
        with self._lock:
            self._running += 1
        self._pool.start(_Job(self, ticket))

    def active(self) -> int:
        with self._lock:
            return self._running

    def _job_ended(self) -> None:
        with self._lock:
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
        """Wait for running jobs; queued ones that have not started are dropped."""
        self._closed = True
        self._pool.clear()
        done = bool(self._pool.waitForDone(timeout_ms))
        self._callbacks.clear()
        self._work.clear()
        self._results.clear()
        return done
