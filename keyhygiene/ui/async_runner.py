"""Qt side of the one asyncio loop (``service.runtime.Runtime``): coroutine outcomes as GUI-thread callbacks.

The loop itself, on its background thread, belongs to the service layer; for the window, every ccxt client is
created, used and closed in the service layer's exchange process, which the loop talks to. The GUI submits
coroutines with ``submit``; their outcome comes back to the GUI thread through a queued Qt signal, so callbacks
may touch widgets. Code running on the loop (e.g. an ``on_result`` callback of an audit) hands values to the GUI
with ``call_in_gui``.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from keyhygiene.service.runtime import Runtime
from keyhygiene.ui.callbacks import deliver

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

log = logging.getLogger(__name__)

OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class AsyncRunner(QObject):
    # Carries a zero-argument callable; emitted from the loop thread, received on the GUI thread (queued).
    _delivered = Signal(object)
    # The ticket of a finished coroutine; its outcome waits in ``_outcomes``.
    _settled = Signal(int)

    def __init__(self, parent: QObject | None = None, *, runtime: Runtime | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime if runtime is not None else Runtime()
        # The window's exchange work runs in a child process: ccxt parsing replies on a thread of this process held
        # the GIL every paint needs (234-522 ms stalls during a 200-key audit, against 16-49 ms with ccxt in a
        # child; service/exchange_executor.py). The child starts at the first check, never before the first frame.
        self.runtime.use_exchange_process()
        self._tickets = itertools.count(1)
        self._callbacks: dict[int, tuple[OnDone | None, OnError | None, QObject | None]] = {}
        self._outcomes: dict[int, tuple[tuple[Any] | None, BaseException | None]] = {}
        # Queued even when emitted on the GUI thread: a coroutine that is already done when ``submit`` registers
        # its callback must not run the caller's ``on_done`` inside ``submit`` (the caller has not finished the
        # statement that asked; re-entering it started a rotation's key test twice).
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)
        self._settled.connect(self._on_settled, Qt.ConnectionType.QueuedConnection)

    # ---- lifecycle (the runtime's loop) -------------------------------------------------------------------------
    def start(self) -> None:
        self.runtime.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.runtime.loop

    @property
    def running(self) -> bool:
        return self.runtime.running

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel whatever still runs (ccxt clients close in their ``finally``), then end the loop's thread."""
        self.runtime.stop_loop(timeout)

    # ---- submitting work -------------------------------------------------------------------------------------
    def submit(
        self,
        coro: Coroutine[Any, Any, Any],
        on_done: OnDone | None = None,
        on_error: OnError | None = None,
        context: QObject | None = None,
    ) -> concurrent.futures.Future[Any]:
        """Schedule ``coro`` on the loop. ``on_done``/``on_error`` run on the GUI thread, and are skipped when
        ``context`` (typically the dialog that asked) has been deleted meanwhile. RuntimeError once stopped."""
        fut = self.runtime.submit(coro)
        ticket = next(self._tickets)
        # The callbacks stay on the GUI thread; the loop thread only ever holds the ticket, so a dialog's last
        # reference can never be dropped (and the dialog destroyed) on the loop thread.
        self._callbacks[ticket] = (on_done, on_error, context)
        fut.add_done_callback(functools.partial(self._future_done, ticket))
        return fut

    def _future_done(self, ticket: int, f: concurrent.futures.Future[Any]) -> None:
        # Stored GUI-side before signalling, so the loop thread never holds the last reference to a result.
        if f.cancelled():
            self._outcomes[ticket] = (None, None)
        elif f.exception() is not None:
            self._outcomes[ticket] = (None, f.exception())
        else:
            self._outcomes[ticket] = ((f.result(),), None)
        self._settled.emit(ticket)

    @Slot(int)
    def _on_settled(self, ticket: int) -> None:
        result, exc = self._outcomes.pop(ticket, (None, None))
        on_done, on_error, context = self._callbacks.pop(ticket, (None, None, None))
        if exc is not None:
            if on_error is not None:
                self._invoke(lambda: deliver(context, on_error, exc))
            else:
                log.error("background task failed", exc_info=exc)
        elif result is not None and on_done is not None:
            self._invoke(lambda: deliver(context, on_done, result[0]))

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread (e.g. ``event.set`` of an ``asyncio.Event``)."""
        self.runtime.call_soon(fn, *args)

    def call_in_gui(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the GUI thread, from any thread."""
        self._delivered.emit(lambda: fn(*args))

    @Slot(object)
    def _on_delivered(self, thunk: Callable[[], None]) -> None:
        self._invoke(thunk)

    @staticmethod
    def _invoke(thunk: Callable[[], None]) -> None:
        try:
            thunk()
        except Exception:
            # Logged for the user's log file, re-raised so Qt (and pytest-qt in tests) report it too.
            log.exception("GUI callback of a background task failed")
            raise

    def pending(self) -> int:
        return self.runtime.pending()
