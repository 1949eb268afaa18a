"""The window's performance workarounds, by name, and the switch that turns one off to measure what it buys
(``tests/benchmarks/run.py``, the ``workaround_*`` lines). Each stays only while its line shows it pays:

- ``import_hook``: PySide's import hook stops reading every imported module's source (``ui/pyside_import_hook.py``).

Never set outside a benchmark.
"""

from __future__ import annotations

import os

WITHOUT_ENV = "KEYHYGIENE_BENCH_WITHOUT"
NAMES = ("import_hook",)
# Gone with ccxt in the exchange process (service/exchange_executor.py; issue 21), measured by their lines:
# ``warmup`` (importing ccxt in the window's process before the first request: the window never imports it now;
# 0.92-2.5, noise) and ``switchinterval`` (a 20 us GIL switch interval: the window's process has little Python
# work left beside the GUI thread; medians of 3 interleaved audits 1.16-1.29 at load 2-3, 0.92-1.19 at load 1-2).
# ``gc_guard`` (ui/gc_guard.py) is no workaround any more but always on: it is what keeps a Qt object in a garbage
# cycle from being destroyed on a worker thread (a crash), while its stall benefit is gone with ccxt (line medians
# 0.44-1.33; no collection over 5 ms during the audit with it on).


def enabled(name: str) -> bool:
    """False when a benchmark turned this workaround off (``KEYHYGIENE_BENCH_WITHOUT=name[,name]``)."""
    return name not in os.environ.get(WITHOUT_ENV, "").split(",")
