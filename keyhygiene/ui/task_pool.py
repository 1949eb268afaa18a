"""Blocking work off the GUI thread (Picard's pattern): keychain calls, which may wait on an unlock prompt,
and anything else that can take longer than a frame (loading ccxt's exchange list, writing many rows).

Results come back on the GUI thread through a queued signal, never by touching widgets from the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from keyhygiene.ui.callbacks import deliver

log = logging.getLogger(__name__)


class _Job(QRunnable):
    def __init__(self, pool: TaskPool, fn: Callable[[], Any], on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None, context: QObject | None) -> None:
        super().__init__()
        self._pool, self._fn = pool, fn
        self._on_done, self._on_error, self._context = on_done, on_error, context

    def run(self) -> None:
        try:
            value = self._fn()
        except BaseException as exc:  # a worker must never take the process down
            if self._on_error is not None:
                self._pool._hand_back(self._context, self._on_error, exc)
            else:
                log.error("background job failed", exc_info=exc)
        else:
            if self._on_done is not None:
                self._pool._hand_back(self._context, self._on_done, value)
        finally:
            self._pool._job_ended()


class TaskPool(QObject):
    _delivered = Signal(object)
    idle = Signal()

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Our own pool, so shutting down waits for our jobs only and a slow keychain never starves Qt's.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._lock = threading.Lock()
        self._running = 0
        self._closed = False
        self._delivered.connect(self._on_delivered)

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
        with self._lock:
            self._running += 1
        self._pool.start(_Job(self, lambda: fn(*args), on_done, on_error, context))

    def active(self) -> int:
        with self._lock:
            return self._running

    def _hand_back(self, context: QObject | None, fn: Callable[[Any], None], value: Any) -> None:
        self._delivered.emit(lambda: deliver(context, fn, value))

    def _job_ended(self) -> None:
        with self._lock:
            self._running -= 1
            now_idle = self._running == 0
        if now_idle:
            self._delivered.emit(self.idle.emit)

    @Slot(object)
    def _on_delivered(self, thunk: Callable[[], None]) -> None:
        try:
            thunk()
        except Exception:
            log.exception("GUI callback of a background job failed")
            raise

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Wait for running jobs; queued ones that have not started are dropped."""
        self._closed = True
        self._pool.clear()
        return bool(self._pool.waitForDone(timeout_ms))
