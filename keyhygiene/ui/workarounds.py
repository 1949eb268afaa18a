"""The window's performance workarounds, by name, and the switch that turns one off to measure what it buys
(``tests/benchmarks/run.py``, the ``workaround_*`` lines). Each stays only while its line shows it pays:

- ``gc_guard``: Python's cyclic collector runs on the GUI thread only, and freezes the long-lived heap
  (``ui/gc_guard.py``; also what keeps Qt objects from being destroyed on a worker thread);
- ``switchinterval``: the GIL is handed back to the GUI thread within 20 us instead of 5 ms (``app.py``);
- ``warmup``: the exchange stack is imported while the window shows the queued keys (``exchanges/warmup.py``).

PySide's import hook no longer reading every imported module's source (``ui/pyside_import_hook.py``) is always on:
its startup line read 0.88-1.12 (wall clock) for 1.4 % fewer instructions.

Never set outside a benchmark.
"""

from __future__ import annotations

import os

WITHOUT_ENV = "KEYHYGIENE_BENCH_WITHOUT"
NAMES = ("gc_guard", "switchinterval", "warmup")


def enabled(name: str) -> bool:
    """False when a benchmark turned this workaround off (``KEYHYGIENE_BENCH_WITHOUT=name[,name]``)."""
    return name not in os.environ.get(WITHOUT_ENV, "").split(",")
