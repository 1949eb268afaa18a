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
    """Holds only the work and a ticket: the callbacks stay on the GUI thread (see ``TaskPool._callbacks``)."""

    def __init__(self, pool: TaskPool, ticket: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._pool, self._ticket, self._fn = pool, ticket, fn

    def run(self) -> None:
        fn, self._fn = self._fn, None  # type: ignore[assignment]
        try:
            value = fn()
        except BaseException as exc:  # a worker must never take the process down
            self._pool._finished.emit(self._ticket, False, exc)
        else:
            self._pool._finished.emit(self._ticket, True, value)
        finally:
            del fn
            self._pool._job_ended()


class TaskPool(QObject):
    # (ticket, ok, value or exception): emitted on a worker, delivered on the GUI thread.
    _finished = Signal(int, bool, object)
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
        with self._lock:
            self._running += 1
        self._pool.start(_Job(self, ticket, functools.partial(fn, *args)))

    def active(self) -> int:
        with self._lock:
            return self._running

    def _job_ended(self) -> None:
        with self._lock:
            self._running -= 1
            now_idle = self._running == 0
        if now_idle:
            self._idle_now.emit()

    @Slot(int, bool, object)
    def _on_finished(self, ticket: int, ok: bool, value: Any) -> None:
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
        return done
