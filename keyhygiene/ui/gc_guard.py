"""Run Python's cyclic garbage collector on the GUI thread only.

The collector runs on whichever thread happens to allocate when a threshold is crossed. If that is a worker
(the task pool, the asyncio thread) and the garbage holds a Qt object in a reference cycle (a dialog and a lambda
that references it), the object is destroyed on the wrong thread and Qt crashes later, at random. The usual cure
for PySide/PyQt applications: switch automatic collection off and collect from a GUI-thread timer instead.

Always on in the window (not a benchmark-switchable workaround since issue 21: its stall benefit went with ccxt
into the exchange process; what remains is the thread safety above). A full collection walks every tracked object:
with ccxt loaded that was ~1.5 million of them and 50-65 ms during which the window could not paint. ``freeze``
moves what exists at that moment (modules, classes, functions: things that live as long as the process) out of the
collector's sight, so later collections only look at what is new.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

BURST_OBJECTS = 100_000


class MainThreadGC(QObject):
    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None, *,
                 restore_enabled: bool | None = None) -> None:
        """``restore_enabled``: whether ``stop`` switches automatic collection back on (default: whether it is on
        now; the app switches it off before building the window and passes what it was)."""
        super().__init__(parent)
        self._was_enabled = gc.isenabled() if restore_enabled is None else restore_enabled
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start(interval_ms)

    def freeze(self) -> None:
        """Park every object that exists now in the permanent generation (O(1); the few cyclic garbage among
        them is kept, which is the price of never walking the rest again)."""
        gc.freeze()

    def _on_timer_timeout(self) -> None:
        # The same generational policy as CPython's automatic collection, just on this thread.
        counts = gc.get_count()
        t0, t1, t2 = self._threshold
        if counts[0] > BURST_OBJECTS:
            # Hundreds of thousands of new objects within a second are an import (ccxt, the registry): they live
            # as long as the process. Walking them would block the window for 50-70 ms; freeze them instead.
            self.freeze()
            return
        if counts[0] > t0:
            gen = 2 if counts[2] > t2 else 1 if counts[1] > t1 else 0
            gc.collect(gen)

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()
