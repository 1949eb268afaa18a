"""What-if for the ``memory`` line: the window's modules, imported into a shown window, with some left out.

``python tests/benchmarks/window_imports.py SNAPSHOT.json [EXCLUDED,...]`` shows a bare QMainWindow at the app's
size, then imports every module named in ``SNAPSHOT.json`` (``modules`` of a ``process_snapshot`` taken with
``KEYHYGIENE_BENCH_MODULES``: the window's own import order) except the excluded ones (a name excludes its
submodules too), and prints the RSS those imports added. RSS, not time: the figure does not depend on the load.

Leaving a package out only says what it costs if nothing else imports it: a module that an excluded one imported
is still imported when it is in the list itself (``ssl`` is imported by both ``asyncio`` and keyring's chain), so
exclude it too when no remaining module needs it (check with ``python -X importtime``).
"""

from __future__ import annotations

import gc
import importlib
import json
import sys

from peak_rss import peak_rss_kb

DIAGNOSTIC_MODULES = ("tracemalloc", "process_snapshot", "__main__")  # imported by the snapshot itself


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return peak_rss_kb()


def excluded(name: str, prefixes: list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def main(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    window = QMainWindow()
    window.resize(1360, 840)  # the app's first size (ui/main_window.py)
    window.show()
    app.processEvents()
    with open(argv[0], encoding="utf-8") as f:
        modules = json.load(f)["modules"]
    prefixes = [*DIAGNOSTIC_MODULES, *filter(None, (argv[1] if len(argv) > 1 else "").split(","))]
    before = rss_kb()
    failed = []
    for name in modules:
        if name in sys.modules or excluded(name, prefixes):
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that needs an excluded one: it is left out as well
            failed.append(name)
    gc.collect()
    loaded = [p for p in ("ssl", "hashlib", "asyncio", "keyring") if p in sys.modules]
    print(f"{(rss_kb() - before) / 1024:.1f} MB over the shown window; {len(sys.modules)} modules; "
          f"loaded: {', '.join(loaded) or '-'}; failed: {', '.join(failed) or '-'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
